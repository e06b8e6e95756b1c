//! Rocket routes, guards, SSE and WebSocket for chatcore.
#![deny(missing_docs)]
