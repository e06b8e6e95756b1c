//! `FallbackChain::complete` (side requests such as titles) over scripted
//! providers, on tokio's paused clock: members in order, no retries, the
//! request's own time limit, and no effect on the circuit breakers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use chatcore::testing::{ScriptStep, ScriptedProvider};
use chatcore::{LlmErrorKind, LlmProvider, LlmRequest, ProviderState};
use chatcore_llm::FallbackChain;
use support::chain::{chain, request, touchy_chain};
use support::collect;
use tokio::time::Instant;

fn answer(text: &str) -> Vec<ScriptStep> {
    vec![ScriptStep::Text(text.to_owned())]
}

fn fail(kind: LlmErrorKind) -> Vec<ScriptStep> {
    vec![ScriptStep::Fail(kind)]
}

fn limited(limit: Duration) -> LlmRequest {
    LlmRequest {
        timeout: Some(limit),
        ..request()
    }
}

fn states(chain: &FallbackChain) -> Vec<ProviderState> {
    chain.status().into_iter().map(|s| s.state).collect()
}

#[tokio::test(start_paused = true)]
async fn a_failure_falls_over_to_the_next_member_without_retries() {
    let a = ScriptedProvider::new("a").shared();
    a.push_completion(fail(LlmErrorKind::Unavailable));
    let b = ScriptedProvider::new("b").shared();
    b.push_completion(answer("From b"));
    let started = Instant::now();
    let answer = chain(&[&a, &b]).complete(request()).await.unwrap();
    assert_eq!(
        (answer.text.as_str(), answer.finish.provider.as_str()),
        ("From b", "b")
    );
    assert_eq!((a.completion_calls(), b.completion_calls()), (1, 1));
    assert_eq!((a.calls(), b.calls()), (0, 0), "no stream was opened");
    assert_eq!(started.elapsed(), Duration::ZERO, "no backoff");
}

#[tokio::test(start_paused = true)]
async fn the_first_member_that_answers_wins() {
    let a = ScriptedProvider::new("a").shared();
    a.push_completion(answer("From a"));
    let b = ScriptedProvider::new("b").shared();
    let answer = chain(&[&a, &b]).complete(request()).await.unwrap();
    assert_eq!(answer.text, "From a");
    assert_eq!(b.completion_calls(), 0);
    assert_eq!(a.completion_requests(), vec![request()]);
}

#[tokio::test(start_paused = true)]
async fn failing_completions_never_open_a_circuit() {
    let a = ScriptedProvider::new("a")
        .with_default_completion(fail(LlmErrorKind::Unavailable))
        .shared();
    let b = ScriptedProvider::new("b")
        .with_default_completion(fail(LlmErrorKind::Timeout))
        .shared();
    let c = chain(&[&a, &b]);
    for _ in 0..20 {
        let error = c.complete(request()).await.unwrap_err();
        assert_eq!(error.kind, LlmErrorKind::AllFailed);
        assert!(
            error.message.contains("a (scripted-model): Unavailable"),
            "{}",
            error.message
        );
    }
    assert_eq!((a.completion_calls(), b.completion_calls()), (20, 20));
    assert_eq!(states(&c), [ProviderState::Ok, ProviderState::Ok]);
    // Replies still go to the first member, with its retries.
    a.push_script(fail(LlmErrorKind::Unavailable));
    let got = collect(c.stream(request()).await).await;
    assert_eq!(got.finish.unwrap().provider, "a");
    assert_eq!(a.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_member_cooling_down_is_skipped_and_its_probe_left_to_replies() {
    let a = ScriptedProvider::new("a")
        .with_default(fail(LlmErrorKind::Auth))
        .shared();
    let b = ScriptedProvider::new("b").shared();
    let c = touchy_chain(&[&a, &b]);
    collect(c.stream(request()).await).await;
    assert_eq!(states(&c), [ProviderState::CoolingDown, ProviderState::Ok]);

    b.push_completion(answer("From b"));
    assert_eq!(c.complete(request()).await.unwrap().text, "From b");
    assert_eq!(a.completion_calls(), 0, "skipped while cooling down");

    // After the cooldown a side request may use the member, but it neither
    // claims the probe nor closes the breaker: the next reply is the probe
    // (one attempt, no retries).
    tokio::time::advance(Duration::from_secs(10)).await;
    a.push_completion(answer("From a"));
    assert_eq!(c.complete(request()).await.unwrap().text, "From a");
    assert_eq!(states(&c), [ProviderState::Ok, ProviderState::Ok]);
    let before = a.calls();
    a.push_script(fail(LlmErrorKind::Unavailable));
    let got = collect(c.stream(request()).await).await;
    assert_eq!(got.finish.unwrap().provider, "b");
    assert_eq!(a.calls() - before, 1, "a probe is one attempt");
    assert_eq!(states(&c), [ProviderState::CoolingDown, ProviderState::Ok]);
}

#[tokio::test(start_paused = true)]
async fn each_member_gets_the_requests_time_limit() {
    let a = ScriptedProvider::new("a").shared();
    a.push_completion(vec![
        ScriptStep::Sleep(Duration::from_secs(60)),
        ScriptStep::Text("Too late".to_owned()),
    ]);
    let b = ScriptedProvider::new("b").shared();
    b.push_completion(answer("In time"));
    let c = chain(&[&a, &b]);
    let started = Instant::now();
    let answer = c.complete(limited(Duration::from_secs(2))).await.unwrap();
    assert_eq!(answer.text, "In time");
    assert_eq!(started.elapsed(), Duration::from_secs(2));

    // Without a limit of its own a request gets the first-token timeout (3 s).
    a.push_completion(vec![ScriptStep::Hang]);
    b.push_completion(vec![ScriptStep::Hang]);
    let started = Instant::now();
    let error = c.complete(request()).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_secs(6));
    assert_eq!(error.kind, LlmErrorKind::AllFailed);
    assert!(error.message.contains("Timeout"), "{}", error.message);
    assert_eq!(states(&c), [ProviderState::Ok, ProviderState::Ok]);
}

#[tokio::test(start_paused = true)]
async fn a_blocked_request_is_not_passed_on() {
    let a = ScriptedProvider::new("a").shared();
    a.push_completion(fail(LlmErrorKind::Blocked));
    let b = ScriptedProvider::new("b").shared();
    b.push_completion(answer("From b"));
    let error = chain(&[&a, &b]).complete(request()).await.unwrap_err();
    assert_eq!(error.kind, LlmErrorKind::Blocked);
    assert_eq!(b.completion_calls(), 0);
}
