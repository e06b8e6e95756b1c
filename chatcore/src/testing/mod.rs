//! Test support (feature `testing`): the store conformance suite and scripted
//! LLM providers.

mod conformance;
mod conformance_turns;
mod messenger_conformance;
mod messenger_conformance_messages;
mod scripted;

pub use conformance::*;
pub use conformance_turns::*;
pub use messenger_conformance::*;
pub use messenger_conformance_messages::*;
pub use scripted::{ScriptStep, ScriptedProvider};
