//! [`InMemoryMedia`]: blobs in a map, for tests and embedding.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::{MediaError, MediaKey, MediaStore};

/// A [`MediaStore`] in memory: a `HashMap` behind a mutex. Nothing survives
/// the process; for tests and for embedding where blobs are kept elsewhere.
#[derive(Debug, Default)]
pub struct InMemoryMedia {
    blobs: Mutex<HashMap<MediaKey, Vec<u8>>>,
}

impl InMemoryMedia {
    /// An empty store.
    pub fn new() -> InMemoryMedia {
        InMemoryMedia::default()
    }

    /// How many blobs are stored.
    pub fn len(&self) -> usize {
        self.blobs().len()
    }

    /// Whether no blob is stored.
    pub fn is_empty(&self) -> bool {
        self.blobs().is_empty()
    }

    /// The keys of the stored blobs, in no particular order.
    pub fn keys(&self) -> Vec<MediaKey> {
        self.blobs().keys().cloned().collect()
    }

    fn blobs(&self) -> MutexGuard<'_, HashMap<MediaKey, Vec<u8>>> {
        // The map is consistent after any panic (each operation is a single
        // insert, lookup or remove), so a poisoned lock is still usable.
        self.blobs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl MediaStore for InMemoryMedia {
    async fn put(&self, key: &MediaKey, bytes: Vec<u8>) -> Result<(), MediaError> {
        self.blobs().insert(key.clone(), bytes);
        Ok(())
    }

    async fn get(&self, key: &MediaKey) -> Result<Option<Vec<u8>>, MediaError> {
        Ok(self.blobs().get(key).cloned())
    }

    async fn delete(&self, key: &MediaKey) -> Result<(), MediaError> {
        self.blobs().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::ImageFormat;

    #[tokio::test]
    async fn put_get_delete_round_trip() {
        let store = InMemoryMedia::new();
        let key = MediaKey::random(ImageFormat::Webp);
        assert!(store.is_empty());
        assert_eq!(store.get(&key).await.unwrap(), None);
        store.put(&key, vec![1, 2, 3]).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(store.keys(), vec![key.clone()]);
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), None);
        assert_eq!(store.len(), 0);
    }
}
