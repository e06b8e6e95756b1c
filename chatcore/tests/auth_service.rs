//! AuthService behaviour: registration rules, login without user
//! enumeration, the login limit, tokens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use chatcore::{AuthService, JwtTokens, MemoryStore, PasswordHasher, Registration, ServiceError};

fn service() -> AuthService {
    let tokens = Arc::new(JwtTokens::new(b"auth-service-test-secret-0123456789"));
    AuthService::new(
        Arc::new(MemoryStore::new()),
        tokens,
        PasswordHasher::insecure_fast_for_tests().unwrap(),
    )
}

fn registration(email: &str, username: Option<&str>) -> Registration {
    Registration {
        email: email.to_owned(),
        password: "correct horse battery".to_owned(),
        username: username.map(str::to_owned),
        display_name: None,
    }
}

#[tokio::test]
async fn register_normalises_the_email_and_issues_a_token() {
    let auth = service();
    let session = auth
        .register(registration("  Alice@Example.COM ", None))
        .await
        .unwrap();
    assert_eq!(session.user.email, "alice@example.com");
    assert_eq!(session.user.username, "alice");
    let verified = auth.tokens().verify(&session.token.token).await.unwrap();
    assert_eq!(verified.user_id, session.user.id);
    let (user, _) = auth.authenticate(&session.token.token).await.unwrap();
    assert_eq!(user, session.user);
    assert_eq!(auth.me(user.id).await.unwrap(), session.user);
}

#[tokio::test]
async fn derived_usernames_are_made_unique() {
    let auth = service();
    let a = auth
        .register(registration("sam@one.example", None))
        .await
        .unwrap();
    let b = auth
        .register(registration("sam@two.example", None))
        .await
        .unwrap();
    let c = auth
        .register(registration("SAM@three.example", None))
        .await
        .unwrap();
    assert_eq!(a.user.username, "sam");
    assert_eq!(b.user.username, "sam2");
    assert_eq!(c.user.username, "sam3");
    let short = auth
        .register(registration("x@four.example", None))
        .await
        .unwrap();
    assert_eq!(short.user.username, "xuser");
}

#[tokio::test]
async fn duplicates_are_conflicts() {
    let auth = service();
    auth.register(registration("bob@example.com", Some("bobby")))
        .await
        .unwrap();
    let same_email = auth
        .register(registration("BOB@example.com", None))
        .await
        .unwrap_err();
    assert!(
        matches!(same_email, ServiceError::Conflict { .. }),
        "{same_email:?}"
    );
    assert!(same_email.fields().unwrap().contains_key("email"));
    let same_name = auth
        .register(registration("other@example.com", Some("BOBBY")))
        .await
        .unwrap_err();
    assert!(same_name.fields().unwrap().contains_key("username"));
    assert_eq!(same_name.http_status(), 409);
}

#[tokio::test]
async fn display_name_defaults_to_the_username() {
    let auth = service();
    let plain = auth
        .register(registration("plain@example.com", Some("plain")))
        .await
        .unwrap();
    assert_eq!(plain.user.display_name, "plain");
    let named = auth
        .register(Registration {
            display_name: Some("  Élodie Martin ".into()),
            ..registration("elodie@example.com", None)
        })
        .await
        .unwrap();
    assert_eq!(named.user.display_name, "Élodie Martin");
    assert_eq!(named.user.avatar, None);
}

#[tokio::test]
async fn registration_rules_report_every_bad_field() {
    let auth = service();
    let error = auth
        .register(Registration {
            email: "not-an-email".into(),
            password: "short".into(),
            username: Some("no spaces!".into()),
            display_name: Some(" ".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(error.http_status(), 422);
    let fields = error.fields().unwrap();
    assert!(
        fields.contains_key("email")
            && fields.contains_key("password")
            && fields.contains_key("username")
            && fields.contains_key("display_name")
    );
    let empty_name = auth
        .register(registration("a@example.com", Some("")))
        .await
        .unwrap_err();
    assert!(empty_name.fields().unwrap().contains_key("username"));
    let long = Registration {
        password: "p".repeat(129),
        ..registration("b@example.com", None)
    };
    assert!(auth
        .register(long)
        .await
        .unwrap_err()
        .fields()
        .unwrap()
        .contains_key("password"));
}

#[tokio::test]
async fn wrong_email_and_wrong_password_get_the_same_error() {
    let auth = service();
    auth.register(registration("carol@example.com", None))
        .await
        .unwrap();
    let ok = auth
        .login(" CAROL@example.com", "correct horse battery", None)
        .await
        .unwrap();
    assert_eq!(ok.user.email, "carol@example.com");
    let wrong_password = auth
        .login("carol@example.com", "wrong password", None)
        .await
        .unwrap_err();
    let unknown_email = auth
        .login("nobody@example.com", "correct horse battery", None)
        .await
        .unwrap_err();
    let malformed = auth.login("nobody", "x", None).await.unwrap_err();
    for error in [&wrong_password, &unknown_email, &malformed] {
        assert_eq!(error.http_status(), 401);
        assert_eq!(error.public_message(), wrong_password.public_message());
    }
}

#[tokio::test(start_paused = true)]
async fn too_many_failures_lock_the_email_even_for_the_right_password() {
    let auth = service().with_login_limit(3);
    auth.register(registration("dave@example.com", None))
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            auth.login("dave@example.com", "nope nope", None)
                .await
                .unwrap_err()
                .http_status(),
            401
        );
    }
    let limited = auth
        .login("dave@example.com", "correct horse battery", None)
        .await
        .unwrap_err();
    let ServiceError::RateLimited { retry_after } = limited else {
        panic!("{limited:?}")
    };
    assert!(retry_after <= Duration::from_secs(60));
    tokio::time::advance(Duration::from_secs(61)).await;
    auth.login("dave@example.com", "correct horse battery", None)
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn too_many_failures_from_one_ip_lock_that_ip() {
    let auth = service().with_login_limit(3);
    auth.register(registration("erin@example.com", None))
        .await
        .unwrap();
    let ip = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    for i in 0..3 {
        let _ = auth.login(&format!("guess{i}@example.com"), "x", ip).await;
    }
    let limited = auth
        .login("erin@example.com", "correct horse battery", ip)
        .await
        .unwrap_err();
    assert_eq!(limited.http_status(), 429);
    // Another address is not affected.
    let other = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 8)));
    auth.login("erin@example.com", "correct horse battery", other)
        .await
        .unwrap();
}

#[tokio::test]
async fn login_limit_zero_is_off() {
    let auth = service().with_login_limit(0);
    auth.register(registration("fay@example.com", None))
        .await
        .unwrap();
    for _ in 0..30 {
        let _ = auth.login("fay@example.com", "nope nope", None).await;
    }
    auth.login("fay@example.com", "correct horse battery", None)
        .await
        .unwrap();
}

#[tokio::test]
async fn refresh_issues_a_new_token_and_bad_tokens_are_unauthorized() {
    let auth = service();
    let session = auth
        .register(registration("gus@example.com", None))
        .await
        .unwrap();
    let refreshed = auth.refresh(session.user.id).await.unwrap();
    assert_ne!(refreshed.token.token, session.token.token);
    assert!(refreshed.token.expires_at >= session.token.expires_at);
    for bad in ["", "garbage", "a.b.c"] {
        assert_eq!(auth.authenticate(bad).await.unwrap_err().http_status(), 401);
    }
    // A token of a user that no longer exists (another store) is refused.
    let other = service();
    assert_eq!(
        other
            .authenticate(&session.token.token)
            .await
            .unwrap_err()
            .http_status(),
        401
    );
}
