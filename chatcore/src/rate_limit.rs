//! A sliding-window counter per key: "at most N events per window".
//!
//! Used for the login limit (failed logins per email and per IP) and the
//! message limit (accepted messages per user). Time comes from tokio's clock,
//! so tests can pause it.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// Counts events per key in a sliding window. A limit of 0 turns it off.
#[derive(Debug)]
pub struct SlidingWindow<K> {
    limit: usize,
    window: Duration,
    hits: Mutex<HashMap<K, VecDeque<Instant>>>,
}

impl<K: Eq + Hash + Clone> SlidingWindow<K> {
    /// At most `limit` events per `window` for each key; `limit == 0` allows everything.
    pub fn new(limit: u32, window: Duration) -> Self {
        SlidingWindow {
            limit: limit as usize,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the limiter is on.
    pub fn is_enabled(&self) -> bool {
        self.limit > 0
    }

    fn hits(&self) -> MutexGuard<'_, HashMap<K, VecDeque<Instant>>> {
        match self.hits.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn blocked_for(&self, queue: &mut VecDeque<Instant>, now: Instant) -> Option<Duration> {
        while queue
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            queue.pop_front();
        }
        if queue.len() >= self.limit {
            let oldest = *queue.front()?;
            Some(self.window.saturating_sub(now.duration_since(oldest)))
        } else {
            None
        }
    }

    /// `Err(wait)` when `key` has used up its events in the current window.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if !self.is_enabled() {
            return Ok(());
        }
        let now = Instant::now();
        let mut hits = self.hits();
        match hits.get_mut(key) {
            Some(queue) => match self.blocked_for(queue, now) {
                Some(wait) => Err(wait),
                None => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Records one event for `key`.
    pub fn record(&self, key: &K) {
        if !self.is_enabled() {
            return;
        }
        let now = Instant::now();
        let mut hits = self.hits();
        self.prune(&mut hits, now);
        let queue = hits.entry(key.clone()).or_default();
        queue.push_back(now);
        while queue.len() > self.limit {
            queue.pop_front();
        }
    }

    /// Checks and records in one step: `Err(wait)` without recording when over the limit.
    pub fn try_acquire(&self, key: &K) -> Result<(), Duration> {
        if !self.is_enabled() {
            return Ok(());
        }
        let now = Instant::now();
        let mut hits = self.hits();
        self.prune(&mut hits, now);
        let queue = hits.entry(key.clone()).or_default();
        if let Some(wait) = self.blocked_for(queue, now) {
            return Err(wait);
        }
        queue.push_back(now);
        Ok(())
    }

    /// Gives back the latest event recorded for `key` (an accepted request
    /// that turned out to be rejected after all).
    pub fn release(&self, key: &K) {
        if let Some(queue) = self.hits().get_mut(key) {
            queue.pop_back();
        }
    }

    /// Forgets `key` (e.g. after a successful login... when wanted).
    pub fn forget(&self, key: &K) {
        self.hits().remove(key);
    }

    /// Drops keys whose events have all aged out, once the map grows.
    fn prune(&self, hits: &mut HashMap<K, VecDeque<Instant>>, now: Instant) {
        if hits.len() < 1024 {
            return;
        }
        hits.retain(|_, queue| {
            queue
                .back()
                .is_some_and(|t| now.duration_since(*t) < self.window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn blocks_after_the_limit_until_the_window_passes() {
        let limiter = SlidingWindow::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.try_acquire(&"k").is_ok());
        }
        let wait = limiter.try_acquire(&"k").unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        assert!(limiter.try_acquire(&"other").is_ok());
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(limiter.check(&"k").unwrap_err(), Duration::from_secs(30));
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(limiter.check(&"k").is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn zero_limit_is_off() {
        let limiter = SlidingWindow::new(0, Duration::from_secs(60));
        for _ in 0..1000 {
            assert!(limiter.try_acquire(&1).is_ok());
        }
    }
}
