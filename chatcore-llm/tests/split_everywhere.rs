//! Whole provider decoding (SSE + JSON + finish rules) gives the same answer
//! wherever the network cuts the body: at every single byte offset and at
//! every pair of offsets of a stream with multi-byte characters and CRLFs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(all(feature = "gemini", feature = "openai"))]

mod support;

use bytes::Bytes;
use chatcore::LlmStream;
use chatcore_llm::{GeminiProvider, OpenAiProvider};
use support::{collect, sse_events, Collected};

fn parts(body: &[u8], cuts: &[usize]) -> Vec<Result<Bytes, std::io::Error>> {
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        out.push(Ok(Bytes::copy_from_slice(&body[start..cut])));
        start = cut;
    }
    out.push(Ok(Bytes::copy_from_slice(&body[start..])));
    out
}

fn summary(got: &Collected) -> (String, Option<chatcore::Finish>, Option<String>) {
    (
        got.text(),
        got.finish.clone(),
        got.error.as_ref().map(|e| e.to_string()),
    )
}

async fn check_all_splits(
    body: &str,
    decode: impl Fn(Vec<Result<Bytes, std::io::Error>>) -> LlmStream,
) -> Collected {
    let bytes = body.as_bytes();
    let whole = collect(Ok(decode(parts(bytes, &[])))).await;
    let expected = summary(&whole);
    for i in 0..=bytes.len() {
        let got = collect(Ok(decode(parts(bytes, &[i])))).await;
        assert_eq!(summary(&got), expected, "cut at {i}");
    }
    // Pairs of cuts on a coarser grid keep the test fast.
    for i in (0..=bytes.len()).step_by(3) {
        for j in (i..=bytes.len()).step_by(5) {
            let got = collect(Ok(decode(parts(bytes, &[i, j])))).await;
            assert_eq!(summary(&got), expected, "cuts at {i},{j}");
        }
    }
    whole
}

#[tokio::test]
async fn gemini_crlf_stream() {
    let body = sse_events(
        &[
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Grüße 🦀 "}]}}]}"#,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"日本"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2}}"#,
        ],
        "\r\n",
    );
    let gemini = GeminiProvider::new("k");
    let got = check_all_splits(&body, |p| gemini.decode_sse(futures_util::stream::iter(p))).await;
    assert_eq!(got.text(), "Grüße 🦀 日本");
    assert!(got.finish.is_some());
}

#[tokio::test]
async fn gemini_raw_error_tail() {
    let body =
        format!(
        "{}{{\n  \"error\": {{\n    \"code\": 503,\n    \"status\": \"UNAVAILABLE\"\n  }}\n}}\n",
        sse_events(&[r#"{"candidates":[{"content":{"parts":[{"text":"é"}]}}]}"#], "\r\n")
    );
    let gemini = GeminiProvider::new("k");
    let got = check_all_splits(&body, |p| gemini.decode_sse(futures_util::stream::iter(p))).await;
    assert_eq!(got.text(), "é");
    assert!(got.error.unwrap().output_sent);
}

#[tokio::test]
async fn openai_stream_with_comments() {
    let body = format!(
        ": keep-alive\n\n{}",
        sse_events(
            &[
                r#"{"choices":[{"index":0,"delta":{"content":"ça 🚀"},"finish_reason":null}]}"#,
                r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}"#,
                "[DONE]",
            ],
            "\n",
        )
    );
    let openai = OpenAiProvider::new("k");
    let got = check_all_splits(&body, |p| openai.decode_sse(futures_util::stream::iter(p))).await;
    assert_eq!(got.text(), "ça 🚀");
    assert!(matches!(got.finish, Some(ref f) if f.usage.is_some()));
}

#[tokio::test]
async fn io_error_mid_body_is_unavailable_with_output() {
    let gemini = GeminiProvider::new("k");
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(sse_events(
            &[r#"{"candidates":[{"content":{"parts":[{"text":"a"}]}}]}"#],
            "\n",
        ))),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset",
        )),
    ];
    let got = collect(Ok(gemini.decode_sse(futures_util::stream::iter(chunks)))).await;
    assert_eq!(got.text(), "a");
    let error = got.error.unwrap();
    assert_eq!(
        (error.kind, error.output_sent),
        (chatcore::LlmErrorKind::Unavailable, true)
    );
}
