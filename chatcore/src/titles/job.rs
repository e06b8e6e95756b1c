//! The background title job: ask the provider once the first reply is
//! stored, clean the answer, store it unless the title became explicit.

use std::sync::Arc;
use std::time::Duration;

use super::{clean_generated_title, derive_title, title_request};
use crate::events::{EventBus, UserEvent};
use crate::ids::{SessionId, UserId};
use crate::llm::{FinishReason, LlmProvider};
use crate::store::Store;

/// A generated title to ask for once the session's first reply completed.
#[derive(Debug)]
pub(crate) struct TitleJob {
    pub(crate) user_id: UserId,
    pub(crate) session_id: SessionId,
    pub(crate) first_message: String,
    pub(crate) timeout: Duration,
}

impl TitleJob {
    /// Asks `provider` (at most `timeout` in all), cleans the answer and
    /// stores it as the derived title, then tells the user's devices. Any
    /// failure keeps the derived title; nothing here touches the reply.
    pub(crate) async fn run(
        self,
        reply: String,
        provider: Arc<dyn LlmProvider>,
        store: Arc<dyn Store>,
        events: Arc<dyn EventBus>,
    ) {
        let session_id = self.session_id;
        let request = title_request(&self.first_message, &reply, self.timeout);
        let answer = match tokio::time::timeout(self.timeout, provider.complete(request)).await {
            // A title cut by the token limit (or by thinking that used it up)
            // is no title.
            Ok(Ok(completion)) if completion.finish.reason == FinishReason::Length => {
                tracing::info!(%session_id, "title answer cut by the token limit; keeping the derived title");
                return;
            }
            Ok(Ok(completion)) => completion.text,
            Ok(Err(error)) => {
                tracing::info!(%session_id, %error, "title request failed; keeping the derived title");
                return;
            }
            Err(_) => {
                tracing::info!(%session_id, timeout = ?self.timeout, "title request timed out; keeping the derived title");
                return;
            }
        };
        let Some(title) = clean_generated_title(&answer) else {
            tracing::info!(%session_id, answer = %answer.chars().take(200).collect::<String>(), "unusable title answer; keeping the derived title");
            return;
        };
        if title == derive_title(&self.first_message) {
            return;
        }
        match store.set_derived_title(session_id, &title).await {
            Ok(Some(session)) => {
                events
                    .publish(self.user_id, UserEvent::SessionUpdated { session })
                    .await
            }
            // Renamed (the title is now explicit) or deleted meanwhile.
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%session_id, %error, "could not store the generated title")
            }
        }
    }
}
