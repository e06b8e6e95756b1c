//! The messenger conformance suite on the in-memory store.
#![cfg(feature = "testing")]

chatcore::messenger_conformance_tests!(|| async { chatcore::MemoryStore::new() });
