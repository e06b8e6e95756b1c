//! [`LocalDirMedia`]: blobs as files in one directory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use super::{MediaError, MediaKey, MediaStore};

/// Prefix of the temporary files a `put` writes before renaming them into
/// place. A key never starts with a dot, so a leftover from a crash can never
/// be read as a blob, and `.upload-*` files older than a few minutes can be
/// removed by anyone cleaning the directory.
const TEMP_PREFIX: &str = ".upload-";

/// A [`MediaStore`] that keeps each blob in a file named by its key, directly
/// in one directory: the path of a blob is `dir/<key>`, nothing else, and a
/// key is always a plain file name (see [`MediaKey`]).
///
/// A `put` writes a temporary file in the same directory, flushes it to disk
/// and renames it over the final name, so the final name holds either the
/// whole blob or nothing, even after a crash; a failed `put` removes its
/// temporary file. Files are created readable by the owner only (`0600` on
/// Unix): serve them through the application, not by a separate web server
/// reading the directory. File I/O runs on tokio's blocking threads.
///
/// ```no_run
/// # fn demo() -> Result<(), chatcore::MediaError> {
/// let media = chatcore::LocalDirMedia::new("/var/lib/chat/uploads")?;
/// # let _ = media;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct LocalDirMedia {
    dir: Arc<PathBuf>,
}

impl LocalDirMedia {
    /// A store in `dir`, created (with its parents) if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Result<LocalDirMedia, MediaError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, e))?;
        Ok(LocalDirMedia { dir: Arc::new(dir) })
    }

    /// The directory holding the blobs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, key: &MediaKey) -> PathBuf {
        self.dir.join(key.as_str())
    }
}

#[async_trait]
impl MediaStore for LocalDirMedia {
    async fn put(&self, key: &MediaKey, bytes: Vec<u8>) -> Result<(), MediaError> {
        let dir = Arc::clone(&self.dir);
        let path = self.path_of(key);
        blocking(move || write_atomically(&dir, &path, &bytes)).await
    }

    async fn get(&self, key: &MediaKey) -> Result<Option<Vec<u8>>, MediaError> {
        let path = self.path_of(key);
        blocking(move || match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read", &path, e)),
        })
        .await
    }

    async fn delete(&self, key: &MediaKey) -> Result<(), MediaError> {
        let path = self.path_of(key);
        blocking(move || match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("delete", &path, e)),
            _ => Ok(()),
        })
        .await
    }
}

/// Writes `bytes` to a temporary file in `dir`, syncs it and renames it to
/// `path`. The temporary file is removed when anything fails (dropping a
/// `NamedTempFile`, or the `PersistError` that holds it, deletes it).
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), MediaError> {
    let mut file = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| io_error("create a temporary file in", dir, e))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| io_error("write", file.path(), e))?;
    file.persist(path)
        .map_err(|e| io_error("rename a temporary file to", path, e.error))?;
    Ok(())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, MediaError> + Send + 'static,
) -> Result<T, MediaError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(MediaError::backend)?
}

fn io_error(action: &str, path: &Path, error: io::Error) -> MediaError {
    MediaError::backend(io::Error::new(
        error.kind(),
        format!("could not {action} {}: {error}", path.display()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::ImageFormat;

    fn file_names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn put_get_delete_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let media = LocalDirMedia::new(tmp.path().join("uploads/avatars")).unwrap();
        assert_eq!(media.dir(), tmp.path().join("uploads/avatars"));
        let key = MediaKey::random(ImageFormat::Png);
        media.put(&key, b"png bytes".to_vec()).await.unwrap();
        assert_eq!(media.get(&key).await.unwrap(), Some(b"png bytes".to_vec()));
        assert_eq!(
            fs::read(media.dir().join(key.as_str())).unwrap(),
            b"png bytes"
        );
        media.delete(&key).await.unwrap();
        assert_eq!(media.get(&key).await.unwrap(), None);
        assert!(file_names(media.dir()).is_empty());
    }

    #[tokio::test]
    async fn absent_is_none_and_deleting_it_is_ok() {
        let tmp = tempfile::tempdir().unwrap();
        let media = LocalDirMedia::new(tmp.path()).unwrap();
        let key = MediaKey::random(ImageFormat::Jpeg);
        assert_eq!(media.get(&key).await.unwrap(), None);
        media.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn put_leaves_exactly_the_named_file() {
        let tmp = tempfile::tempdir().unwrap();
        let media = LocalDirMedia::new(tmp.path()).unwrap();
        let key = MediaKey::random(ImageFormat::Gif);
        media.put(&key, vec![7; 100_000]).await.unwrap();
        assert_eq!(file_names(tmp.path()), vec![key.to_string()]);
        // Replacing keeps one file too.
        media.put(&key, vec![8; 10]).await.unwrap();
        assert_eq!(file_names(tmp.path()), vec![key.to_string()]);
        assert_eq!(media.get(&key).await.unwrap(), Some(vec![8; 10]));
    }

    /// The rename fails (the final name is a non-empty directory): the put is
    /// an error and the temporary file is gone.
    #[tokio::test]
    async fn failed_put_leaves_no_file() {
        let tmp = tempfile::tempdir().unwrap();
        let media = LocalDirMedia::new(tmp.path()).unwrap();
        let key = MediaKey::random(ImageFormat::Png);
        fs::create_dir(tmp.path().join(key.as_str())).unwrap();
        fs::write(tmp.path().join(key.as_str()).join("x"), b"x").unwrap();
        assert!(matches!(
            media.put(&key, vec![1; 1000]).await,
            Err(MediaError::Backend(_))
        ));
        assert_eq!(file_names(tmp.path()), vec![key.to_string()]);

        // The directory itself is gone: nothing is created anywhere.
        let gone = tmp.path().join("gone");
        let media = LocalDirMedia::new(&gone).unwrap();
        fs::remove_dir(&gone).unwrap();
        assert!(media.put(&key, vec![1]).await.is_err());
        assert!(!gone.exists());
    }
}
