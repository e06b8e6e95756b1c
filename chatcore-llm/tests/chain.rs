//! FallbackChain rules over scripted providers, on tokio's paused clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use chatcore::testing::{ScriptStep, ScriptedProvider};
use chatcore::{LlmError, LlmErrorKind, LlmProvider, ProviderState};
use chatcore_llm::FallbackChain;
use support::chain::{chain, request, touchy_chain};
use support::collect;
use tokio::time::Instant;

fn text(s: &str) -> ScriptStep {
    ScriptStep::Text(s.into())
}

#[tokio::test(start_paused = true)]
async fn first_provider_answers() {
    let a = ScriptedProvider::words("a", "hello there", Duration::ZERO)
        .with_model("ma")
        .shared();
    let b = ScriptedProvider::new("b").shared();
    let got = collect(chain(&[&a, &b]).stream(request()).await).await;
    assert_eq!(got.text(), "hello there");
    let finish = got.finish.unwrap();
    assert_eq!(
        (finish.provider.as_str(), finish.model.as_str()),
        ("a", "ma")
    );
    assert_eq!((a.calls(), b.calls()), (1, 0));
    assert_eq!(a.requests()[0], request());
}

#[tokio::test(start_paused = true)]
async fn unavailable_is_retried_with_backoff_then_succeeds() {
    let a = ScriptedProvider::new("a").shared();
    a.push_script(vec![ScriptStep::Fail(LlmErrorKind::Unavailable)]);
    a.push_script(vec![ScriptStep::Fail(LlmErrorKind::Unavailable)]);
    let b = ScriptedProvider::new("b").shared();
    let started = Instant::now();
    let got = collect(chain(&[&a, &b]).stream(request()).await).await;
    assert_eq!(got.finish.unwrap().provider, "a");
    assert_eq!((a.calls(), b.calls()), (3, 0));
    // Backoff 100 ms then 200 ms, each jittered to between half and all of it.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited <= Duration::from_millis(300),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_and_long_hints_fall_back() {
    let a = ScriptedProvider::new("a").shared();
    a.push_start_failure(
        LlmError::new("a", LlmErrorKind::RateLimited, "slow down")
            .with_retry_after(Some(Duration::from_secs(2))),
    );
    let b = ScriptedProvider::new("b").shared();
    let c = chain(&[&a, &b]);
    let started = Instant::now();
    let got = collect(c.stream(request()).await).await;
    assert_eq!(got.finish.unwrap().provider, "a");
    assert!(started.elapsed() >= Duration::from_secs(2));

    a.push_start_failure(
        LlmError::new("a", LlmErrorKind::RateLimited, "daily-ish")
            .with_retry_after(Some(Duration::from_secs(60))),
    );
    let started = Instant::now();
    let got = collect(c.stream(request()).await).await;
    assert_eq!(got.finish.unwrap().provider, "b");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!((a.calls(), b.calls()), (3, 1));
}

#[tokio::test(start_paused = true)]
async fn fatal_errors_fall_back_without_retry() {
    for kind in [
        LlmErrorKind::Auth,
        LlmErrorKind::QuotaExhausted,
        LlmErrorKind::BadRequest,
    ] {
        let a = ScriptedProvider::new("a").shared();
        a.push_start_failure(LlmError::new("a", kind, "no"));
        let b = ScriptedProvider::words("b", "from b", Duration::ZERO).shared();
        let got = collect(chain(&[&a, &b]).stream(request()).await).await;
        assert_eq!(got.text(), "from b", "{kind:?}");
        assert_eq!((a.calls(), b.calls()), (1, 1), "{kind:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn blocked_is_reported_and_not_retried_or_passed_on() {
    let a = ScriptedProvider::new("a").shared();
    a.push_script(vec![ScriptStep::Fail(LlmErrorKind::Blocked)]);
    let b = ScriptedProvider::new("b").shared();
    let got = collect(chain(&[&a, &b]).stream(request()).await).await;
    let error = got.error.unwrap();
    assert_eq!(
        (error.kind, error.provider.as_str()),
        (LlmErrorKind::Blocked, "a")
    );
    assert_eq!((a.calls(), b.calls()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn failure_after_output_is_reported_with_the_partial_text_and_no_fallback() {
    let a = ScriptedProvider::new("a").shared();
    a.push_script(vec![
        text("Once"),
        text(" upon"),
        ScriptStep::Fail(LlmErrorKind::Unavailable),
    ]);
    let b = ScriptedProvider::new("b").shared();
    let got = collect(chain(&[&a, &b]).stream(request()).await).await;
    assert_eq!(got.text(), "Once upon");
    let error = got.error.unwrap();
    assert!(error.output_sent);
    assert_eq!(
        (error.kind, error.provider.as_str()),
        (LlmErrorKind::Unavailable, "a")
    );
    assert_eq!((a.calls(), b.calls()), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn truncation_after_output_is_a_failure() {
    let a = ScriptedProvider::new("a").shared();
    a.push_script(vec![text("half"), ScriptStep::Truncate]);
    let b = ScriptedProvider::new("b").shared();
    let got = collect(chain(&[&a, &b]).stream(request()).await).await;
    assert_eq!(got.text(), "half");
    let error = got.error.unwrap();
    assert_eq!(
        (error.kind, error.output_sent),
        (LlmErrorKind::Protocol, true)
    );
    assert_eq!(b.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn first_token_timeout_falls_back_without_retry() {
    let a = ScriptedProvider::new("a")
        .with_default(vec![ScriptStep::Hang])
        .shared();
    let b = ScriptedProvider::words("b", "rescued", Duration::ZERO).shared();
    let started = Instant::now();
    let got = collect(chain(&[&a, &b]).stream(request()).await).await;
    assert_eq!(got.text(), "rescued");
    assert_eq!((a.calls(), b.calls()), (1, 1));
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_after_output_fails_without_fallback() {
    let a = ScriptedProvider::new("a")
        .with_default(vec![
            text("so"),
            ScriptStep::Sleep(Duration::from_secs(60)),
            text("late"),
        ])
        .shared();
    let b = ScriptedProvider::new("b").shared();
    let started = Instant::now();
    let got = collect(chain(&[&a, &b]).stream(request()).await).await;
    assert_eq!(got.text(), "so");
    let error = got.error.unwrap();
    assert_eq!(
        (error.kind, error.output_sent),
        (LlmErrorKind::Timeout, true)
    );
    assert_eq!(started.elapsed(), Duration::from_secs(4));
    assert_eq!(b.calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn slow_but_steady_streams_are_not_cut() {
    let a = ScriptedProvider::words("a", "one two three four five six", Duration::from_secs(2))
        .shared();
    let got = collect(chain(&[&a]).stream(request()).await).await;
    assert_eq!(got.text(), "one two three four five six");
    assert!(got.finish.is_some());
}

#[tokio::test(start_paused = true)]
async fn all_failed_lists_each_provider() {
    let a = ScriptedProvider::new("a")
        .with_model("ma")
        .with_default(vec![ScriptStep::Fail(LlmErrorKind::Unavailable)])
        .shared();
    let b = ScriptedProvider::new("b").with_model("mb").shared();
    b.push_start_failure(LlmError::new(
        "b",
        LlmErrorKind::QuotaExhausted,
        "credits ran out",
    ));
    let got = collect(chain(&[&a, &b]).stream(request()).await).await;
    let error = got.error.unwrap();
    assert_eq!(error.kind, LlmErrorKind::AllFailed);
    assert!(!error.output_sent);
    assert!(
        error
            .message
            .contains("a (ma): Unavailable after 3 attempts"),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .contains("b (mb): QuotaExhausted: credits ran out"),
        "{}",
        error.message
    );
    assert_eq!((a.calls(), b.calls()), (3, 1));
}

#[tokio::test(start_paused = true)]
async fn empty_chain_fails_cleanly() {
    let error = FallbackChain::new(Vec::new())
        .stream(request())
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind, LlmErrorKind::AllFailed);
}

#[tokio::test(start_paused = true)]
async fn breaker_skips_a_dead_provider_then_probes_it() {
    let a = ScriptedProvider::new("a")
        .with_default(vec![ScriptStep::Fail(LlmErrorKind::Auth)])
        .shared();
    let b = ScriptedProvider::new("b").shared();
    let c = chain(&[&a, &b]);
    for _ in 0..3 {
        assert_eq!(
            collect(c.stream(request()).await)
                .await
                .finish
                .unwrap()
                .provider,
            "b"
        );
    }
    assert_eq!(a.calls(), 3);
    let states: Vec<_> = c.status().into_iter().map(|s| (s.name, s.state)).collect();
    assert_eq!(
        states,
        [
            ("a".into(), ProviderState::CoolingDown),
            ("b".into(), ProviderState::Ok)
        ]
    );

    // Open: skipped.
    assert_eq!(
        collect(c.stream(request()).await)
            .await
            .finish
            .unwrap()
            .provider,
        "b"
    );
    assert_eq!(a.calls(), 3);

    // After the cooldown one probe goes through; it fails, so it opens again.
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(c.status()[0].state, ProviderState::Ok);
    collect(c.stream(request()).await).await;
    assert_eq!(a.calls(), 4);
    collect(c.stream(request()).await).await;
    assert_eq!(a.calls(), 4);

    // Next probe succeeds: closed again, used normally.
    tokio::time::advance(Duration::from_secs(30)).await;
    a.push_script(vec![text("back")]);
    let got = collect(c.stream(request()).await).await;
    assert_eq!(
        (got.text().as_str(), got.finish.unwrap().provider.as_str()),
        ("back", "a")
    );
    assert_eq!(c.status()[0].state, ProviderState::Ok);
    assert_eq!(
        collect(c.stream(request()).await)
            .await
            .finish
            .unwrap()
            .provider,
        "b"
    );
    assert_eq!(a.calls(), 6);
}

#[tokio::test(start_paused = true)]
async fn all_members_open_reports_cooling_down() {
    let a = ScriptedProvider::new("a")
        .with_default(vec![ScriptStep::Fail(LlmErrorKind::Auth)])
        .shared();
    let c = touchy_chain(&[&a]);
    collect(c.stream(request()).await).await;
    let error = collect(c.stream(request()).await).await.error.unwrap();
    assert_eq!(error.kind, LlmErrorKind::AllFailed);
    assert!(error.message.contains("cooling down"), "{}", error.message);
    assert_eq!(a.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn chains_nest_and_describe_themselves() {
    let a = ScriptedProvider::new("a").with_model("ma").shared();
    let b = ScriptedProvider::new("b").with_model("mb").shared();
    let inner = chain(&[&a, &b]);
    assert_eq!(inner.describe(), "a (ma), b (mb)");
    assert_eq!(inner.model(), "ma,mb");
    let outer = FallbackChain::new(vec![Arc::new(inner) as Arc<dyn LlmProvider>]);
    let names: Vec<_> = outer.status().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["a", "b"]);
    // `complete` goes through each chain to the members' own `complete`.
    a.push_completion(vec![text("ok")]);
    let answer = outer.complete(request()).await.unwrap();
    assert_eq!(
        (answer.text.as_str(), answer.finish.provider.as_str()),
        ("ok", "a")
    );
    assert_eq!((a.completion_calls(), b.completion_calls()), (1, 0));
}
