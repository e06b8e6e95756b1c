//! The store conformance suite against [`chatcore::MemoryStore`].
#![cfg(feature = "testing")]

chatcore::store_conformance_tests!(|| async { chatcore::MemoryStore::new() });
