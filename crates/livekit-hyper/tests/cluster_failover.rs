//! Node A of a two-node cluster killed under load, over hyper. Run with `--ignored`, last
//! and alone, by the cluster phase of `cargo xtask e2e` (a step of `cargo xtask ci`), which
//! starts two livekit-server nodes sharing one redis and names them in
//! LIVEKIT_E2E_NODE_A_URL and LIVEKIT_E2E_NODE_B_URL, with node A's process id in
//! LIVEKIT_E2E_NODE_A_PID: the test kills it (SIGKILL, as a crash would) at the point of the
//! load it chooses.
//!
//! 64 concurrent callers, half calling node A and half node B, each a bounded number of
//! rounds of five calls about a room of its own (create the room, create an agent dispatch,
//! list the dispatches, update the room's metadata, delete the room), every call with a
//! deadline. Two phases: both nodes up, then node A killed once a quarter of the second
//! phase's calls are done. The test asserts what must hold and prints the figures (calls,
//! errors, p50/p99 latency, calls/s per node and phase, sockets and memory); it asserts no
//! timing beyond each call's bound:
//!
//! - before the kill, every call succeeds on both nodes; during it, every call to node B does;
//! - every call to node A that starts once it is dead fails with a connect error, whose
//!   request never left (nothing listens on its port any more: no call waits for a timeout),
//!   but for an unsafe RPC sent on a pooled connection the kill had just closed (an I/O
//!   error, the request written, so not repeated);
//! - no call outlives its deadline and a slack;
//! - no unsafe RPC (`CreateDispatch`) is sent again after an attempt that may have reached a
//!   server, seen from a transport wrapper counting attempts per request id; and on the
//!   server, every room whose dispatch was created and listed holds exactly that one;
//! - afterwards the process's sockets are back to baseline and its RSS within 16 MiB of it;
//! - a room node A created is held by node A: node B cannot update it once node A is dead.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use livekit_core::rpc::{ALL, Idempotency};
use livekit_core::{
    AsyncApi, CallOptions, Client, Error, REQUEST_ID_HEADER, Services as _, SystemEnvironment,
    Transport, TransportError, TransportErrorKind,
};
use livekit_hyper::HyperTransport;
use livekit_proto as proto;

const CALLERS: usize = 64;
/// Rounds per caller in each phase; five calls a round.
const ROUNDS: u64 = 8;
const CALLS_PER_ROUND: u64 = 5;
/// Node A is killed once this many calls of the second phase are done.
const KILL_AFTER_CALLS: u64 = CALLERS as u64 * ROUNDS * CALLS_PER_ROUND / 4;
/// Every call's deadline, and the slack after which a call counts as hung.
const DEADLINE: Duration = Duration::from_secs(5);
const SLACK: Duration = Duration::from_secs(2);
/// The pool closes connections idle this long, so the sockets figure can settle.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the sockets may take to close after the load.
const SETTLE_LIMIT: Duration = Duration::from_secs(15);
/// RSS may stay this far above baseline: the allocator keeps freed pages and per-thread
/// arenas; a leak of 4 KiB per call would exceed it.
const RSS_TOLERANCE_KIB: u64 = 16 * 1024;

fn env(variable: &str) -> String {
    std::env::var(variable)
        .unwrap_or_else(|_| panic!("{variable} must be set (cargo xtask e2e sets it)"))
}

/// Writes to the process's standard error directly, past the test harness's capture, so
/// the figures show in CI's log.
fn report(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

// ---- the transport wrapper that watches unsafe RPCs ----

/// What the wrapper saw, shared by both nodes' transports.
#[derive(Debug, Default)]
struct Attempts {
    /// Every attempt.
    total: AtomicU64,
    /// Attempts of an unsafe RPC after an attempt of the same call that may have reached a
    /// server: each one is a violation.
    unsafe_repeats: AtomicU64,
    /// Attempts of an unsafe RPC after an attempt that surely never left (a refused
    /// connection): allowed, and what the core does against a dead node.
    unsafe_retries_unsent: AtomicU64,
    /// Request ids of unsafe calls whose last attempt may have reached a server.
    maybe_sent: Mutex<HashSet<String>>,
    /// Request ids of unsafe calls whose last attempt surely never left.
    unsent: Mutex<HashSet<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Attempts {
    fn before(&self, request: &http::Request<Vec<u8>>) -> Option<String> {
        self.total.fetch_add(1, Ordering::Relaxed);
        let path = request.uri().path();
        let is_unsafe = ALL
            .iter()
            .any(|rpc| rpc.idempotency == Idempotency::Unsafe && path.ends_with(rpc.path));
        if !is_unsafe {
            return None;
        }
        let id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .expect("every call carries a request id")
            .to_owned();
        if lock(&self.maybe_sent).remove(&id) {
            self.unsafe_repeats.fetch_add(1, Ordering::Relaxed);
        }
        if lock(&self.unsent).remove(&id) {
            self.unsafe_retries_unsent.fetch_add(1, Ordering::Relaxed);
        }
        Some(id)
    }

    fn after(
        &self,
        unsafe_id: Option<String>,
        outcome: &Result<http::Response<Vec<u8>>, TransportError>,
    ) {
        let Some(id) = unsafe_id else { return };
        match outcome {
            Err(error) if !error.request_sent => {
                lock(&self.unsent).insert(id);
            }
            Err(_) => {
                lock(&self.maybe_sent).insert(id);
            }
            Ok(response) if matches!(response.status().as_u16(), 502..=504) => {
                lock(&self.maybe_sent).insert(id);
            }
            Ok(_) => {}
        }
    }
}

/// A transport that reports each attempt to [`Attempts`] and otherwise only delegates.
#[derive(Debug)]
struct Observed {
    inner: HyperTransport,
    attempts: Arc<Attempts>,
}

impl Transport for Observed {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let unsafe_id = self.attempts.before(&request);
        let outcome = self.inner.send(request, timeout).await;
        self.attempts.after(unsafe_id, &outcome);
        outcome
    }

    async fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration).await;
    }
}

type Api = AsyncApi<Observed, SystemEnvironment>;

fn api(url: &str, attempts: &Arc<Attempts>) -> Api {
    let credentials = livekit_core::auth::Credentials::new(
        env("LIVEKIT_E2E_API_KEY"),
        env("LIVEKIT_E2E_API_SECRET"),
    )
    .unwrap();
    let transport = Observed {
        inner: HyperTransport::new()
            .unwrap()
            .with_pool_idle_timeout(POOL_IDLE_TIMEOUT),
        attempts: Arc::clone(attempts),
    };
    AsyncApi::new(
        Client::new(url, credentials).unwrap(),
        transport,
        SystemEnvironment::default(),
    )
}

// ---- what the callers record ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    A,
    B,
}

/// One call as its caller saw it.
#[derive(Debug)]
struct Record {
    node: Node,
    rpc: &'static str,
    started: Instant,
    elapsed: Duration,
    /// `None` for a success; otherwise the error's kind and message.
    failure: Option<Failure>,
}

#[derive(Debug)]
struct Failure {
    /// A connect error whose request never left.
    refused_connect: bool,
    /// A transport, server or deadline error: what a failing call may end with.
    clean: bool,
    /// Whether the call hit the hard bound (its deadline and the slack) and was abandoned.
    hung: bool,
    kind: String,
    message: String,
}

impl Failure {
    fn of(error: &Error) -> Self {
        let (refused_connect, clean, kind) = match error {
            Error::Transport(transport) => (
                transport.kind == TransportErrorKind::Connect && !transport.request_sent,
                true,
                format!("transport/{:?}", transport.kind),
            ),
            Error::Server(server) => (false, true, format!("server/{}", server.status)),
            Error::DeadlineExceeded { .. } => (false, true, "deadline".to_owned()),
            other => (false, false, format!("{other:?}")),
        };
        Self {
            refused_connect,
            clean,
            hung: false,
            kind,
            message: error.to_string(),
        }
    }

    fn hung() -> Self {
        Self {
            refused_connect: false,
            clean: false,
            hung: true,
            kind: "hung".to_owned(),
            message: format!("no outcome within {:?}", DEADLINE + SLACK),
        }
    }
}

/// What a phase's callers share.
struct Phase {
    name: &'static str,
    records: Mutex<Vec<Record>>,
    done: AtomicU64,
    /// Rounds whose dispatch was created and then listed other than once.
    wrong_dispatch_counts: Mutex<Vec<String>>,
}

impl Phase {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            records: Mutex::new(Vec::new()),
            done: AtomicU64::new(0),
            wrong_dispatch_counts: Mutex::new(Vec::new()),
        }
    }
}

/// Makes one call, bounded by the deadline and the slack, and records it.
macro_rules! timed {
    ($phase:expr, $node:expr, $rpc:literal, $call:expr) => {{
        let started = Instant::now();
        let outcome = tokio::time::timeout(DEADLINE + SLACK, $call).await;
        let failure = match &outcome {
            Ok(Ok(_)) => None,
            Ok(Err(error)) => Some(Failure::of(error)),
            Err(_) => Some(Failure::hung()),
        };
        lock(&$phase.records).push(Record {
            node: $node,
            rpc: $rpc,
            started,
            elapsed: started.elapsed(),
            failure,
        });
        $phase.done.fetch_add(1, Ordering::Relaxed);
        outcome.ok().and_then(Result::ok)
    }};
}

/// One caller's rounds, each about a room of its own.
async fn caller(api: Arc<Api>, node: Node, phase: Arc<Phase>, caller: usize) {
    let options = CallOptions::default().with_deadline(DEADLINE);
    for round in 0..ROUNDS {
        let room = format!(
            "failover-{}-{}-{caller}-{round}",
            std::process::id(),
            phase.name
        );
        let _ = timed!(
            phase,
            node,
            "CreateRoom",
            api.room()
                .with_options(options.clone())
                .create_room(proto::CreateRoomRequest {
                    name: room.clone(),
                    empty_timeout: 60,
                    ..Default::default()
                })
        );
        // The room's name marks its one dispatch: a repeated create would list two.
        let created = timed!(
            phase,
            node,
            "CreateDispatch",
            api.agent_dispatch()
                .with_options(options.clone())
                .create_dispatch(proto::CreateAgentDispatchRequest {
                    agent_name: "failover-agent".into(),
                    room: room.clone(),
                    metadata: room.clone(),
                    ..Default::default()
                })
        );
        let listed = timed!(
            phase,
            node,
            "ListDispatch",
            api.agent_dispatch()
                .with_options(options.clone())
                .list_dispatch(proto::ListAgentDispatchRequest {
                    room: room.clone(),
                    ..Default::default()
                })
        );
        if let (Some(_), Some(listed)) = (&created, &listed) {
            let copies = listed
                .agent_dispatches
                .iter()
                .filter(|d| d.metadata == room)
                .count();
            if copies != 1 {
                lock(&phase.wrong_dispatch_counts).push(format!("{room}: {copies} dispatches"));
            }
        }
        let _ = timed!(
            phase,
            node,
            "UpdateRoomMetadata",
            api.room()
                .with_options(options.clone())
                .update_room_metadata(proto::UpdateRoomMetadataRequest {
                    room: room.clone(),
                    metadata: "failover".into()
                })
        );
        let _ = timed!(
            phase,
            node,
            "DeleteRoom",
            api.room()
                .with_options(options.clone())
                .delete_room(proto::DeleteRoomRequest { room })
        );
    }
}

/// Calls `ListRooms` on a dead node with a single attempt per call, [`ROUNDS`] times.
async fn single_attempts(api: Arc<Api>, phase: Arc<Phase>) {
    let options = CallOptions::default()
        .with_deadline(DEADLINE)
        .with_max_attempts(1);
    for _ in 0..ROUNDS {
        let _ = timed!(
            phase,
            Node::A,
            "ListRooms",
            api.room()
                .with_options(options.clone())
                .list_rooms(proto::ListRoomsRequest::default())
        );
    }
}

/// Runs every caller of a phase to its end; `kill` is awaited beside them.
async fn run_phase(
    apis: &[Arc<Api>; 2],
    phase: &Arc<Phase>,
    kill: impl Future<Output = Option<(Instant, Instant)>>,
) -> (Duration, Option<(Instant, Instant)>) {
    let started = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|index| {
            let (node, api) = match index % 2 {
                0 => (Node::A, Arc::clone(&apis[0])),
                _ => (Node::B, Arc::clone(&apis[1])),
            };
            tokio::spawn(caller(api, node, Arc::clone(phase), index))
        })
        .collect();
    let killed = kill.await;
    for caller in callers {
        caller.await.expect("a caller panicked");
    }
    (started.elapsed(), killed)
}

/// Kills node A once `phase` has done [`KILL_AFTER_CALLS`] calls, and waits until it is
/// dead (a zombie, its sockets closed, or gone). Returns when the kill was sent and when
/// the process was seen dead.
async fn kill_node_a(phase: Arc<Phase>) -> Option<(Instant, Instant)> {
    while phase.done.load(Ordering::Relaxed) < KILL_AFTER_CALLS {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = env("LIVEKIT_E2E_NODE_A_PID");
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -KILL {pid}: {status}");
    let dead_by = Instant::now() + Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // `pid (comm) state ...`: a zombie (Z) has closed everything; no file, it is gone.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if state.is_none() || state == Some("Z") {
            return Some((sent, Instant::now()));
        }
        assert!(
            Instant::now() < dead_by,
            "node A (pid {pid}) outlived SIGKILL: {stat}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ---- figures ----

/// Whether `method` names an RPC that is not safe to repeat.
fn is_unsafe(method: &str) -> bool {
    ALL.iter().any(|rpc| {
        rpc.idempotency == Idempotency::Unsafe && rpc.path.rsplit('/').next() == Some(method)
    })
}

fn of(records: &[Record], node: Node) -> Vec<&Record> {
    records
        .iter()
        .filter(|record| record.node == node)
        .collect()
}

/// The process's open sockets and resident memory, from /proc/self.
fn resources() -> (usize, u64) {
    let sockets = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            std::fs::read_link(entry.path())
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
        })
        .count();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    (sockets, rss_kib)
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

/// One line of figures: calls, errors, p50/p99/max latency, and calls/s over the span from
/// the first call's start to the last call's end.
fn figures(label: &str, records: &[&Record]) -> String {
    let first = records.iter().map(|record| record.started).min();
    let last = records
        .iter()
        .map(|record| record.started + record.elapsed)
        .max();
    let seconds = match (first, last) {
        (Some(first), Some(last)) => (last - first).as_secs_f64().max(f64::MIN_POSITIVE),
        _ => f64::INFINITY,
    };
    let mut latencies: Vec<Duration> = records.iter().map(|record| record.elapsed).collect();
    latencies.sort_unstable();
    let errors = records
        .iter()
        .filter(|record| record.failure.is_some())
        .count();
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for failure in records.iter().filter_map(|record| record.failure.as_ref()) {
        *kinds.entry(failure.kind.as_str()).or_default() += 1;
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_unstable();
    format!(
        "{label:<34} {:>6} calls {:>6} errors  p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  {:>7.1} calls/s  {kinds:?}",
        records.len(),
        errors,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies
            .last()
            .map_or(0.0, |max| max.as_secs_f64() * 1000.0),
        records.len() as f64 / seconds,
    )
}

fn describe(records: &[&Record]) -> String {
    records
        .iter()
        .take(5)
        .map(|record| {
            let failure = record.failure.as_ref();
            format!(
                "{:?} {} after {:?}: {}",
                record.node,
                record.rpc,
                record.elapsed,
                failure.map_or("ok", |failure| failure.message.as_str())
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "kills a node of a two-node LiveKit cluster: run by cargo xtask e2e"]
async fn node_a_killed_under_load_fails_fast_while_node_b_serves() {
    assert!(is_unsafe("CreateDispatch") && !is_unsafe("CreateRoom"));
    let attempts = Arc::new(Attempts::default());
    let apis = [
        Arc::new(api(&env("LIVEKIT_E2E_NODE_A_URL"), &attempts)),
        Arc::new(api(&env("LIVEKIT_E2E_NODE_B_URL"), &attempts)),
    ];
    // Before any call: no connection yet.
    let (baseline_sockets, baseline_rss) = resources();
    // A room node A creates, and so holds, to see what node B can do with it later.
    let held_by_a = format!("failover-{}-held-by-a", std::process::id());
    apis[0]
        .room()
        .create_room(proto::CreateRoomRequest {
            name: held_by_a.clone(),
            empty_timeout: 300,
            ..Default::default()
        })
        .await
        .unwrap();

    let before = Arc::new(Phase::new("before"));
    let (before_seconds, _) = run_phase(&apis, &before, async { None }).await;
    let during = Arc::new(Phase::new("during"));
    let (during_seconds, killed) =
        run_phase(&apis, &during, kill_node_a(Arc::clone(&during))).await;
    let (kill_sent, seen_dead) = killed.expect("node A was killed");
    // The dead node once more, one attempt per call (no retry, so no backoff): how fast a
    // refused connection comes back.
    let single = Arc::new(Phase::new("single-attempt"));
    let single_callers: Vec<_> = (0..CALLERS)
        .map(|_| tokio::spawn(single_attempts(Arc::clone(&apis[0]), Arc::clone(&single))))
        .collect();
    for caller in single_callers {
        caller.await.expect("a caller panicked");
    }
    let (_, loaded_rss) = resources();

    let before_records = std::mem::take(&mut *lock(&before.records));
    let during_records = std::mem::take(&mut *lock(&during.records));
    let single_records = std::mem::take(&mut *lock(&single.records));
    let a_after_death: Vec<&Record> = of(&during_records, Node::A)
        .into_iter()
        .filter(|record| record.started >= seen_dead)
        .collect();
    let a_at_kill: Vec<&Record> = of(&during_records, Node::A)
        .into_iter()
        .filter(|record| record.started < seen_dead && record.started + record.elapsed >= kill_sent)
        .collect();

    // The sockets close as the pool expires its idle connections; then the memory figure.
    let settle_by = Instant::now() + SETTLE_LIMIT;
    let (after_sockets, after_rss) = loop {
        let (sockets, rss) = resources();
        if sockets <= baseline_sockets || Instant::now() > settle_by {
            break (sockets, rss);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Node B, asked about the room node A held, relays to a node that is gone.
    let orphaned_started = Instant::now();
    let orphaned = apis[1]
        .room()
        .with_options(
            CallOptions::default()
                .with_deadline(Duration::from_secs(20))
                .with_max_attempts(1),
        )
        .update_room_metadata(proto::UpdateRoomMetadataRequest {
            room: held_by_a.clone(),
            metadata: "node a is gone".into(),
        })
        .await;
    let orphaned_elapsed = orphaned_started.elapsed();

    let mut lines = vec![format!(
        "cluster failover: {CALLERS} callers ({} per node), {ROUNDS} rounds of {CALLS_PER_ROUND} calls each per phase; node A killed after {KILL_AFTER_CALLS} calls of the second",
        CALLERS / 2
    )];
    lines.push(figures("before: node A", &of(&before_records, Node::A)));
    lines.push(figures("before: node B", &of(&before_records, Node::B)));
    lines.push(figures(
        "during: node A (whole phase)",
        &of(&during_records, Node::A),
    ));
    lines.push(figures("during: node A in flight at kill", &a_at_kill));
    lines.push(figures("during: node A once dead", &a_after_death));
    lines.push(figures("during: node B", &of(&during_records, Node::B)));
    lines.push(figures(
        "dead node A, single attempts",
        &of(&single_records, Node::A),
    ));
    lines.push(format!(
        "phases: before {:.2} s, during {:.2} s; node A dead {:.1} ms after SIGKILL",
        before_seconds.as_secs_f64(),
        during_seconds.as_secs_f64(),
        (seen_dead - kill_sent).as_secs_f64() * 1000.0
    ));
    lines.push(format!(
        "attempts {}; unsafe RPCs repeated after maybe reaching a server: {}; retried after a refused connect: {}",
        attempts.total.load(Ordering::Relaxed),
        attempts.unsafe_repeats.load(Ordering::Relaxed),
        attempts.unsafe_retries_unsent.load(Ordering::Relaxed),
    ));
    lines.push(format!(
        "sockets: baseline {baseline_sockets}, after {after_sockets}; rss: baseline {baseline_rss} KiB, after the load {loaded_rss} KiB, after {after_rss} KiB"
    ));
    lines.push(format!(
        "node B updating the room node A held, node A dead, after {:.1} s: {}",
        orphaned_elapsed.as_secs_f64(),
        match &orphaned {
            Ok(room) => format!("ok ({})", room.sid),
            Err(error) => error.to_string(),
        }
    ));
    report(&lines.join("\n"));

    // Before the kill, both nodes serve every call.
    let failed: Vec<&Record> = before_records
        .iter()
        .filter(|record| record.failure.is_some())
        .collect();
    assert!(
        failed.is_empty(),
        "{} calls failed before the kill:\n{}",
        failed.len(),
        describe(&failed)
    );
    // During it, node B serves every call.
    let failed: Vec<&Record> = of(&during_records, Node::B)
        .into_iter()
        .filter(|record| record.failure.is_some())
        .collect();
    assert!(
        failed.is_empty(),
        "{} calls to node B failed:\n{}",
        failed.len(),
        describe(&failed)
    );
    // Every call to node A that started once it was dead failed with a refused connect. The
    // one exception allowed: an unsafe RPC whose attempt went out on a pooled connection the
    // node's death had closed before the pool noticed. That request was written, so the core
    // must not repeat it (the safe RPCs are repeated, on a new connection, which is refused).
    assert!(
        !a_after_death.is_empty(),
        "no call to node A started after its death"
    );
    let wrong: Vec<&Record> = a_after_death
        .iter()
        .chain(&of(&single_records, Node::A))
        .copied()
        .filter(|record| {
            !record.failure.as_ref().is_some_and(|failure| {
                failure.refused_connect || (is_unsafe(record.rpc) && failure.kind == "transport/Io")
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "calls to the dead node A not refused:\n{}",
        describe(&wrong)
    );
    // Every failure is a transport, server or deadline error within its bound: no hang.
    let unclean: Vec<&Record> = during_records
        .iter()
        .chain(&single_records)
        .filter(|record| {
            record
                .failure
                .as_ref()
                .is_some_and(|failure| !failure.clean || failure.hung)
        })
        .collect();
    assert!(
        unclean.is_empty(),
        "unclean or hung calls:\n{}",
        describe(&unclean)
    );
    // No unsafe RPC sent again once it may have reached a server; the refused ones were
    // retried, which shows the count watches real retries.
    assert_eq!(attempts.unsafe_repeats.load(Ordering::Relaxed), 0);
    assert!(attempts.unsafe_retries_unsent.load(Ordering::Relaxed) > 0);
    for phase in [&before, &during] {
        let wrong = lock(&phase.wrong_dispatch_counts);
        assert!(wrong.is_empty(), "{}: {wrong:?}", phase.name);
    }
    // Resources back to baseline.
    assert!(
        after_sockets <= baseline_sockets,
        "sockets: {baseline_sockets} -> {after_sockets}"
    );
    assert!(
        after_rss <= baseline_rss + RSS_TOLERANCE_KIB,
        "rss: {baseline_rss} KiB -> {after_rss} KiB"
    );
    // The room node A held went with it: node B cannot reach it.
    let error = orphaned.expect_err("node B updated a room held by the dead node A");
    assert!(
        error.status().is_some_and(|status| status >= 500),
        "{error}"
    );
}
