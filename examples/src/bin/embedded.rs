//! chatcore embedded in someone else's Rocket application: the host app
//! keeps its own routes at `/`, chatcore lives under `/api`, replies come
//! from the app's own `LlmProvider`, data lives in memory.
//!
//! `cargo run --bin embedded`, then e.g.
//! `curl -X POST localhost:8000/api/auth/register -d '{"email":"a@b.io","password":"password1"}'`.

use std::sync::Arc;

use async_trait::async_trait;
use chatcore::{
    AuthService, ChatConfig, ChatService, Finish, FinishReason, JwtTokens, LlmError, LlmEvent,
    LlmProvider, LlmRequest, LlmStream, LocalEventBus, MemoryStore, PasswordHasher, Usage,
};
use chatcore_rocket::{ApiState, Chatcore};
use rocket::{get, routes};

/// The host app's own provider: answers with the question reversed, word by word.
#[derive(Debug)]
struct Reverser;

#[async_trait]
impl LlmProvider for Reverser {
    fn name(&self) -> &str {
        "reverser"
    }

    fn model(&self) -> &str {
        "reverse-1"
    }

    async fn stream(&self, request: LlmRequest) -> Result<LlmStream, LlmError> {
        let question = request.last_user_text().unwrap_or_default().to_owned();
        let words: Vec<String> = question
            .split_whitespace()
            .rev()
            .map(|w| format!("{w} "))
            .collect();
        let count = words.len() as u32;
        let finish = Finish {
            provider: "reverser".to_owned(),
            model: "reverse-1".to_owned(),
            reason: FinishReason::Stop,
            usage: Some(Usage {
                prompt_tokens: count,
                completion_tokens: count,
            }),
        };
        let events = words
            .into_iter()
            .map(|w| Ok(LlmEvent::Delta(w)))
            .chain(std::iter::once(Ok(LlmEvent::Finished(finish))));
        Ok(Box::pin(futures_util::stream::iter(events)))
    }
}

#[get("/")]
fn index() -> &'static str {
    "The host application. chatcore answers under /api (see /api/openapi.json)."
}

#[rocket::launch]
fn rocket() -> _ {
    let store = Arc::new(MemoryStore::new());
    let secret: [u8; 32] = rand::random();
    let tokens = Arc::new(JwtTokens::new(&secret));
    let hasher = match PasswordHasher::new() {
        Ok(hasher) => hasher,
        Err(error) => {
            eprintln!("password hashing: {error}");
            std::process::exit(1);
        }
    };
    let auth = Arc::new(AuthService::new(store.clone(), tokens, hasher));
    // The reverser cannot write titles: keep the ones derived from the first words.
    let config = ChatConfig {
        title_timeout: None,
        ..ChatConfig::default()
    };
    let chat = ChatService::with_config(
        store,
        Arc::new(Reverser),
        Arc::new(LocalEventBus::new(256)),
        config,
    );
    let app = rocket::build().mount("/", routes![index]);
    Chatcore::new(ApiState::new(auth, chat)).attach(app, "/api")
}
