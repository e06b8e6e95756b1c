//! Access tokens: the [`TokenService`] trait and its HS256 implementation [`JwtTokens`].

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::UserId;

/// The default access-token lifetime: 30 minutes.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(30 * 60);

/// A freshly issued access token.
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The encoded token (a bearer credential: never log it).
    pub token: String,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a verified token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The user it was issued to (`sub`).
    pub user_id: UserId,
    /// When it was issued (`iat`).
    pub issued_at: DateTime<Utc>,
    /// When it expires (`exp`).
    pub expires_at: DateTime<Utc>,
    /// Its unique id (`jti`).
    pub token_id: Uuid,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Past its `exp`.
    #[error("token expired")]
    Expired,
    /// Malformed, wrongly signed, wrong algorithm or missing claims.
    #[error("invalid token")]
    Invalid,
    /// The token could not be created.
    #[error("token could not be issued")]
    Issue,
}

/// Issues and verifies access tokens.
#[async_trait]
pub trait TokenService: Send + Sync + 'static {
    /// Issues a token for `user_id`.
    async fn issue(&self, user_id: UserId) -> Result<IssuedToken, TokenError>;

    /// Verifies a token and returns its claims.
    async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError>;

    /// How long issued tokens live.
    fn ttl(&self) -> Duration;
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    jti: String,
}

/// HS256 JSON Web Tokens with `sub`, `iat`, `exp` and `jti`, no leeway.
pub struct JwtTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl fmt::Debug for JwtTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtTokens")
            .field("secret", &"<redacted>")
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl JwtTokens {
    /// Tokens signed with `secret` (use at least 32 random bytes), living 30 minutes.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use chatcore::{JwtTokens, TokenService, UserId};
    /// let tokens = JwtTokens::new(b"0123456789abcdef0123456789abcdef");
    /// let user = UserId::new();
    /// let issued = tokens.issue(user).await?;
    /// assert_eq!(tokens.verify(&issued.token).await?.user_id, user);
    /// # Ok::<(), chatcore::TokenError>(()) });
    /// ```
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        JwtTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl: DEFAULT_TOKEN_TTL,
        }
    }

    /// Sets the token lifetime.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Issues a token as of `now` (exposed for tests of expiry).
    pub fn issue_at(&self, user_id: UserId, now: DateTime<Utc>) -> Result<IssuedToken, TokenError> {
        let ttl = chrono::Duration::from_std(self.ttl).map_err(|_| TokenError::Issue)?;
        let expires_at = now + ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenError::Issue)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(TokenError::Issue)?;
        Ok(IssuedToken { token, expires_at })
    }

    fn decode(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        let claims = data.claims;
        // jsonwebtoken's check is `exp < now`; a token is dead at `exp` itself.
        if claims.exp <= Utc::now().timestamp() {
            return Err(TokenError::Expired);
        }
        let user_id = claims.sub.parse().map_err(|_| TokenError::Invalid)?;
        let token_id = Uuid::parse_str(&claims.jti).map_err(|_| TokenError::Invalid)?;
        let issued_at = DateTime::from_timestamp(claims.iat, 0).ok_or(TokenError::Invalid)?;
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(TokenError::Invalid)?;
        Ok(VerifiedToken {
            user_id,
            issued_at,
            expires_at,
            token_id,
        })
    }
}

#[async_trait]
impl TokenService for JwtTokens {
    async fn issue(&self, user_id: UserId) -> Result<IssuedToken, TokenError> {
        self.issue_at(user_id, Utc::now())
    }

    async fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        self.decode(token)
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

    fn b64(data: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
    }

    #[tokio::test]
    async fn round_trip_carries_the_claims() {
        let tokens = JwtTokens::new(SECRET);
        let user = UserId::new();
        let issued = tokens.issue(user).await.unwrap();
        let verified = tokens.verify(&issued.token).await.unwrap();
        assert_eq!(verified.user_id, user);
        assert_eq!(verified.expires_at, issued.expires_at);
        let lifetime = verified.expires_at - verified.issued_at;
        assert_eq!(lifetime.num_seconds(), 30 * 60);
    }

    #[tokio::test]
    async fn expired_token_is_rejected_without_leeway() {
        let tokens = JwtTokens::new(SECRET).with_ttl(Duration::from_secs(60));
        let issued = tokens
            .issue_at(UserId::new(), Utc::now() - chrono::Duration::seconds(61))
            .unwrap();
        assert_eq!(tokens.verify(&issued.token).await, Err(TokenError::Expired));
    }

    #[tokio::test]
    async fn wrong_key_is_rejected() {
        let issued = JwtTokens::new(b"another-secret-another-secret-12345")
            .issue(UserId::new())
            .await
            .unwrap();
        let tokens = JwtTokens::new(SECRET);
        assert_eq!(tokens.verify(&issued.token).await, Err(TokenError::Invalid));
    }

    #[tokio::test]
    async fn tampered_payload_is_rejected() {
        let tokens = JwtTokens::new(SECRET);
        let issued = tokens.issue(UserId::new()).await.unwrap();
        let parts: Vec<&str> = issued.token.split('.').collect();
        let now = Utc::now().timestamp();
        let forged = format!(
            r#"{{"sub":"{}","iat":{now},"exp":{},"jti":"{}"}}"#,
            UserId::new(),
            now + 3600,
            Uuid::new_v4()
        );
        let token = format!("{}.{}.{}", parts[0], b64(forged.as_bytes()), parts[2]);
        assert_eq!(tokens.verify(&token).await, Err(TokenError::Invalid));
    }

    #[tokio::test]
    async fn alg_none_is_rejected() {
        let tokens = JwtTokens::new(SECRET);
        let now = Utc::now().timestamp();
        let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64(format!(
            r#"{{"sub":"{}","iat":{now},"exp":{},"jti":"{}"}}"#,
            UserId::new(),
            now + 3600,
            Uuid::new_v4()
        )
        .as_bytes());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert_eq!(tokens.verify(&token).await, Err(TokenError::Invalid));
        }
    }

    #[tokio::test]
    async fn garbage_is_rejected() {
        let tokens = JwtTokens::new(SECRET);
        for token in ["", "abc", "a.b.c", "Bearer x"] {
            assert_eq!(tokens.verify(token).await, Err(TokenError::Invalid));
        }
    }
}
