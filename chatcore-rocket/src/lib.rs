//! Rocket routes, guards, SSE and WebSocket for chatcore.
#![deny(missing_docs)]

pub mod dto;
mod error;
mod state;

pub use error::ApiError;
pub use state::{ApiConfig, ApiState};
