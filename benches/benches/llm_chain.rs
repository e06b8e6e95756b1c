//! Per-delta cost of SSE decoding and of relaying deltas through the
//! FallbackChain, next to a bare tokio mpsc channel.
//!
//! Every benchmark streams `DELTAS` deltas and reports throughput in
//! elements, so criterion's "time per element" is the cost per delta
//! (target: under 20 µs).
//!
//! `cargo bench -p chatcore-benches --bench llm_chain`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chatcore::{
    Finish, FinishReason, LlmError, LlmEvent, LlmProvider, LlmRequest, LlmStream, Usage,
};
use chatcore_llm::sse::SseDecoder;
use chatcore_llm::{ChainConfig, FallbackChain, GeminiProvider, OpenAiProvider};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::StreamExt;

const DELTAS: usize = 500;

fn gemini_body() -> Vec<Bytes> {
    let mut chunks = Vec::with_capacity(DELTAS);
    for i in 0..DELTAS {
        let finish = if i + 1 == DELTAS {
            r#","finishReason":"STOP""#
        } else {
            ""
        };
        chunks.push(Bytes::from(format!(
            "data: {{\"candidates\":[{{\"content\":{{\"role\":\"model\",\"parts\":[{{\"text\":\"word{i} \"}}]}}{finish},\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":9,\"candidatesTokenCount\":{i},\"totalTokenCount\":{}}},\"modelVersion\":\"gemini-2.5-flash\"}}\r\n\r\n",
            i + 9
        )));
    }
    chunks
}

fn openai_body() -> Vec<Bytes> {
    let mut chunks = Vec::with_capacity(DELTAS + 3);
    for i in 0..DELTAS {
        chunks.push(Bytes::from(format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"word{i} \"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        )));
    }
    chunks.push(Bytes::from_static(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    ));
    chunks.push(Bytes::from_static(b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":500}}\n\ndata: [DONE]\n\n"));
    chunks
}

fn body_stream(
    chunks: Vec<Bytes>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::iter(chunks.into_iter().map(Ok))
}

async fn drain(mut stream: LlmStream) -> usize {
    let mut n = 0;
    while let Some(item) = stream.next().await {
        if let Ok(LlmEvent::Delta(text)) = item {
            n += text.len();
        }
    }
    n
}

/// Replays recorded Gemini SSE bytes through the real decoder.
struct ReplayGemini {
    inner: GeminiProvider,
    chunks: Vec<Bytes>,
}

#[async_trait]
impl LlmProvider for ReplayGemini {
    fn name(&self) -> &str {
        "gemini"
    }
    fn model(&self) -> &str {
        "gemini-2.5-flash"
    }
    async fn stream(&self, _request: LlmRequest) -> Result<LlmStream, LlmError> {
        Ok(self.inner.decode_sse(body_stream(self.chunks.clone())))
    }
}

/// Yields ready-made deltas: isolates the chain's own relay cost.
struct Deltas(Vec<String>);

#[async_trait]
impl LlmProvider for Deltas {
    fn name(&self) -> &str {
        "mem"
    }
    fn model(&self) -> &str {
        "mem"
    }
    async fn stream(&self, _request: LlmRequest) -> Result<LlmStream, LlmError> {
        let finish = Finish {
            provider: "mem".into(),
            model: "mem".into(),
            reason: FinishReason::Stop,
            usage: Some(Usage::default()),
        };
        let events = self
            .0
            .clone()
            .into_iter()
            .map(|d| Ok(LlmEvent::Delta(d)))
            .chain(std::iter::once(Ok(LlmEvent::Finished(finish))));
        Ok(Box::pin(futures_util::stream::iter(events)))
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(unreachable_runtime)
}

#[allow(clippy::panic)]
fn unreachable_runtime(error: std::io::Error) -> tokio::runtime::Runtime {
    panic!("cannot build a tokio runtime: {error}")
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let gemini_chunks = gemini_body();
    let openai_chunks = openai_body();
    let words: Vec<String> = (0..DELTAS).map(|i| format!("word{i} ")).collect();

    let mut group = c.benchmark_group("llm_per_delta");
    group.throughput(Throughput::Elements(DELTAS as u64));
    group.measurement_time(Duration::from_secs(4));

    group.bench_function("sse_decoder_only", |b| {
        b.iter(|| {
            let mut decoder = SseDecoder::new();
            let mut events = Vec::new();
            for chunk in &gemini_chunks {
                decoder.feed_into(chunk, &mut events);
            }
            black_box(events.len())
        })
    });

    let gemini = GeminiProvider::new("unused");
    group.bench_function("gemini_decode", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(drain(gemini.decode_sse(body_stream(gemini_chunks.clone()))).await)
        })
    });

    let openai = OpenAiProvider::new("unused");
    group.bench_function("openai_decode", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(drain(openai.decode_sse(body_stream(openai_chunks.clone()))).await)
        })
    });

    let direct = Deltas(words.clone());
    group.bench_function("provider_direct_no_chain", |b| {
        b.to_async(&rt).iter(|| async {
            let stream = direct.stream(LlmRequest::default()).await;
            black_box(
                drain(stream.unwrap_or_else(|_| Box::pin(futures_util::stream::empty()))).await,
            )
        })
    });

    let relay = FallbackChain::with_config(
        vec![Arc::new(Deltas(words.clone())) as Arc<dyn LlmProvider>],
        ChainConfig::default(),
    );
    group.bench_function("chain_relay", |b| {
        b.to_async(&rt).iter(|| async {
            let stream = relay.stream(LlmRequest::default()).await;
            black_box(
                drain(stream.unwrap_or_else(|_| Box::pin(futures_util::stream::empty()))).await,
            )
        })
    });

    let full = FallbackChain::with_config(
        vec![Arc::new(ReplayGemini {
            inner: GeminiProvider::new("unused"),
            chunks: gemini_chunks.clone(),
        }) as Arc<dyn LlmProvider>],
        ChainConfig::default(),
    );
    group.bench_function("chain_gemini_decode_and_relay", |b| {
        b.to_async(&rt).iter(|| async {
            let stream = full.stream(LlmRequest::default()).await;
            black_box(
                drain(stream.unwrap_or_else(|_| Box::pin(futures_util::stream::empty()))).await,
            )
        })
    });

    group.bench_function("baseline_tokio_mpsc", |b| {
        b.to_async(&rt).iter(|| async {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(64);
            let words = words.clone();
            let producer = tokio::spawn(async move {
                for word in words {
                    if tx.send(word).await.is_err() {
                        break;
                    }
                }
            });
            let mut n = 0;
            while let Some(word) = rx.recv().await {
                n += word.len();
            }
            let _ = producer.await;
            black_box(n)
        })
    });

    group.finish();
}

criterion_group!(llm_chain, benches);
criterion_main!(llm_chain);
