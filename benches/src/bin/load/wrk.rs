//! Running `wrk` and reading its `--latency` report.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

/// One wrk run.
#[derive(Debug, Clone, Default)]
pub struct WrkResult {
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    pub socket_errors: u64,
    /// Non-2xx responses by status ("409=3 500=1"), when the script counts them.
    pub statuses: String,
}

impl WrkResult {
    pub fn to_json(&self) -> Value {
        json!({
            "requests": self.requests, "rps": self.rps, "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms, "non_2xx": self.non_2xx, "socket_errors": self.socket_errors,
            "non_2xx_by_status": self.statuses,
        })
    }
}

/// How to drive a route.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub threads: u32,
    pub connections: u32,
    pub seconds: u32,
}

/// Runs wrk against `url` with optional headers and Lua script.
pub fn run(url: &str, load: Load, headers: &[String], script: Option<&Path>) -> Result<WrkResult> {
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.seconds))
        .arg("--timeout")
        .arg("10s")
        .arg("--latency");
    for h in headers {
        command.arg("-H").arg(h);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command.arg(url);
    let out = command
        .output()
        .context("running wrk (install it: apt-get install -y wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "wrk failed ({}): {text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse(&text).with_context(|| format!("reading wrk's report:\n{text}"))
}

/// A wrk duration ("850.00us", "1.23ms", "2.00s") in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => return None,
    })
}

pub fn parse(text: &str) -> Result<WrkResult> {
    let mut r = WrkResult::default();
    let mut seen_rps = false;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => r.p50_ms = millis(v).context("p50")?,
            ["99%", v] => r.p99_ms = millis(v).context("p99")?,
            ["Requests/sec:", v] => {
                r.rps = v.parse().context("Requests/sec")?;
                seen_rps = true;
            }
            ["Non-2xx", "or", "3xx", "responses:", v] => r.non_2xx = v.parse()?,
            ["Statuses:", rest @ ..] => r.statuses = rest.join(" "),
            [n, "requests", "in", ..] => r.requests = n.parse()?,
            ["Socket", "errors:", rest @ ..] => {
                r.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    if !seen_rps {
        bail!("no Requests/sec line");
    }
    Ok(r)
}

/// A Lua script for `POST /chat/send` that spreads requests over `sessions`:
/// wrk thread `t` of `threads` takes sessions `t, t+threads, …` in turn, so
/// two in-flight requests never share a session while each thread has more
/// sessions than connections.
pub fn send_script(token: &str, sessions: &[String], threads: u32) -> String {
    let ids: Vec<String> = sessions.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"local ids = {{{ids}}}
local next_tid = 0
local all_threads = {{}}
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(all_threads, thread)
end
statuses = {{}}
function response(status, headers, body)
  if status < 200 or status > 299 then
    statuses[status] = (statuses[status] or 0) + 1
  end
end
function done(summary, latency, requests)
  local total = {{}}
  for _, t in ipairs(all_threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
  end
  local parts = {{}}
  for k, v in pairs(total) do table.insert(parts, k .. "=" .. v) end
  io.write("Statuses: " .. table.concat(parts, " ") .. "\n")
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local i = 0
function request()
  local idx = ((tid or 0) + i * {threads}) % #ids + 1
  i = i + 1
  return wrk.format(nil, "/chat/send", nil, '{{"session_id":"' .. ids[idx] .. '","content":"hello from the load benchmark"}}')
end
"#,
        ids = ids.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_report() -> Result<()> {
        let text = "Running 2s test @ http://127.0.0.1:1/hello
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.51ms  400.00us   9.87ms   80.00%
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    2.00ms
     99%    1.10s
  80000 requests in 2.00s, 9.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  40000.50
Transfer/sec:      4.50MB
";
        let r = parse(text)?;
        assert!((r.p50_ms - 0.85).abs() < 1e-9);
        assert!((r.p99_ms - 1100.0).abs() < 1e-9);
        assert_eq!(r.requests, 80000);
        assert_eq!(r.non_2xx, 7);
        assert_eq!(r.socket_errors, 3);
        assert!((r.rps - 40000.5).abs() < 1e-9);
        Ok(())
    }
}
