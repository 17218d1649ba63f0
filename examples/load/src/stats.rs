//! What the callers record, and the process's own resource figures from `/proc/self`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use livekit_core::Error;
use serde_json::{Value, json};

/// One caller's record of its calls; merged into one per transport at the end.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Latency of every call, in microseconds.
    latencies_us: Vec<u64>,
    /// Completion time (ms since the run started) and success of every call, in order.
    outcomes: Vec<(u32, bool)>,
    /// Start time (ms since the run started) and success of every call.
    starts: Vec<(u32, bool)>,
    /// Failures by kind: `transport/io`, `server/503 unavailable`, `deadline_exceeded`, ...
    errors: BTreeMap<String, u64>,
    /// Failures that are not a transport, server or deadline error.
    unclean: u64,
    /// Calls that took longer than their deadline plus the slack.
    over_deadline: u64,
    /// Per RPC: successes and failures.
    per_rpc: BTreeMap<&'static str, (u64, u64)>,
    /// The first message of each (RPC, kind) of failure.
    samples: BTreeMap<String, String>,
    /// `GetParticipant` of someone absent answered `not_found`, as it must.
    pub(crate) expected_not_found: u64,
    /// Listings that showed an unsafe call's effect more than once.
    pub(crate) duplicate_effects: u64,
    /// Rooms created that a failed delete may have left behind.
    pub(crate) leftover_rooms: Vec<String>,
}

impl Stats {
    /// Records one call of `rpc` that started at `started`; `expected` says which failure,
    /// if any, is the right answer (it then counts as a success).
    pub(crate) fn record<T>(
        &mut self,
        rpc: &'static str,
        run_started: Instant,
        started: Instant,
        limit: Duration,
        result: &Result<T, Error>,
        expected: fn(&Error) -> bool,
    ) {
        let now = Instant::now();
        let latency = now - started;
        self.latencies_us.push(latency.as_micros() as u64);
        if latency > limit {
            self.over_deadline += 1;
        }
        let ok = match result {
            Ok(_) => true,
            Err(error) if expected(error) => {
                self.expected_not_found += 1;
                true
            }
            Err(error) => {
                let (kind, clean) = classify(error);
                if !clean {
                    self.unclean += 1;
                }
                *self.errors.entry(kind.clone()).or_default() += 1;
                self.samples
                    .entry(format!("{rpc} {kind}"))
                    .or_insert_with(|| error.to_string());
                false
            }
        };
        let millis = |at: Instant| (at - run_started).as_millis().min(u32::MAX.into()) as u32;
        self.outcomes.push((millis(now), ok));
        self.starts.push((millis(started), ok));
        let tally = self.per_rpc.entry(rpc).or_default();
        if ok {
            tally.0 += 1;
        } else {
            tally.1 += 1;
        }
    }

    /// Adds another caller's record.
    pub(crate) fn merge(&mut self, other: Self) {
        self.latencies_us.extend(other.latencies_us);
        self.outcomes.extend(other.outcomes);
        self.starts.extend(other.starts);
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
        self.unclean += other.unclean;
        self.over_deadline += other.over_deadline;
        for (rpc, (ok, failed)) in other.per_rpc {
            let tally = self.per_rpc.entry(rpc).or_default();
            tally.0 += ok;
            tally.1 += failed;
        }
        for (key, message) in other.samples {
            self.samples.entry(key).or_insert(message);
        }
        self.expected_not_found += other.expected_not_found;
        self.duplicate_effects += other.duplicate_effects;
        self.leftover_rooms.extend(other.leftover_rooms);
    }

    pub(crate) fn calls(&self) -> usize {
        self.latencies_us.len()
    }

    pub(crate) fn failures(&self) -> u64 {
        self.errors.values().sum()
    }

    pub(crate) fn unclean(&self) -> u64 {
        self.unclean
    }

    pub(crate) fn over_deadline(&self) -> u64 {
        self.over_deadline
    }

    /// Successes after the last failure (all of them when nothing failed).
    pub(crate) fn successes_after_last_failure(&self) -> usize {
        let last_failure = self
            .outcomes
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(at, _)| *at)
            .max();
        self.outcomes
            .iter()
            .filter(|(at, ok)| *ok && last_failure.is_none_or(|last| *at > last))
            .count()
    }

    /// Successes and failures of the calls that started at or after `from_ms`.
    pub(crate) fn started_from(&self, from_ms: u32) -> (u64, u64) {
        self.starts.iter().filter(|(at, _)| *at >= from_ms).fold(
            (0, 0),
            |(ok, failed), (_, success)| {
                if *success {
                    (ok + 1, failed)
                } else {
                    (ok, failed + 1)
                }
            },
        )
    }

    /// Successes and failures of the RPCs whose name is in `rpcs`.
    pub(crate) fn tally_of(&self, rpcs: &[&str]) -> (u64, u64) {
        self.per_rpc
            .iter()
            .filter(|(rpc, _)| rpcs.contains(rpc))
            .fold((0, 0), |(ok, failed), (_, tally)| {
                (ok + tally.0, failed + tally.1)
            })
    }

    /// The failures of the RPCs in `rpcs`, by kind, as `"<rpc> <kind>"` → message samples.
    pub(crate) fn samples_of(&self, rpcs: &[&str]) -> BTreeMap<String, String> {
        self.samples
            .iter()
            .filter(|(key, _)| rpcs.iter().any(|rpc| key.starts_with(&format!("{rpc} "))))
            .map(|(key, message)| (key.clone(), message.clone()))
            .collect()
    }

    /// The JSON figures of this record, over `elapsed` (sorts the latencies).
    pub(crate) fn summarize(&mut self, elapsed: Duration) -> Value {
        self.latencies_us.sort_unstable();
        self.outcomes.sort_unstable();
        let percentile = |p: f64| -> f64 {
            if self.latencies_us.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * self.latencies_us.len() as f64).ceil() as usize;
            self.latencies_us[rank.clamp(1, self.latencies_us.len()) - 1] as f64 / 1e3
        };
        let first_failure = self.outcomes.iter().find(|(_, ok)| !ok).map(|(at, _)| at);
        let last_failure = self
            .outcomes
            .iter()
            .rev()
            .find(|(_, ok)| !ok)
            .map(|(at, _)| at);
        let per_rpc: BTreeMap<_, _> = self
            .per_rpc
            .iter()
            .map(|(rpc, (ok, failed))| (*rpc, json!({"ok": ok, "failed": failed})))
            .collect();
        json!({
            "calls": self.calls(),
            "seconds": round(elapsed.as_secs_f64(), 2),
            "calls_per_second": round(self.calls() as f64 / elapsed.as_secs_f64().max(1e-9), 0),
            "latency_ms": {
                "p50": round(percentile(50.0), 2),
                "p99": round(percentile(99.0), 2),
                "max": round(percentile(100.0), 2),
            },
            "errors": self.failures(),
            "errors_by_kind": self.errors,
            "unclean_errors": self.unclean,
            "over_deadline": self.over_deadline,
            "expected_not_found": self.expected_not_found,
            "duplicate_effects": self.duplicate_effects,
            "first_failure_ms": first_failure,
            "last_failure_ms": last_failure,
            "successes_after_last_failure": self.successes_after_last_failure(),
            "per_rpc": per_rpc,
            "error_samples": self.samples,
        })
    }
}

/// A failure's kind, and whether it is clean: a transport failure, a server answer or the
/// call's own deadline.
fn classify(error: &Error) -> (String, bool) {
    match error {
        Error::Transport(transport) => (
            format!("transport/{:?}", transport.kind).to_lowercase(),
            true,
        ),
        Error::Server(server) => (
            format!("server/{} {}", server.status, server.code.as_str()),
            true,
        ),
        Error::DeadlineExceeded { .. } => ("deadline_exceeded".to_owned(), true),
        Error::Decode(_) => ("decode".to_owned(), false),
        Error::Build(_) => ("build".to_owned(), false),
        Error::Config(_) => ("config".to_owned(), false),
        _ => ("other".to_owned(), false),
    }
}

pub(crate) fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// The process's open sockets, threads and resident memory, from `/proc/self`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Resources {
    pub(crate) sockets: u64,
    pub(crate) threads: u64,
    pub(crate) rss_kib: u64,
}

impl Resources {
    /// Reads them now; zero for what `/proc` does not tell (not Linux).
    pub(crate) fn now() -> Self {
        let sockets = std::fs::read_dir("/proc/self/fd")
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|entry| {
                        std::fs::read_link(entry.path())
                            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
                    })
                    .count() as u64
            })
            .unwrap_or_default();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
                .unwrap_or_default()
        };
        Self {
            sockets,
            threads: field("Threads:"),
            rss_kib: field("VmRSS:"),
        }
    }

    /// The larger of each figure.
    pub(crate) fn max(self, other: Self) -> Self {
        Self {
            sockets: self.sockets.max(other.sockets),
            threads: self.threads.max(other.threads),
            rss_kib: self.rss_kib.max(other.rss_kib),
        }
    }

    pub(crate) fn to_json(self) -> Value {
        json!({"sockets": self.sockets, "threads": self.threads, "rss_kib": self.rss_kib})
    }
}

/// Samples [`Resources`] in the background and keeps the peak, until stopped.
pub(crate) struct PeakSampler {
    stop: std::sync::mpsc::Sender<()>,
    handle: std::thread::JoinHandle<Resources>,
}

impl PeakSampler {
    pub(crate) fn start() -> Self {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let mut peak = Resources::now();
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(Duration::from_millis(50))
            {
                peak = peak.max(Resources::now());
            }
            peak
        });
        Self { stop, handle }
    }

    pub(crate) fn stop(self) -> Resources {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_default()
    }
}
