//! The chatcore reference server, assembled from the environment
//! ([`server`]), and the pieces the example binaries share.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod secret;
pub mod server;
pub mod web;
