//! Image work off the async worker threads.
//!
//! One rayon pool, one thread per core (see the `media` docs for why).
//!
//! Dropping the future does not stop a job that has started; a queued job
//! holds its upload's bytes until it runs.

use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use rayon::{ThreadPool, ThreadPoolBuilder};

use super::images::{process_avatar, process_image, ImageError, ProcessedImage};

/// [`process_image`] on the image threads, off the async workers.
pub async fn process_image_off_thread(bytes: Vec<u8>) -> Result<ProcessedImage, ImageError> {
    run_off_thread(move || process_image(&bytes)).await
}

/// [`process_avatar`] on the image threads, off the async workers.
pub async fn process_avatar_off_thread(bytes: Vec<u8>) -> Result<ProcessedImage, ImageError> {
    run_off_thread(move || process_avatar(&bytes)).await
}

/// The image threads: one per core, started on first use.
fn pool() -> Result<&'static ThreadPool, ImageError> {
    static POOL: OnceLock<Result<ThreadPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("chatcore-image-{i}"))
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| ImageError::Unavailable(e.clone()))
}

async fn run_off_thread(
    work: impl FnOnce() -> Result<ProcessedImage, ImageError> + Send + 'static,
) -> Result<ProcessedImage, ImageError> {
    let (done, result) = tokio::sync::oneshot::channel();
    pool()?.spawn(move || {
        // A panic must not take the pool's thread down (rayon would abort).
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
            Err(ImageError::Undecodable(
                "the image decoder failed".to_owned(),
            ))
        });
        let _ = done.send(outcome);
    });
    result
        .await
        .map_err(|_| ImageError::Undecodable("the image task was lost".to_owned()))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::test_images::{encoded, gradient};
    use std::sync::{Arc, Mutex};

    #[tokio::test]
    async fn off_thread_wrappers_process() {
        let png = encoded(&gradient(300, 200), image::ImageFormat::Png);
        let image = process_image_off_thread(png.clone()).await.unwrap();
        assert_eq!((image.width, image.height), (300, 200));
        let avatar = process_avatar_off_thread(png).await.unwrap();
        assert_eq!((avatar.width, avatar.height), (200, 200));
        assert_eq!(
            process_image_off_thread(b"<svg/>".to_vec()).await,
            Err(ImageError::Unsupported)
        );
    }

    #[tokio::test]
    async fn a_panicking_decoder_is_undecodable() {
        let ran_on = Arc::new(Mutex::new(None));
        let record = Arc::clone(&ran_on);
        let outcome = run_off_thread(move || {
            *record.lock().unwrap() = std::thread::current().name().map(str::to_owned);
            panic!("decoder bug");
        })
        .await;
        assert!(matches!(outcome, Err(ImageError::Undecodable(_))));
        let thread = ran_on.lock().unwrap().clone().unwrap();
        assert!(thread.starts_with("chatcore-image-"), "{thread}");
        // The pool still works afterwards.
        let png = encoded(&gradient(3, 3), image::ImageFormat::Png);
        assert!(process_image_off_thread(png).await.is_ok());
    }

    /// On a single-threaded runtime the only async worker is the test thread:
    /// if the work ran inline, the other future could not run before it ends.
    #[tokio::test(flavor = "current_thread")]
    async fn the_async_worker_stays_free() {
        let order = Mutex::new(Vec::new());
        let png = encoded(&gradient(600, 400), image::ImageFormat::Png);
        let work = async {
            process_avatar_off_thread(png).await.unwrap();
            order.lock().unwrap().push("image done");
        };
        let other = async {
            order.lock().unwrap().push("worker free");
        };
        tokio::join!(work, other);
        assert_eq!(*order.lock().unwrap(), vec!["worker free", "image done"]);
    }
}
