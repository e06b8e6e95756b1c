//! [`OfflineProvider`]: a deterministic stand-in that needs no network and
//! no key. The reference server uses it when no provider key is configured.

use std::time::Duration;

use async_trait::async_trait;
use chatcore::{
    Completion, Finish, FinishReason, LlmError, LlmErrorKind, LlmEvent, LlmProvider, LlmRequest,
    LlmStream, Usage,
};

/// Default pause between words.
pub const DEFAULT_OFFLINE_DELAY: Duration = Duration::from_millis(20);

/// Replies without any LLM: the reply says it is an offline stand-in and
/// repeats the user's words, streamed word by word. It writes no titles:
/// asked for one ([`chatcore::titles::title_request`]) it fails, so a
/// session keeps the title derived from its first words.
#[derive(Clone, Debug)]
pub struct OfflineProvider {
    delay: Duration,
}

impl Default for OfflineProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl OfflineProvider {
    /// An offline provider with a 20 ms pause between words.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use chatcore_llm::OfflineProvider;
    ///
    /// let offline = OfflineProvider::new().with_delay(Duration::ZERO);
    /// ```
    pub fn new() -> Self {
        OfflineProvider {
            delay: DEFAULT_OFFLINE_DELAY,
        }
    }

    /// Sets the pause between words (zero for benchmarks).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The reply to `request`, whole.
    pub fn reply_text(request: &LlmRequest) -> String {
        let said = request
            .last_user_text()
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        let original = request.last_user_text().unwrap_or_default().trim();
        if original.contains("```") {
            // Quote Markdown with code blocks verbatim, so that a UI's
            // rendering of code can be seen without an LLM.
            format!(
                "[offline stand-in] This reply comes from chatcore's offline stand-in, not from \
                 a language model. Set GEMINI_API_KEY or OPENAI_API_KEY for real answers. \
                 You said:\n\n{original}"
            )
        } else if said.is_empty() {
            "[offline stand-in] This reply comes from chatcore's offline stand-in, not from a \
             language model. Set GEMINI_API_KEY or OPENAI_API_KEY for real answers."
                .to_owned()
        } else {
            format!(
                "[offline stand-in] This reply comes from chatcore's offline stand-in, not from \
                 a language model. You said: \"{said}\". Set GEMINI_API_KEY or OPENAI_API_KEY \
                 for real answers."
            )
        }
    }
}

#[async_trait]
impl LlmProvider for OfflineProvider {
    fn name(&self) -> &str {
        "offline"
    }

    fn model(&self) -> &str {
        "offline"
    }

    async fn stream(&self, request: LlmRequest) -> Result<LlmStream, LlmError> {
        let text = Self::reply_text(&request);
        let mut pieces: Vec<String> = Vec::new();
        for (i, word) in text.split(' ').enumerate() {
            pieces.push(if i == 0 {
                word.to_owned()
            } else {
                format!(" {word}")
            });
        }
        let finish = finish(&request, pieces.len());
        let delay = self.delay;
        let state = (pieces.into_iter(), Some(finish));
        Ok(Box::pin(futures_util::stream::unfold(
            state,
            move |(mut pieces, mut finish)| async move {
                match pieces.next() {
                    Some(piece) => {
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        Some((Ok(LlmEvent::Delta(piece)), (pieces, finish)))
                    }
                    None => {
                        let finish = finish.take()?;
                        Some((Ok(LlmEvent::Finished(finish)), (pieces, None)))
                    }
                }
            },
        )))
    }

    /// The reply at once, without the pauses; a title request fails.
    async fn complete(&self, request: LlmRequest) -> Result<Completion, LlmError> {
        if request.system.as_deref() == Some(chatcore::titles::TITLE_INSTRUCTION) {
            return Err(LlmError::new(
                "offline",
                LlmErrorKind::Other,
                "the offline stand-in writes no titles",
            ));
        }
        let text = Self::reply_text(&request);
        let finish = finish(&request, text.split(' ').count());
        Ok(Completion { text, finish })
    }
}

/// The finish of a reply of `words` words to `request` (usage in words).
fn finish(request: &LlmRequest, words: usize) -> Finish {
    let prompt_tokens: usize = request
        .messages
        .iter()
        .map(|m| m.content.split_whitespace().count())
        .sum();
    Finish {
        provider: "offline".to_owned(),
        model: "offline".to_owned(),
        reason: FinishReason::Stop,
        usage: Some(Usage {
            prompt_tokens: u32::try_from(prompt_tokens).unwrap_or(u32::MAX),
            completion_tokens: u32::try_from(words).unwrap_or(u32::MAX),
        }),
    }
}

#[cfg(test)]
mod tests {
    use chatcore::{LlmMessage, Role};
    use futures_util::StreamExt;

    use super::*;

    fn request(text: &str) -> LlmRequest {
        LlmRequest {
            messages: vec![LlmMessage {
                role: Role::User,
                content: text.to_owned(),
            }],
            ..LlmRequest::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn streams_word_by_word_deterministically() {
        let provider = OfflineProvider::new().with_delay(Duration::from_millis(5));
        let started = tokio::time::Instant::now();
        let mut stream = provider.stream(request("hello   there")).await.unwrap();
        let mut deltas = Vec::new();
        let mut finish = None;
        while let Some(event) = stream.next().await {
            match event.unwrap() {
                LlmEvent::Delta(d) => deltas.push(d),
                LlmEvent::Finished(f) => finish = Some(f),
            }
        }
        let text: String = deltas.concat();
        assert_eq!(text, OfflineProvider::reply_text(&request("hello there")));
        let fenced = OfflineProvider::reply_text(&request("look:\n```rust\nfn main() {}\n```"));
        assert!(
            fenced.ends_with("You said:\n\nlook:\n```rust\nfn main() {}\n```"),
            "{fenced}"
        );
        assert!(text.contains("offline stand-in"));
        assert!(text.contains("\"hello there\""));
        assert!(deltas.len() > 5);
        assert!(deltas
            .iter()
            .skip(1)
            .all(|d| d.starts_with(' ') && d.matches(' ').count() == 1));
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(5) * deltas.len() as u32
        );
        let finish = finish.unwrap();
        assert_eq!(
            (finish.provider.as_str(), finish.reason.clone()),
            ("offline", FinishReason::Stop)
        );
        let again = provider.complete(request("hello there")).await.unwrap();
        assert_eq!(again.text, text);
        assert_eq!(again.finish, finish);
    }

    #[tokio::test]
    async fn writes_no_titles() {
        let title =
            chatcore::titles::title_request("hello there", "a reply", Duration::from_secs(5));
        let error = OfflineProvider::new().complete(title).await.unwrap_err();
        assert_eq!(error.kind, LlmErrorKind::Other);
    }
}
