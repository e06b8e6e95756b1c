//! argon2id password hashing on a small dedicated thread pool.
//!
//! One hash costs ~40 ms of CPU and 19 MiB of memory. Hashing on an async
//! worker thread would stall every request on that worker, so it runs on a
//! rayon pool of its own with one thread per core (by default): a login
//! flood queues there, first come first served, instead of allocating
//! 19 MiB per concurrent request.
//!
//! The threads are fixed, not tokio's blocking pool: with glibc, each thread
//! that frees a 19 MiB buffer keeps it in its own malloc arena, and tokio's
//! blocking pool hands hashes to ever new threads, so the server's memory
//! grew with the number of threads that ever hashed (~350 MB in a 50-login
//! flood). On a fixed pool, each thread keeps one work area and reuses it
//! (`password_memory.rs`), so hashing holds exactly one work area per thread.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};

use crate::password_memory;
use rayon::{ThreadPool, ThreadPoolBuilder};

/// Why hashing or verifying could not be done (not "wrong password").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The argon2 parameters are invalid.
    #[error("invalid argon2 parameters: {0}")]
    Params(String),
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The hashing task could not be run or panicked.
    #[error("password hashing task failed")]
    Task,
    /// The hashing threads could not be started.
    #[error("could not start the password hashing threads: {0}")]
    Pool(String),
}

/// argon2id hashing with the OWASP parameters (m = 19456 KiB, t = 2, p = 1).
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    pool: Arc<ThreadPool>,
    threads: usize,
    dummy_hash: Arc<String>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("threads", &self.threads)
            .finish()
    }
}

impl PasswordHasher {
    /// OWASP parameters, one hashing thread per CPU core.
    pub fn new() -> Result<Self, PasswordError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_params(Params::DEFAULT, cores)
    }

    /// Cheap parameters (m = 8 KiB, t = 1) for tests only: never in production.
    pub fn insecure_fast_for_tests() -> Result<Self, PasswordError> {
        let params =
            Params::new(8, 1, 1, None).map_err(|e| PasswordError::Params(e.to_string()))?;
        Self::with_params(params, 4)
    }

    /// Explicit parameters and number of hashing threads (at least 1).
    pub fn with_params(params: Params, concurrency: usize) -> Result<Self, PasswordError> {
        let threads = concurrency.max(1);
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("chatcore-argon2-{i}"))
            .build()
            .map_err(|e| PasswordError::Pool(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        // Verifying unknown emails against this hash makes them cost the same
        // as a wrong password (no user enumeration by timing).
        let dummy_hash = argon
            .hash_password(b"chatcore-dummy-password")
            .map_err(|e| PasswordError::Hash(e.to_string()))?
            .to_string();
        Ok(PasswordHasher {
            params,
            pool: Arc::new(pool),
            threads,
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// Hashes a password into a PHC string, off the async worker threads.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.run_blocking(move || {
            password_memory::hash(&params, password.as_bytes()).map_err(PasswordError::Hash)
        })
        .await?
    }

    /// Checks a password against a PHC string, off the async worker threads.
    /// `None` as the hash verifies against a dummy hash and returns `false`,
    /// taking the same time as a real check.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> Result<bool, PasswordError> {
        let known = phc.is_some();
        let phc = phc.map_or_else(|| self.dummy_hash.as_str().to_owned(), str::to_owned);
        let password = password.to_owned();
        let matches = self
            .run_blocking(move || password_memory::verify(password.as_bytes(), &phc))
            .await?;
        Ok(known && matches)
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            // A panic must not take the pool's thread down (rayon would
            // abort); the caller sees `Task` instead.
            if let Ok(value) = std::panic::catch_unwind(AssertUnwindSafe(work)) {
                let _ = done.send(value);
            }
        });
        result.await.map_err(|_| PasswordError::Task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = PasswordHasher::insecure_fast_for_tests().unwrap();
        let phc = hasher.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"));
        assert!(hasher.verify("correct horse", Some(&phc)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&phc)).await.unwrap());
        assert!(!hasher.verify("correct horse", None).await.unwrap());
        assert!(!hasher.verify("x", Some("not a phc string")).await.unwrap());
    }

    #[tokio::test]
    async fn default_parameters_are_owasp() {
        let hasher = PasswordHasher::new().unwrap();
        let phc = hasher.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    }

    /// On a single-threaded runtime the only async worker is the test thread.
    /// If hashing ran inline, the hash future would finish in its first poll,
    /// before the other future of the `join!` ran; offloaded, the other future
    /// runs while the hash is computed elsewhere.
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_does_not_run_on_the_async_worker() {
        let hasher = PasswordHasher::new().unwrap();
        let order = Mutex::new(Vec::new());
        let worker = std::thread::current().id();
        let hash = async {
            let phc = hasher.hash("correct horse").await.unwrap();
            order.lock().unwrap().push("hash finished");
            phc
        };
        let other = async {
            order.lock().unwrap().push("worker free");
            assert_eq!(std::thread::current().id(), worker);
        };
        let (phc, ()) = tokio::join!(hash, other);
        assert!(phc.starts_with("$argon2id$"));
        assert_eq!(*order.lock().unwrap(), vec!["worker free", "hash finished"]);
    }
}
