//! LLM providers for chatcore: Gemini, OpenAI-compatible servers, a fallback
//! chain and an offline stand-in.
#![deny(missing_docs)]
