//! A small circuit breaker per chain member: after `failure_threshold`
//! failed turns in a row the member is skipped for `cooldown`; then one
//! request probes it (half-open). A successful probe closes the breaker, a
//! failed one opens it for another cooldown.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Circuit-breaker settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Failed turns in a row (each after its retries) that open the breaker.
    /// Default 3. Zero disables the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker skips its provider. Default 30 s.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 3,
            cooldown: Duration::from_secs(30),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_started: Instant },
}

/// What the breaker allows for the next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Use the provider normally (with retries).
    Normal,
    /// Try the provider once to see whether it recovered.
    Probe,
    /// Skip it; it cools down for this much longer.
    Skip(Duration),
}

/// One provider's breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Breaker {
            config,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn admit(&self) -> Admission {
        let now = Instant::now();
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Admission::Normal,
            State::Open { until } if now < until => Admission::Skip(until - now),
            State::Open { .. } => {
                *state = State::HalfOpen { probe_started: now };
                Admission::Probe
            }
            // A probe is in flight; if it never resolved (its request was
            // dropped), allow another after a cooldown.
            State::HalfOpen { probe_started } => {
                let waited = now - probe_started;
                if waited >= self.config.cooldown {
                    *state = State::HalfOpen { probe_started: now };
                    Admission::Probe
                } else {
                    Admission::Skip(self.config.cooldown - waited)
                }
            }
        }
    }

    /// The provider answered (or showed it is reachable).
    pub(crate) fn success(&self) {
        *self.lock() = State::Closed { failures: 0 };
    }

    /// The provider failed a turn. Returns true when this opened the breaker.
    pub(crate) fn failure(&self) -> bool {
        if self.config.failure_threshold == 0 {
            return false;
        }
        let now = Instant::now();
        let mut state = self.lock();
        let open = State::Open {
            until: now + self.config.cooldown,
        };
        match *state {
            State::Closed { failures } if failures + 1 < self.config.failure_threshold => {
                *state = State::Closed {
                    failures: failures + 1,
                };
                false
            }
            _ => {
                *state = open;
                true
            }
        }
    }

    /// Whether requests skip the provider right now.
    pub(crate) fn is_cooling_down(&self) -> bool {
        self.cooling_down_for().is_some()
    }

    /// How much longer requests skip the provider, if they do. Unlike
    /// [`Breaker::admit`] this changes nothing (it claims no probe).
    pub(crate) fn cooling_down_for(&self) -> Option<Duration> {
        let now = Instant::now();
        let until = match *self.lock() {
            State::Closed { .. } => return None,
            State::Open { until } => until,
            State::HalfOpen { probe_started } => probe_started + self.config.cooldown,
        };
        (now < until).then(|| until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_threshold_then_probes() {
        let breaker = Breaker::new(BreakerConfig {
            failure_threshold: 2,
            cooldown: Duration::from_secs(10),
        });
        assert_eq!(breaker.admit(), Admission::Normal);
        assert!(!breaker.failure());
        assert_eq!(breaker.admit(), Admission::Normal);
        assert!(breaker.failure());
        assert!(breaker.is_cooling_down());
        assert_eq!(breaker.admit(), Admission::Skip(Duration::from_secs(10)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.admit(), Admission::Probe);
        // Only one probe at a time.
        assert!(matches!(breaker.admit(), Admission::Skip(_)));
        // A failed probe opens it again at once.
        assert!(breaker.failure());
        assert!(matches!(breaker.admit(), Admission::Skip(_)));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.admit(), Admission::Probe);
        breaker.success();
        assert_eq!(breaker.admit(), Admission::Normal);
        assert!(!breaker.is_cooling_down());
    }

    #[tokio::test(start_paused = true)]
    async fn success_resets_the_count_and_zero_disables() {
        let breaker = Breaker::new(BreakerConfig {
            failure_threshold: 2,
            cooldown: Duration::from_secs(1),
        });
        breaker.failure();
        breaker.success();
        assert!(!breaker.failure());
        let off = Breaker::new(BreakerConfig {
            failure_threshold: 0,
            cooldown: Duration::from_secs(1),
        });
        for _ in 0..10 {
            assert!(!off.failure());
        }
        assert_eq!(off.admit(), Admission::Normal);
    }

    #[tokio::test(start_paused = true)]
    async fn abandoned_probe_is_retried_after_a_cooldown() {
        let breaker = Breaker::new(BreakerConfig {
            failure_threshold: 1,
            cooldown: Duration::from_secs(5),
        });
        breaker.failure();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.admit(), Admission::Probe);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.admit(), Admission::Probe);
    }
}
