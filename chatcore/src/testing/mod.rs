//! Test support (feature `testing`): the store conformance suite and scripted
//! LLM providers.

mod conformance;
mod conformance_turns;
mod scripted;

pub use conformance::*;
pub use conformance_turns::*;
pub use scripted::{ScriptStep, ScriptedProvider};
