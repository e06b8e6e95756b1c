//! [`PoolConfig`]: connection-pool settings shared by both backends.

use std::time::Duration;

/// Connection-pool settings for [`connect_with`](crate::connect_with) and the
/// stores' `connect_with` constructors.
///
/// ```
/// use std::time::Duration;
/// use chatcore_sqlx::PoolConfig;
///
/// let config = PoolConfig::default()
///     .with_max_connections(20)
///     .with_acquire_timeout(Duration::from_secs(3));
/// assert_eq!(config.max_connections(), Some(20));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    max_connections: Option<u32>,
    acquire_timeout: Duration,
}

impl PoolConfig {
    /// How long a query waits for a free connection before failing, by default.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

    /// Sets the pool size (at least 1). Unset, each backend picks its default:
    /// 10 for PostgreSQL, 8 readers for a SQLite file (its one writer
    /// connection comes on top), and always 1 for an in-memory SQLite
    /// database (which lives exactly as long as its one connection).
    pub fn with_max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = Some(max_connections.max(1));
        self
    }

    /// Sets how long a query waits for a free connection.
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The configured pool size, if any.
    pub fn max_connections(&self) -> Option<u32> {
        self.max_connections
    }

    /// The configured acquire timeout.
    pub fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: None,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}
