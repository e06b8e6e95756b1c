//! [`ScriptedProvider`]: an [`LlmProvider`] that plays a script, for tests of
//! chains and services (fixed replies, delays, failures before or after the
//! first token, hanging forever). Streamed replies and non-streamed
//! completions (titles) are scripted and recorded apart.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::Usage;
use crate::llm::{
    Completion, Finish, FinishReason, LlmError, LlmErrorKind, LlmEvent, LlmProvider, LlmRequest,
    LlmStream,
};

/// One step of a scripted reply.
#[derive(Clone, Debug)]
pub enum ScriptStep {
    /// Emit this text as a delta.
    Text(String),
    /// Wait this long (uses tokio time, so paused-clock tests work).
    Sleep(Duration),
    /// Fail with this kind (output_sent is set from what was emitted).
    Fail(LlmErrorKind),
    /// Never produce anything again (until the consumer drops the stream).
    Hang,
    /// End without a finish event (a truncated stream).
    Truncate,
}

/// A provider whose replies follow scripts. Each call to `stream` takes the
/// next script from the queue; when the queue is empty the default script
/// plays. Without any script it answers "ok".
///
/// `complete` has scripts of its own ([`ScriptedProvider::push_completion`],
/// [`ScriptedProvider::with_default_completion`]), played the same way
/// (the text pieces joined, `Sleep`, `Fail`, `Hang`; `Truncate` is a
/// protocol error), and never touches the stream scripts or
/// [`ScriptedProvider::calls`]. Without a completion script `complete`
/// fails (`Other`), so a service that asks for titles keeps its derived
/// titles unless a test scripts one.
#[derive(Debug)]
pub struct ScriptedProvider {
    name: String,
    model: String,
    queue: Mutex<VecDeque<Vec<ScriptStep>>>,
    default_script: Vec<ScriptStep>,
    calls: AtomicUsize,
    requests: Mutex<Vec<LlmRequest>>,
    fail_on_start: Mutex<VecDeque<LlmError>>,
    completions: Mutex<VecDeque<Vec<ScriptStep>>>,
    default_completion: Option<Vec<ScriptStep>>,
    completion_requests: Mutex<Vec<LlmRequest>>,
}

impl ScriptedProvider {
    /// A provider named `name` that answers "ok" by default.
    pub fn new(name: impl Into<String>) -> Self {
        ScriptedProvider {
            name: name.into(),
            model: "scripted-model".to_owned(),
            queue: Mutex::new(VecDeque::new()),
            default_script: vec![ScriptStep::Text("ok".to_owned())],
            calls: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            fail_on_start: Mutex::new(VecDeque::new()),
            completions: Mutex::new(VecDeque::new()),
            default_completion: None,
            completion_requests: Mutex::new(Vec::new()),
        }
    }

    /// Sets the model name it reports.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Every call plays `script` unless a queued script comes first.
    pub fn with_default(mut self, script: Vec<ScriptStep>) -> Self {
        self.default_script = script;
        self
    }

    /// Replies with these words, one delta each (separated by spaces), with
    /// `delay` before each.
    pub fn words(name: impl Into<String>, text: &str, delay: Duration) -> Self {
        let mut script = Vec::new();
        for (i, word) in text.split(' ').enumerate() {
            if !delay.is_zero() {
                script.push(ScriptStep::Sleep(delay));
            }
            let piece = if i == 0 {
                word.to_owned()
            } else {
                format!(" {word}")
            };
            script.push(ScriptStep::Text(piece));
        }
        Self::new(name).with_default(script)
    }

    /// Queues a script for the next call.
    pub fn push_script(&self, script: Vec<ScriptStep>) {
        lock(&self.queue).push_back(script);
    }

    /// Makes the next call fail before returning a stream.
    pub fn push_start_failure(&self, error: LlmError) {
        lock(&self.fail_on_start).push_back(error);
    }

    /// Every `complete` call plays `script` unless a queued completion
    /// script comes first.
    pub fn with_default_completion(mut self, script: Vec<ScriptStep>) -> Self {
        self.default_completion = Some(script);
        self
    }

    /// Queues a script for the next `complete` call.
    pub fn push_completion(&self, script: Vec<ScriptStep>) {
        lock(&self.completions).push_back(script);
    }

    /// How many times `stream` was called (`complete` calls not included).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The requests `stream` received, in order.
    pub fn requests(&self) -> Vec<LlmRequest> {
        lock(&self.requests).clone()
    }

    /// How many times `complete` was called.
    pub fn completion_calls(&self) -> usize {
        lock(&self.completion_requests).len()
    }

    /// The requests `complete` received (a chat service's title requests), in order.
    pub fn completion_requests(&self) -> Vec<LlmRequest> {
        lock(&self.completion_requests).clone()
    }

    /// Wraps it in an `Arc` (providers are shared).
    pub fn shared(self) -> Arc<Self> {
        Arc::new(self)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

#[async_trait]
impl LlmProvider for ScriptedProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn model(&self) -> &str {
        &self.model
    }

    async fn stream(&self, request: LlmRequest) -> Result<LlmStream, LlmError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        lock(&self.requests).push(request);
        if let Some(error) = lock(&self.fail_on_start).pop_front() {
            return Err(error);
        }
        let script = lock(&self.queue)
            .pop_front()
            .unwrap_or_else(|| self.default_script.clone());
        let name = self.name.clone();
        let model = self.model.clone();
        let state = (VecDeque::from(script), false, 0u32, false);
        let stream =
            futures_util::stream::unfold(state, move |(mut steps, mut sent, mut n, done)| {
                let name = name.clone();
                let model = model.clone();
                async move {
                    if done {
                        return None;
                    }
                    loop {
                        match steps.pop_front() {
                            Some(ScriptStep::Text(text)) => {
                                sent = true;
                                n += 1;
                                return Some((Ok(LlmEvent::Delta(text)), (steps, sent, n, false)));
                            }
                            Some(ScriptStep::Sleep(pause)) => tokio::time::sleep(pause).await,
                            Some(ScriptStep::Fail(kind)) => {
                                let error = LlmError::new(&name, kind, "scripted failure")
                                    .with_output_sent(sent);
                                return Some((Err(error), (steps, sent, n, true)));
                            }
                            Some(ScriptStep::Hang) => std::future::pending::<()>().await,
                            Some(ScriptStep::Truncate) => return None,
                            None => {
                                let finish = Finish {
                                    provider: name.clone(),
                                    model: model.clone(),
                                    reason: FinishReason::Stop,
                                    usage: Some(Usage {
                                        prompt_tokens: 1,
                                        completion_tokens: n,
                                    }),
                                };
                                return Some((
                                    Ok(LlmEvent::Finished(finish)),
                                    (steps, sent, n, true),
                                ));
                            }
                        }
                    }
                }
            });
        Ok(Box::pin(stream))
    }

    async fn complete(&self, request: LlmRequest) -> Result<Completion, LlmError> {
        lock(&self.completion_requests).push(request);
        let script = lock(&self.completions)
            .pop_front()
            .or_else(|| self.default_completion.clone())
            .ok_or_else(|| {
                LlmError::new(&self.name, LlmErrorKind::Other, "no completion scripted")
            })?;
        let mut text = String::new();
        for step in script {
            match step {
                ScriptStep::Text(piece) => text.push_str(&piece),
                ScriptStep::Sleep(pause) => tokio::time::sleep(pause).await,
                ScriptStep::Fail(kind) => {
                    return Err(LlmError::new(&self.name, kind, "scripted failure"))
                }
                ScriptStep::Hang => std::future::pending::<()>().await,
                ScriptStep::Truncate => {
                    return Err(LlmError::new(
                        &self.name,
                        LlmErrorKind::Protocol,
                        "scripted truncated answer",
                    ))
                }
            }
        }
        let finish = Finish {
            provider: self.name.clone(),
            model: self.model.clone(),
            reason: FinishReason::Stop,
            usage: None,
        };
        Ok(Completion { text, finish })
    }
}
