//! AuthService's user cache over a real database: a signed-in request reads
//! no user row once the user is known, and `forget_user` / a zero capacity
//! make changes made behind chatcore's back visible.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chatcore::{
    AuthService, JwtTokens, PasswordHasher, Registration, ServiceError, Store, TokenService,
};
use chatcore_sqlx::SqliteStore;

async fn fixture(cache: Option<usize>) -> (SqliteStore, AuthService, String) {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    let tokens: Arc<dyn TokenService> =
        Arc::new(JwtTokens::new(b"auth-cache-test-secret-of-32-bytes!"));
    let hasher = PasswordHasher::insecure_fast_for_tests().unwrap();
    let mut auth = AuthService::new(Arc::new(store.clone()) as Arc<dyn Store>, tokens, hasher);
    if let Some(capacity) = cache {
        auth = auth.with_user_cache_capacity(capacity);
    }
    let session = auth
        .register(Registration {
            email: "ada@example.com".to_owned(),
            password: "correct horse battery".to_owned(),
            username: None,
            display_name: None,
        })
        .await
        .unwrap();
    (store, auth, session.token.token)
}

/// Deletes every user row directly, as an admin tool might.
async fn delete_users(store: &SqliteStore) {
    sqlx::query("DELETE FROM users")
        .execute(store.writer())
        .await
        .unwrap();
}

#[tokio::test]
async fn known_users_are_served_from_memory_until_forgotten() {
    let (store, auth, token) = fixture(None).await;
    let (user, _) = auth.authenticate(&token).await.unwrap();
    delete_users(&store).await;
    // Cached: the row is gone, the request still knows its user.
    let (cached, _) = auth.authenticate(&token).await.unwrap();
    assert_eq!(cached, user);
    auth.forget_user(user.id);
    let err = auth.authenticate(&token).await.unwrap_err();
    assert!(matches!(err, ServiceError::Unauthorized(_)), "{err:?}");
}

#[tokio::test]
async fn a_zero_capacity_reads_the_store_every_time() {
    let (store, auth, token) = fixture(Some(0)).await;
    auth.authenticate(&token).await.unwrap();
    delete_users(&store).await;
    let err = auth.authenticate(&token).await.unwrap_err();
    assert!(matches!(err, ServiceError::Unauthorized(_)), "{err:?}");
}
