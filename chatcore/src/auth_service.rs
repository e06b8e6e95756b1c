//! [`AuthService`]: registration, login, the current user and token refresh.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::clock;
use crate::domain::{NewUser, User};
use crate::error::ServiceError;
use crate::ids::UserId;
use crate::password::PasswordHasher;
use crate::rate_limit::SlidingWindow;
use crate::store::{ConflictKind, Store, StoreError};
use crate::tokens::{IssuedToken, TokenService, VerifiedToken};
use crate::validate;

/// Failed logins allowed per minute, per email and per IP, by default.
pub const DEFAULT_LOGIN_LIMIT: u32 = 10;

/// Users kept in memory for [`AuthService::authenticate`], by default.
pub const DEFAULT_USER_CACHE_CAPACITY: usize = 10_000;

/// A signed-in user and their access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSession {
    /// The access token.
    pub token: IssuedToken,
    /// The user.
    pub user: User,
}

/// What registration takes.
#[derive(Clone, Debug, Default)]
pub struct Registration {
    /// Email (normalised by the service).
    pub email: String,
    /// Password, 8..=128 characters.
    pub password: String,
    /// Username; derived from the email when absent.
    pub username: Option<String>,
    /// The name shown to other people (trimmed, 1..=64 characters); the
    /// username when absent.
    pub display_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum LoginKey {
    Email(String),
    Ip(IpAddr),
}

/// Accounts and tokens: the rules of the API's auth routes.
pub struct AuthService {
    store: Arc<dyn Store>,
    tokens: Arc<dyn TokenService>,
    hasher: PasswordHasher,
    login_failures: SlidingWindow<LoginKey>,
    /// Users by id, so that a signed-in request costs no database read.
    /// chatcore never changes or deletes a user row, so an entry cannot go
    /// stale; an application that does so itself calls
    /// [`AuthService::forget_user`].
    users: quick_cache::sync::Cache<UserId, User>,
    cache_users: bool,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("hasher", &self.hasher)
            .field("login_failures", &self.login_failures)
            .finish_non_exhaustive()
    }
}

impl AuthService {
    /// A service over `store` and `tokens`, hashing with `hasher`, allowing
    /// [`DEFAULT_LOGIN_LIMIT`] failed logins per minute per email and per IP.
    pub fn new(
        store: Arc<dyn Store>,
        tokens: Arc<dyn TokenService>,
        hasher: PasswordHasher,
    ) -> Self {
        AuthService {
            store,
            tokens,
            hasher,
            login_failures: SlidingWindow::new(DEFAULT_LOGIN_LIMIT, Duration::from_secs(60)),
            users: quick_cache::sync::Cache::new(DEFAULT_USER_CACHE_CAPACITY),
            cache_users: true,
        }
    }

    /// Sets how many users [`authenticate`](Self::authenticate) keeps in
    /// memory (default [`DEFAULT_USER_CACHE_CAPACITY`]); 0 reads the store on
    /// every request.
    pub fn with_user_cache_capacity(mut self, users: usize) -> Self {
        self.users = quick_cache::sync::Cache::new(users.max(1));
        self.cache_users = users > 0;
        self
    }

    /// Drops a user from the in-memory cache. chatcore itself never changes
    /// or deletes a user; an application that edits the `users` table
    /// directly calls this (on every instance) so that the change is seen.
    pub fn forget_user(&self, user_id: UserId) {
        self.users.remove(&user_id);
    }

    /// Sets the failed-login limit per minute (per email and per IP); 0 turns it off.
    pub fn with_login_limit(mut self, failures_per_minute: u32) -> Self {
        self.login_failures = SlidingWindow::new(failures_per_minute, Duration::from_secs(60));
        self
    }

    /// The token service (for guards that verify bearer tokens).
    pub fn tokens(&self) -> &Arc<dyn TokenService> {
        &self.tokens
    }

    /// Creates an account and signs it in. Duplicate email or username: `Conflict`.
    pub async fn register(&self, registration: Registration) -> Result<AuthSession, ServiceError> {
        let email = validate::email(&registration.email);
        let password = validate::password(&registration.password);
        let username = registration
            .username
            .as_deref()
            .map(validate::username)
            .transpose();
        let display_name = registration
            .display_name
            .as_deref()
            .map(validate::display_name)
            .transpose();
        let mut fields = crate::error::FieldErrors::new();
        for error in [
            email.as_ref().err(),
            password.as_ref().err(),
            username.as_ref().err(),
            display_name.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        {
            fields.extend(error.fields().cloned().unwrap_or_default());
        }
        if !fields.is_empty() {
            let message = fields
                .iter()
                .map(|(field, problem)| format!("{field}: {problem}"))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(ServiceError::Validation { message, fields });
        }
        let email = email?;
        let chosen = username?;
        let display_name = display_name?;

        if self.store.find_user_by_email(&email).await?.is_some() {
            return Err(StoreError::Conflict(ConflictKind::Email).into());
        }
        if let Some(name) = &chosen {
            if self.store.username_exists(name).await? {
                return Err(StoreError::Conflict(ConflictKind::Username).into());
            }
        }
        let password_hash = self.hasher.hash(&registration.password).await?;
        let base = validate::username_from_email(&email);
        let mut attempt = 0u32;
        loop {
            let username = match &chosen {
                Some(name) => name.clone(),
                None => self.free_username(&base, attempt).await?,
            };
            let new_user = NewUser {
                id: UserId::new(),
                email: email.clone(),
                display_name: display_name.clone().unwrap_or_else(|| username.clone()),
                username,
                password_hash: password_hash.clone(),
                created_at: clock::now(),
            };
            match self.store.create_user(new_user).await {
                Ok(user) => {
                    tracing::info!(user_id = %user.id, "user registered");
                    return self.session_for(user).await;
                }
                // Someone took the derived name between the check and the insert.
                Err(StoreError::Conflict(ConflictKind::Username))
                    if chosen.is_none() && attempt < 5 =>
                {
                    attempt += 1;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// `base`, or `base` with a numeric suffix, that no one has yet.
    async fn free_username(&self, base: &str, attempt: u32) -> Result<String, ServiceError> {
        if attempt == 0 && !self.store.username_exists(base).await? {
            return Ok(base.to_owned());
        }
        for n in 2..12u32 {
            let candidate = format!("{base}{n}");
            if !self.store.username_exists(&candidate).await? {
                return Ok(candidate);
            }
        }
        // Many collisions: a random suffix is all but certain to be free.
        Ok(format!("{base}{}", rand::random_range(1000..1_000_000u32)))
    }

    /// Signs in with email and password. Unknown email and wrong password
    /// give the same error after the same work (a dummy hash is verified).
    /// After too many failures for the email or from `client_ip`, every
    /// attempt is `RateLimited` until the window passes.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<AuthSession, ServiceError> {
        let email_key = LoginKey::Email(email.trim().to_lowercase());
        let ip_key = client_ip.map(LoginKey::Ip);
        for key in std::iter::once(&email_key).chain(ip_key.as_ref()) {
            if let Err(retry_after) = self.login_failures.check(key) {
                return Err(ServiceError::RateLimited { retry_after });
            }
        }
        let credentials = match validate::email(email) {
            Ok(normalised) => self.store.find_user_by_email(&normalised).await?,
            Err(_) => None,
        };
        let phc = credentials.as_ref().map(|c| c.password_hash.as_str());
        let valid = self.hasher.verify(password, phc).await?;
        match credentials {
            Some(credentials) if valid => self.session_for(credentials.user).await,
            _ => {
                self.login_failures.record(&email_key);
                if let Some(key) = &ip_key {
                    self.login_failures.record(key);
                }
                tracing::info!("failed login");
                Err(ServiceError::Unauthorized(
                    "invalid email or password".to_owned(),
                ))
            }
        }
    }

    /// Verifies a bearer token and checks that its user exists (from the
    /// in-memory user cache when the user was seen before).
    pub async fn authenticate(&self, token: &str) -> Result<(User, VerifiedToken), ServiceError> {
        let verified = self.tokens.verify(token).await?;
        let user = self.me(verified.user_id).await?;
        Ok((user, verified))
    }

    /// The user behind an id (from a verified token). Unknown: `Unauthorized`.
    pub async fn me(&self, user_id: UserId) -> Result<User, ServiceError> {
        if let Some(user) = self.users.get(&user_id) {
            return Ok(user);
        }
        let user = self
            .store
            .get_user(user_id)
            .await?
            .ok_or_else(|| ServiceError::Unauthorized("unknown user".to_owned()))?;
        self.remember(&user);
        Ok(user)
    }

    fn remember(&self, user: &User) {
        if self.cache_users {
            self.users.insert(user.id, user.clone());
        }
    }

    /// A fresh token for a signed-in user.
    pub async fn refresh(&self, user_id: UserId) -> Result<AuthSession, ServiceError> {
        let user = self.me(user_id).await?;
        self.session_for(user).await
    }

    async fn session_for(&self, user: User) -> Result<AuthSession, ServiceError> {
        self.remember(&user);
        let token = self.tokens.issue(user.id).await?;
        Ok(AuthSession { token, user })
    }
}
