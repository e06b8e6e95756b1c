//! Seeding users, sessions and messages over the HTTP API.

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

/// A client of one server, signed in as one user.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

pub const PASSWORD: &str = "load-benchmark-password";

async fn checked(response: reqwest::Response, what: &str) -> Result<Value> {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {body}");
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&body).with_context(|| format!("{what}: not JSON: {body}"))
}

impl Api {
    /// Registers `email` and keeps its token.
    pub async fn register(http: &reqwest::Client, base: &str, email: &str) -> Result<Api> {
        let r = http
            .post(format!("{base}/auth/register"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await?;
        let body = checked(r, "register").await?;
        let token = body["access_token"]
            .as_str()
            .context("register: no access_token")?
            .to_owned();
        Ok(Api {
            base: base.to_owned(),
            token,
            http: http.clone(),
        })
    }

    pub fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub async fn create_session(&self, title: &str) -> Result<String> {
        let r = self
            .http
            .post(format!("{}/chat/sessions", self.base))
            .header("Authorization", self.auth())
            .json(&json!({"title": title}))
            .send()
            .await?;
        let body = checked(r, "create session").await?;
        Ok(body["id"]
            .as_str()
            .context("session without id")?
            .to_owned())
    }

    /// `count` sessions, created `parallel` at a time.
    pub async fn create_sessions(&self, count: usize, parallel: usize) -> Result<Vec<String>> {
        use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
        stream::iter(0..count)
            .map(|i| async move { self.create_session(&format!("load {i}")).await })
            .buffered(parallel.max(1))
            .try_collect()
            .await
    }

    pub async fn send(&self, session_id: &str, content: &str) -> Result<Value> {
        let r = self
            .http
            .post(format!("{}/chat/send", self.base))
            .header("Authorization", self.auth())
            .json(&json!({"session_id": session_id, "content": content}))
            .send()
            .await?;
        checked(r, "send").await
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Authorization", self.auth())
            .send()
            .await?;
        checked(r, path).await
    }
}
