//! Time and id generation that stay ordered within one process.
//!
//! Messages are ordered by `(timestamp, id)`. Two messages written in the same
//! microsecond would otherwise tie, so [`now`] never returns the same instant
//! twice in a process and [`new_v7`] never returns a smaller id than before.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};
use uuid::{ContextV7, Timestamp, Uuid};

static LAST_MICROS: AtomicI64 = AtomicI64::new(0);
static V7_CONTEXT: Mutex<Option<ContextV7>> = Mutex::new(None);

/// The current UTC time at microsecond precision, strictly increasing within
/// this process (the precision both SQL backends store losslessly).
pub fn now() -> DateTime<Utc> {
    let wall = Utc::now().timestamp_micros();
    let mut last = LAST_MICROS.load(Ordering::Relaxed);
    loop {
        let next = if wall > last { wall } else { last + 1 };
        match LAST_MICROS.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return from_micros(next),
            Err(seen) => last = seen,
        }
    }
}

/// Converts microseconds since the Unix epoch to a UTC time.
pub fn from_micros(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// A UUID v7 that is greater than every v7 id this process made before.
pub fn new_v7() -> Uuid {
    let mut guard = match V7_CONTEXT.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    let context = guard.get_or_insert_with(ContextV7::new);
    Uuid::new_v7(Timestamp::now(&*context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_strictly_increasing() {
        let mut previous = now();
        for _ in 0..10_000 {
            let next = now();
            assert!(next > previous);
            previous = next;
        }
    }

    #[test]
    fn v7_ids_are_strictly_increasing() {
        let mut previous = new_v7();
        for _ in 0..10_000 {
            let next = new_v7();
            assert!(next > previous);
            assert_eq!(next.get_version_num(), 7);
            previous = next;
        }
    }
}
