//! The table, the JSON file, the targets and the pass/fail checks.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::fanout::{FanoutResult, FANOUT_CPU_RATIO_TARGET, FANOUT_P99_TARGET_MS};
use crate::flood::FloodResult;
use crate::sse::SseResult;
use crate::wrk::WrkResult;
use crate::ws::WsResult;

/// One wrk run of one route.
#[derive(Debug)]
pub struct Row {
    pub label: String,
    pub route: String,
    pub wrk: WrkResult,
    /// Every response must be 2xx (GETs); for sends, at most 1 % may not be.
    pub all_2xx: bool,
    /// Server CPU time (user + system) per completed request, in µs.
    pub cpu_us_per_request: Option<f64>,
}

impl Row {
    pub fn new(label: &str, route: &str, wrk: WrkResult, all_2xx: bool) -> Row {
        Row {
            label: label.into(),
            route: route.into(),
            wrk,
            all_2xx,
            cpu_us_per_request: None,
        }
    }

    /// Records the server CPU seconds used during the run.
    pub fn with_server_cpu(mut self, cpu_s: f64) -> Row {
        if self.wrk.requests > 0 {
            self.cpu_us_per_request = Some(cpu_s * 1e6 / self.wrk.requests as f64);
        }
        self
    }
}

/// Minimum share of the bare-Rocket ceiling per route (SQLite).
fn target(route: &str) -> Option<f64> {
    match route {
        "GET /auth/me" => Some(0.50),
        "GET /chat/sessions" => Some(0.35),
        "GET /chat/sessions/{id}" => Some(0.25),
        "POST /chat/send" => Some(0.10),
        _ => None,
    }
}

const SSE_P99_TARGET_MS: f64 = 5.0;
const WS_KIB_TARGET: f64 = 40.0;
const FLOOD_P99_TARGET_MS: f64 = 20.0;

#[derive(Debug, Default)]
pub struct Report {
    pub smoke: bool,
    pub rows: Vec<Row>,
    pub sse: Option<SseResult>,
    pub ws: Option<WsResult>,
    pub flood: Option<FloodResult>,
    pub fanout: Vec<FanoutResult>,
    pub notes: Vec<String>,
    pub failures: Vec<String>,
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, usize::from)
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

/// A target judged only at its full size: below it, "n/a" (smoke runs).
fn sized(full_size: bool, ok: bool) -> &'static str {
    if full_size {
        met(ok)
    } else {
        "n/a (below target size)"
    }
}

impl Report {
    pub fn new(smoke: bool) -> Report {
        Report {
            smoke,
            ..Report::default()
        }
    }

    pub fn note(&mut self, note: &str) {
        eprintln!("note: {note}");
        self.notes.push(note.to_owned());
    }

    pub fn check(&mut self, ok: bool, failure: &str) {
        if !ok {
            eprintln!("FAIL: {failure}");
            self.failures.push(failure.to_owned());
        }
    }

    pub fn http(&mut self, row: Row) {
        let w = &row.wrk;
        let name = format!("{} {}", row.label, row.route);
        eprintln!(
            "{name}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, non-2xx {}",
            w.rps, w.p50_ms, w.p99_ms, w.non_2xx
        );
        self.check(w.requests > 0, &format!("{name}: no requests completed"));
        self.check(
            w.socket_errors == 0,
            &format!("{name}: {} socket errors", w.socket_errors),
        );
        let allowed = if row.all_2xx { 0 } else { w.requests / 100 };
        self.check(
            w.non_2xx <= allowed,
            &format!(
                "{name}: {} of {} responses not 2xx ({})",
                w.non_2xx, w.requests, w.statuses
            ),
        );
        if !w.statuses.is_empty() {
            self.note(&format!("{name}: non-2xx by status: {}", w.statuses));
        }
        self.rows.push(row);
    }

    fn ceiling(&self) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.label.is_empty())
            .map(|r| r.wrk.rps)
    }

    fn ratio(&self, row: &Row) -> Option<f64> {
        self.ceiling().filter(|c| *c > 0.0).map(|c| row.wrk.rps / c)
    }

    fn verdict(&self, row: &Row) -> Option<(f64, bool)> {
        let t = target(&row.route).filter(|_| row.label == "sqlite")?;
        Some((t, self.ratio(row)? >= t))
    }

    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "\nchatcore load benchmark ({}) — {} cores, {}",
            if self.smoke { "SMOKE" } else { "full" },
            cores(),
            cpu_model()
        );
        let _ = writeln!(
            t,
            "{:<10} {:<26} {:>9} {:>7} {:>9} {:>9} {:>8} {:>11}  target",
            "db", "route", "req/s", "ratio", "p50 ms", "p99 ms", "non-2xx", "cpu µs/req"
        );
        for r in &self.rows {
            let ratio = self
                .ratio(r)
                .map_or("-".into(), |x| format!("{:.0}%", x * 100.0));
            let verdict = self.verdict(r).map_or(String::new(), |(t, ok)| {
                format!("≥{:.0}% {}", t * 100.0, met(ok))
            });
            let w = &r.wrk;
            let cpu = r
                .cpu_us_per_request
                .map_or("-".into(), |us| format!("{us:.0}"));
            let _ = writeln!(
                t,
                "{:<10} {:<26} {:>9.0} {:>7} {:>9.2} {:>9.2} {:>8} {:>11}  {verdict}",
                if r.label.is_empty() { "-" } else { &r.label },
                r.route,
                w.rps,
                ratio,
                w.p50_ms,
                w.p99_ms,
                w.non_2xx,
                cpu
            );
        }
        if let Some(s) = &self.sse {
            let _ = writeln!(t, "SSE: {}/{} replies complete, {} deltas, all delivered: {}; gap excess over 20 ms p50 {:.2} ms, p99 {:.2} ms (max {:.1}); once all started ({} gaps) p50 {:.2} / p99 {:.2} ms; first delta p99 {:.1} ms; total {:.2} s; CPU server {:.1} s, client {:.1} s  target p99 <{SSE_P99_TARGET_MS} ms with 1000: {}",
                s.complete, s.streams, s.deltas, s.failures.is_empty(), s.excess_p50_ms, s.excess_p99_ms, s.excess_max_ms, s.steady_gaps, s.steady_excess_p50_ms, s.steady_excess_p99_ms, s.first_delta_p99_ms, s.total_s, s.server_cpu_s, s.client_cpu_s,
                sized(s.streams >= 1000, s.failures.is_empty() && s.excess_p99_ms < SSE_P99_TARGET_MS));
        }
        if let Some(w) = &self.ws {
            let _ = writeln!(t, "WebSocket: {}/{} idle authenticated sockets held (opened in {:.1} s); server RSS {} -> {} KiB = {:.1} KiB per connection  target 10000 under {WS_KIB_TARGET} KiB: {}",
                w.held, w.target, w.open_s, w.rss_before_kib, w.rss_after_kib, w.kib_per_connection,
                sized(w.target >= 10_000, w.held >= 10_000 && w.kib_per_connection < WS_KIB_TARGET));
        }
        if let Some(f) = &self.flood {
            let _ = writeln!(t, "Login flood: GET /auth/me (4 conns) p50 {:.2} / p99 {:.2} ms alone, p50 {:.2} / p99 {:.2} ms ({:.0} req/s) during {} concurrent logins ({} ok, {} failed); VmHWM {} -> {} KiB  target p99 <{FLOOD_P99_TARGET_MS} ms: {}",
                f.baseline.p50_ms, f.baseline.p99_ms, f.during.p50_ms, f.during.p99_ms, f.during.rps, f.logins_in_flight, f.logins_ok, f.logins_failed,
                f.hwm_before_kib, f.hwm_after_kib, met(f.during.p99_ms < FLOOD_P99_TARGET_MS));
        }
        for f in &self.fanout {
            let _ = writeln!(t, "Messenger fan-out ({}): {} members with sockets, {} messages at {:.0}/s (asked {}), {}/{} reached every socket; post-to-last-socket p50 {:.2} / p99 {:.2} / max {:.1} ms; server CPU {:.0} µs per message vs {:.0} µs per POST /chat/send = {:.2}x  target p99 <{FANOUT_P99_TARGET_MS} ms and ≤{FANOUT_CPU_RATIO_TARGET}x at 50 members, 500/s: {}",
                f.label, f.members, f.messages, f.achieved_rate, f.rate, f.complete, f.messages, f.p50_ms, f.p99_ms, f.max_ms,
                f.cpu_us_per_message, f.send_cpu_us, f.cpu_ratio(), sized(f.full_size(), f.met()));
        }
        for n in &self.notes {
            let _ = writeln!(t, "note: {n}");
        }
        let _ = writeln!(
            t,
            "checks: {}",
            if self.failures.is_empty() {
                "all passed".to_owned()
            } else {
                format!("{} FAILED", self.failures.len())
            }
        );
        t
    }

    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut v = r.wrk.to_json();
                v["database"] = json!(if r.label.is_empty() {
                    Value::Null
                } else {
                    json!(r.label)
                });
                v["route"] = json!(r.route);
                v["server_cpu_us_per_request"] = json!(r.cpu_us_per_request);
                v["ratio_to_ceiling"] = json!(self.ratio(r));
                if let Some((t, ok)) = self.verdict(r) {
                    v["target_ratio"] = json!(t);
                    v["target_met"] = json!(ok);
                }
                v
            })
            .collect();
        json!({
            "mode": if self.smoke { "smoke" } else { "full" },
            "machine": { "cores": cores(), "cpu_model": cpu_model() },
            "http": rows,
            "sse": self.sse.as_ref().map(|s| {
                let mut v = s.to_json();
                v["target"] = json!(sized(s.streams >= 1000, s.failures.is_empty() && s.excess_p99_ms < SSE_P99_TARGET_MS));
                v
            }),
            "websocket": self.ws.as_ref().map(|w| {
                let mut v = w.to_json();
                v["target"] = json!(sized(w.target >= 10_000, w.held >= 10_000 && w.kib_per_connection < WS_KIB_TARGET));
                v
            }),
            "login_flood": self.flood.as_ref().map(|f| {
                let mut v = f.to_json();
                v["target"] = json!(met(f.during.p99_ms < FLOOD_P99_TARGET_MS));
                v
            }),
            "messenger_fanout": self.fanout.iter().map(|f| {
                let mut v = f.to_json();
                v["target"] = json!(sized(f.full_size(), f.met()));
                v
            }).collect::<Vec<_>>(),
            "notes": self.notes,
            "failures": self.failures,
        })
    }
}
