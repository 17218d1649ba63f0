//! Load and fault runs of both livekit-rs transports against a real LiveKit server.
//!
//! A mixed workload of safe and unsafe RPCs (create a room, list rooms, list and get
//! participants, update room metadata, send data, create, list and delete an agent
//! dispatch, list SIP trunks, ingresses and egresses, delete the room) runs on the async
//! transport (`livekit-hyper`, many tasks) and on the blocking one (`livekit-ureq`, a few
//! threads). Every call has a deadline. It reports, per transport, calls, seconds, calls/s,
//! p50/p99/max latency, failures by kind, and the process's open sockets, threads and RSS
//! (from `/proc/self`) at baseline, at peak and after the load and a short idle, then
//! deletes every room it created.
//!
//! The server comes from `LIVEKIT_URL`, `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET`.
//! `cargo xtask load` starts a real server and runs this; by hand:
//!
//! ```text
//! cargo run --release -p load -- --calls 20000 --async-callers 64 --blocking-threads 8
//! ```
//!
//! Flags: `--calls N` per transport (default 20000), or `--duration SECS` (both transports
//! at once, for fault runs); `--async-callers N` (64); `--blocking-threads N` (8);
//! `--transport async|blocking|both` (both); `--deadline-ms N` per call (5000);
//! `--slack-ms N` allowed past it (1000); `--idle-ms N` before the after-figures (5000);
//! `--expect clean|restart|redis-down|recovery` (clean): the pass criteria; `--json`: print the
//! summary as one JSON line instead of text.
//!
//! It exits 1 when a criterion fails. `clean`: no failure at all, no call past its deadline,
//! sockets, threads and RSS back to baseline within the stated tolerances. `restart` (the
//! server is killed and restarted during the run): failures seen, every one a transport,
//! server or deadline error, no call past its deadline, most calls started in the last third
//! of the run succeeding, no unsafe RPC repeated after it may have reached the server, no duplicate
//! effect. `redis-down` (the server's Redis is stopped): no call past its deadline, every
//! failure clean, SIP and ingress calls failing with a server error; what room calls do is
//! reported, not judged (livekit-server keeps its rooms in Redis when it has one, so they
//! fail too). `recovery` (just after a fault): failures allowed, all clean and within their
//! deadlines, and most calls started in the last third of the run succeeding.

// A std binary: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod observe;
mod stats;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use livekit_core::{AsyncApi, BlockingApi, CallOptions, ClientOptions, SystemEnvironment};
use livekit_hyper::HyperTransport;
use livekit_ureq::UreqTransport;
use serde_json::{Value, json};

use crate::observe::{Attempts, Observed};
use crate::stats::{PeakSampler, Resources, Stats};

/// Calls one round of the mix makes at most.
const CALLS_PER_ROUND: u64 = 13;
/// The async transport's pool closes connections idle this long (the default is 90 s).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);
/// ureq keeps up to this many idle connections per host and closes them only when the
/// pool is next used, so they may outlive any idle wait.
const UREQ_IDLE_PER_HOST: u64 = 3;
/// RSS may stay this far above baseline: the allocator keeps freed pages and per-thread
/// arenas; a leak of even 1 KiB per call over 20,000 calls would exceed it.
const RSS_TOLERANCE_KIB: u64 = 16 * 1024;

mod async_mix {
    type Api = livekit_core::AsyncApi<
        crate::observe::Observed<livekit_hyper::HyperTransport>,
        livekit_core::SystemEnvironment,
    >;
    macro_rules! call {
        ($call:expr) => {
            $call.await
        };
    }
    macro_rules! iteration_fn {
        ($(#[$meta:meta])* fn $name:ident($($args:tt)*) $body:block) => {
            $(#[$meta])* pub(crate) async fn $name($($args)*) $body
        };
    }
    include!("mix.rs");
}

mod blocking_mix {
    type Api = livekit_core::BlockingApi<
        crate::observe::Observed<livekit_ureq::UreqTransport>,
        livekit_core::SystemEnvironment,
    >;
    macro_rules! call {
        ($call:expr) => {
            $call
        };
    }
    macro_rules! iteration_fn {
        ($(#[$meta:meta])* fn $name:ident($($args:tt)*) $body:block) => {
            $(#[$meta])* pub(crate) fn $name($($args)*) $body
        };
    }
    include!("mix.rs");
}

/// What the run must show to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Clean,
    Restart,
    RedisDown,
    Recovery,
}

#[derive(Debug, Clone)]
struct Config {
    calls: u64,
    duration: Option<Duration>,
    async_callers: usize,
    blocking_threads: usize,
    run_async: bool,
    run_blocking: bool,
    deadline: Duration,
    slack: Duration,
    idle: Duration,
    expect: Expect,
    json: bool,
}

impl Config {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut config = Self {
            calls: 20_000,
            duration: None,
            async_callers: 64,
            blocking_threads: 8,
            run_async: true,
            run_blocking: true,
            deadline: Duration::from_millis(5000),
            slack: Duration::from_millis(1000),
            idle: Duration::from_millis(5000),
            expect: Expect::Clean,
            json: false,
        };
        let mut args = args;
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("`{flag}` needs a value"));
            let number = |text: String| {
                text.parse::<u64>()
                    .map_err(|_| format!("`{text}` is not a number"))
            };
            match flag.as_str() {
                "--calls" => config.calls = number(value()?)?,
                "--duration" => {
                    config.duration = Some(Duration::from_secs(number(value()?)?));
                }
                "--async-callers" => config.async_callers = number(value()?)? as usize,
                "--blocking-threads" => config.blocking_threads = number(value()?)? as usize,
                "--transport" => {
                    let transport = value()?;
                    (config.run_async, config.run_blocking) = match transport.as_str() {
                        "async" => (true, false),
                        "blocking" => (false, true),
                        "both" => (true, true),
                        _ => return Err(format!("unknown transport `{transport}`")),
                    };
                }
                "--deadline-ms" => config.deadline = Duration::from_millis(number(value()?)?),
                "--slack-ms" => config.slack = Duration::from_millis(number(value()?)?),
                "--idle-ms" => config.idle = Duration::from_millis(number(value()?)?),
                "--expect" => {
                    let expect = value()?;
                    config.expect = match expect.as_str() {
                        "clean" => Expect::Clean,
                        "restart" => Expect::Restart,
                        "redis-down" => Expect::RedisDown,
                        "recovery" => Expect::Recovery,
                        _ => return Err(format!("unknown expectation `{expect}`")),
                    };
                }
                "--json" => config.json = true,
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        if config.async_callers == 0 || config.blocking_threads == 0 {
            return Err("callers and threads must be at least 1".into());
        }
        Ok(config)
    }
}

/// What every caller of one run shares.
#[derive(Debug)]
pub(crate) struct Context {
    /// When the run started: failures and successes are timed from here.
    run_started: Instant,
    /// A call taking longer than this overran its deadline.
    limit: Duration,
    /// Every call's options: its deadline.
    options: CallOptions,
    /// Room names start with this: `load-<pid>`.
    prefix: String,
    /// Calls claimed so far, against `calls`.
    claimed: AtomicU64,
    calls: u64,
    /// When callers stop starting rounds, in duration mode.
    until: Option<Instant>,
}

impl Context {
    fn new(config: &Config, prefix: &str) -> Self {
        let run_started = Instant::now();
        Self {
            run_started,
            limit: config.deadline + config.slack,
            options: CallOptions::default().with_deadline(config.deadline),
            prefix: prefix.to_owned(),
            claimed: AtomicU64::new(0),
            calls: config.calls,
            until: config.duration.map(|duration| run_started + duration),
        }
    }

    /// Claims the next round, or says the run is over.
    fn next_round(&self) -> bool {
        match self.until {
            Some(until) => Instant::now() < until,
            None => self.claimed.fetch_add(CALLS_PER_ROUND, Ordering::Relaxed) < self.calls,
        }
    }

    fn room(&self, transport: &str, caller: usize, round: u64) -> String {
        format!("{}-{transport}-{caller}-{round}", self.prefix)
    }
}

/// One transport's run: its record, its attempts and its resource figures.
struct Run {
    name: &'static str,
    stats: Stats,
    elapsed: Duration,
    attempts: Arc<Attempts>,
    baseline: Resources,
    peak: Resources,
    after: Resources,
    /// How many sockets may stay open above baseline, and why.
    socket_tolerance: (u64, &'static str),
}

impl Run {
    fn resources_returned(&self) -> bool {
        self.after.sockets <= self.baseline.sockets + self.socket_tolerance.0
            && self.after.threads <= self.baseline.threads
            && self.after.rss_kib <= self.baseline.rss_kib + RSS_TOLERANCE_KIB
    }

    fn summarize(&mut self) -> Value {
        let mut value = self.stats.summarize(self.elapsed);
        let calls = self.stats.calls() as u64;
        let attempts = self.attempts.total.load(Ordering::Relaxed);
        value["attempts"] = json!(attempts);
        value["retries"] = json!(attempts.saturating_sub(calls));
        value["unsafe_repeats_after_maybe_sent"] =
            json!(self.attempts.unsafe_repeats.load(Ordering::Relaxed));
        value["unsafe_retries_after_refused_connect"] =
            json!(self.attempts.unsafe_retries_unsent.load(Ordering::Relaxed));
        value["resources"] = json!({
            "baseline": self.baseline.to_json(),
            "peak": self.peak.to_json(),
            "after_idle": self.after.to_json(),
            "tolerance": {
                "sockets": self.socket_tolerance.0,
                "sockets_why": self.socket_tolerance.1,
                "threads": 0,
                "rss_kib": RSS_TOLERANCE_KIB,
            },
            "returned_to_baseline": self.resources_returned(),
        });
        value
    }
}

async fn run_async(config: &Config, context: Arc<Context>) -> Result<Run, String> {
    let client = livekit_core::client_from_env(ClientOptions::default())
        .map_err(|error| error.to_string())?;
    let attempts = Arc::new(Attempts::default());
    let transport = Observed {
        inner: HyperTransport::new()
            .map_err(|error| error.to_string())?
            .with_pool_idle_timeout(POOL_IDLE_TIMEOUT),
        attempts: Arc::clone(&attempts),
    };
    let api = Arc::new(AsyncApi::new(
        client,
        transport,
        SystemEnvironment::default(),
    ));
    let baseline = Resources::now();
    let sampler = PeakSampler::start();
    let started = Instant::now();
    let mut callers = Vec::new();
    for caller in 0..config.async_callers {
        let api = Arc::clone(&api);
        let context = Arc::clone(&context);
        callers.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            let mut round = 0;
            while context.next_round() {
                let room = context.room("async", caller, round);
                async_mix::iteration(&api, &context, room, &mut stats).await;
                round += 1;
            }
            stats
        }));
    }
    let mut stats = Stats::default();
    for caller in callers {
        stats.merge(caller.await.map_err(|error| error.to_string())?);
    }
    let elapsed = started.elapsed();
    let peak = sampler.stop();
    tokio::time::sleep(config.idle).await;
    let after = Resources::now();
    drop(api);
    Ok(Run {
        name: "async",
        stats,
        elapsed,
        attempts,
        baseline,
        peak,
        after,
        socket_tolerance: (0, "the pool closes idle connections after 2 s"),
    })
}

fn run_blocking(config: &Config, context: &Context) -> Result<Run, String> {
    let client = livekit_core::client_from_env(ClientOptions::default())
        .map_err(|error| error.to_string())?;
    let attempts = Arc::new(Attempts::default());
    let transport = Observed {
        inner: UreqTransport::new(),
        attempts: Arc::clone(&attempts),
    };
    let api = BlockingApi::new(client, transport, SystemEnvironment::default());
    let baseline = Resources::now();
    let sampler = PeakSampler::start();
    let started = Instant::now();
    let stats = std::thread::scope(|scope| {
        let callers: Vec<_> = (0..config.blocking_threads)
            .map(|caller| {
                let api = &api;
                scope.spawn(move || {
                    let mut stats = Stats::default();
                    let mut round = 0;
                    while context.next_round() {
                        let room = context.room("blocking", caller, round);
                        blocking_mix::iteration(api, context, room, &mut stats);
                        round += 1;
                    }
                    stats
                })
            })
            .collect();
        let mut stats = Stats::default();
        for caller in callers {
            match caller.join() {
                Ok(caller) => stats.merge(caller),
                Err(_) => return Err("a blocking caller panicked".to_owned()),
            }
        }
        Ok(stats)
    })?;
    let elapsed = started.elapsed();
    let peak = sampler.stop();
    std::thread::sleep(config.idle);
    let after = Resources::now();
    drop(api);
    Ok(Run {
        name: "blocking",
        stats,
        elapsed,
        attempts,
        baseline,
        peak,
        after,
        socket_tolerance: (
            UREQ_IDLE_PER_HOST,
            "ureq keeps up to 3 idle connections per host until its pool is next used",
        ),
    })
}

/// Deletes every room whose name starts with `prefix`, in parallel, retrying while the
/// server recovers, within `budget`. Returns what it deleted, what is left and why.
///
/// After a crash, livekit-server (v1.13.5 and v1.13.11) keeps the rooms of the dead node in
/// Redis and routes their deletion to that node, which answers nothing: those deletes fail
/// with 503 "no response from servers" until Redis forgets them, so the budget bounds the
/// attempt.
fn clean_up(prefix: &str, budget: Duration) -> Value {
    let Ok(api) = livekit_ureq::LiveKitApi::from_env() else {
        return json!("skipped: no server configuration");
    };
    let started = Instant::now();
    let options = CallOptions::default().with_deadline(Duration::from_secs(3));
    let deleted = AtomicU64::new(0);
    let failures =
        std::sync::Mutex::new(std::collections::BTreeMap::<String, (u64, String)>::new());
    let ours = || -> Option<Vec<String>> {
        let listed = api
            .room()
            .with_options(options.clone())
            .list_rooms(Default::default())
            .ok()?;
        Some(
            listed
                .rooms
                .into_iter()
                .map(|room| room.name)
                .filter(|name| name.starts_with(prefix))
                .collect(),
        )
    };
    let mut left = None;
    while started.elapsed() < budget {
        let Some(rooms) = ours() else {
            std::thread::sleep(Duration::from_secs(1));
            continue;
        };
        left = Some(rooms.len());
        if rooms.is_empty() {
            break;
        }
        std::thread::scope(|scope| {
            for room in rooms {
                let (api, options, deleted, failures) = (&api, &options, &deleted, &failures);
                scope.spawn(move || {
                    let request = livekit_proto::DeleteRoomRequest { room };
                    match api
                        .room()
                        .with_options(options.clone())
                        .delete_room(request)
                    {
                        Ok(_) => {
                            deleted.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) if error.is_not_found() => {}
                        Err(error) => {
                            let kind = match error.server() {
                                Some(server) => {
                                    format!("{} {}", server.status, server.code.as_str())
                                }
                                None => "no answer".to_owned(),
                            };
                            let mut failures = failures
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            let entry = failures.entry(kind).or_insert((0, error.to_string()));
                            entry.0 += 1;
                        }
                    }
                });
            }
        });
        left = ours().map(|rooms| rooms.len());
        if left == Some(0) {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let failures = failures
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    json!({
        "rooms_deleted": deleted.load(Ordering::Relaxed),
        "rooms_left": left,
        "delete_failures": failures
            .into_iter()
            .map(|(kind, (count, sample))| (kind, json!({"count": count, "sample": sample})))
            .collect::<serde_json::Map<_, _>>(),
        "seconds": stats::round(started.elapsed().as_secs_f64(), 1),
    })
}

/// Whether the calls that started in the last third of a timed run mostly succeeded: the
/// server works again. (The last call to finish may still fail: after a crash, calls that
/// touch the dead node's rooms fail until Redis forgets them.)
fn recovered(config: &Config, stats: &Stats) -> bool {
    let Some(duration) = config.duration else {
        return stats.successes_after_last_failure() > 0;
    };
    let (ok, failed) = stats.started_from(late_from(duration));
    ok > failed
}

/// The start of the last third of a run of `duration`, in ms.
fn late_from(duration: Duration) -> u32 {
    (duration.as_millis() * 2 / 3).min(u32::MAX.into()) as u32
}

/// The pass criteria of `config.expect`, each with its outcome.
fn checks(config: &Config, runs: &[Run]) -> Vec<(String, bool)> {
    let mut checks = Vec::new();
    for run in runs {
        let name = run.name;
        let stats = &run.stats;
        checks.push((
            format!("{name}: no call past its deadline + slack"),
            stats.over_deadline() == 0,
        ));
        checks.push((
            format!("{name}: every failure is a transport, server or deadline error"),
            stats.unclean() == 0,
        ));
        match config.expect {
            Expect::Clean => {
                checks.push((format!("{name}: no failures"), stats.failures() == 0));
                checks.push((
                    format!("{name}: sockets, threads and rss back to baseline"),
                    run.resources_returned(),
                ));
            }
            Expect::Restart => {
                checks.push((
                    format!("{name}: the restart was seen (some calls failed)"),
                    stats.failures() > 0,
                ));
                checks.push((
                    format!("{name}: most calls started in the last third of the run succeed"),
                    recovered(config, stats),
                ));
            }
            Expect::Recovery => {
                checks.push((
                    format!("{name}: most calls started in the last third of the run succeed"),
                    recovered(config, stats),
                ));
            }
            Expect::RedisDown => {
                let (ok, failed) = stats.tally_of(REDIS_RPCS);
                let server_errors = stats
                    .samples_of(REDIS_RPCS)
                    .keys()
                    .all(|key| key.contains(" server/"));
                checks.push((
                    format!("{name}: SIP and ingress calls fail with a server error"),
                    ok == 0 && failed > 0 && server_errors,
                ));
            }
        }
        checks.push((
            format!("{name}: no unsafe RPC repeated after it may have reached the server"),
            run.attempts.unsafe_repeats.load(Ordering::Relaxed) == 0,
        ));
        checks.push((
            format!("{name}: no duplicate effect of an unsafe RPC"),
            stats.duplicate_effects == 0,
        ));
    }
    checks
}

/// How long the final cleanup may try.
const CLEANUP_BUDGET: Duration = Duration::from_secs(10);

/// The RPCs that need Redis on the server.
const REDIS_RPCS: &[&str] = &["ListSIPInboundTrunk", "ListIngress"];
/// The room and dispatch RPCs of the mix.
const ROOM_RPCS: &[&str] = &[
    "CreateRoom",
    "ListRooms",
    "ListParticipants",
    "GetParticipant",
    "UpdateRoomMetadata",
    "SendData",
    "CreateDispatch",
    "ListDispatch",
    "DeleteDispatch",
    "DeleteRoom",
];

fn main() -> std::process::ExitCode {
    let config = match Config::parse(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("load: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(error) => {
            eprintln!("load: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(config: &Config) -> Result<bool, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start tokio: {error}"))?;
    let prefix = format!("load-{}", std::process::id());
    let mut runs = Vec::new();
    eprintln!("load: calls started");
    if config.duration.is_some() {
        // Fault runs: both transports at once, so a fault hits both.
        let async_context = Arc::new(Context::new(config, &prefix));
        let blocking_context = Context::new(config, &prefix);
        let (async_run, blocking_run) = std::thread::scope(|scope| {
            let blocking = scope.spawn(|| {
                config
                    .run_blocking
                    .then(|| run_blocking(config, &blocking_context))
            });
            let async_run = config
                .run_async
                .then(|| runtime.block_on(run_async(config, async_context)));
            (async_run, blocking.join())
        });
        runs.extend(async_run.transpose()?);
        runs.extend(
            blocking_run
                .map_err(|_| "the blocking run panicked")?
                .transpose()?,
        );
    } else {
        if config.run_async {
            let context = Arc::new(Context::new(config, &prefix));
            runs.push(runtime.block_on(run_async(config, context))?);
        }
        if config.run_blocking {
            runs.push(run_blocking(config, &Context::new(config, &prefix))?);
        }
    }
    // Without Redis no room can be created or listed, and the Redis started afterwards is
    // empty: there is nothing to clean up then.
    let cleanup = match config.expect {
        Expect::RedisDown => json!("skipped: redis is down"),
        _ => clean_up(&prefix, CLEANUP_BUDGET),
    };
    let checks = checks(config, &runs);
    // After a restart, rooms of the killed node may be impossible to delete (see
    // `clean_up`): reported, not judged.
    let cleaned = config.expect != Expect::Clean || cleanup["rooms_left"] == 0;
    let passed = checks.iter().all(|(_, ok)| *ok) && cleaned;

    let mut transports = serde_json::Map::new();
    for run in &mut runs {
        let mut value = run.summarize();
        if let Some(duration) = config.duration {
            let (ok, failed) = run.stats.started_from(late_from(duration));
            value["last_third"] =
                json!({"from_ms": late_from(duration), "ok": ok, "failed": failed});
        }
        if config.expect == Expect::RedisDown {
            let (ok, failed) = run.stats.tally_of(ROOM_RPCS);
            value["room_calls"] = json!({"ok": ok, "failed": failed});
            let (ok, failed) = run.stats.tally_of(REDIS_RPCS);
            value["sip_ingress_calls"] = json!({"ok": ok, "failed": failed});
        }
        transports.insert(run.name.to_owned(), value);
    }
    let summary = json!({
        "expect": format!("{:?}", config.expect).to_lowercase(),
        "config": {
            "calls_per_transport": config.duration.is_none().then_some(config.calls),
            "duration_s": config.duration.map(|duration| duration.as_secs()),
            "async_callers": config.async_callers,
            "blocking_threads": config.blocking_threads,
            "deadline_ms": config.deadline.as_millis() as u64,
            "slack_ms": config.slack.as_millis() as u64,
            "idle_ms": config.idle.as_millis() as u64,
        },
        "transports": transports,
        "cleanup": cleanup,
        "checks": checks.iter().map(|(check, ok)| json!({"check": check, "ok": ok})).collect::<Vec<_>>(),
        "passed": passed,
    });
    if config.json {
        println!("{summary}");
    } else {
        print_text(&summary);
    }
    Ok(passed)
}

fn print_text(summary: &Value) {
    let empty = serde_json::Map::new();
    for (name, run) in summary["transports"].as_object().unwrap_or(&empty) {
        let latency = &run["latency_ms"];
        let resources = &run["resources"];
        println!(
            "{name}: {} calls in {} s = {} calls/s; p50 {} ms, p99 {} ms, max {} ms; {} errors {}",
            run["calls"],
            run["seconds"],
            run["calls_per_second"],
            latency["p50"],
            latency["p99"],
            latency["max"],
            run["errors"],
            run["errors_by_kind"],
        );
        for moment in ["baseline", "peak", "after_idle"] {
            println!("  {moment:<10} {}", resources[moment]);
        }
    }
    println!("cleanup: {}", summary["cleanup"]);
    for check in summary["checks"].as_array().into_iter().flatten() {
        let mark = if check["ok"] == true { "ok  " } else { "FAIL" };
        println!("{mark} {}", check["check"].as_str().unwrap_or_default());
    }
    println!(
        "{}",
        if summary["passed"] == true {
            "passed"
        } else {
            "FAILED"
        }
    );
}
