//! Test support (feature `testing`): the store conformance suite and scripted
//! LLM providers.

mod conformance;
mod scripted;

pub use conformance::*;
pub use scripted::{ScriptStep, ScriptedProvider};
