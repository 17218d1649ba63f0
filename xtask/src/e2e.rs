//! `cargo xtask e2e`: the end-to-end tier. The suites of both transports and of the CLI run
//! against the real LiveKit server (with Redis) and real WebRTC participants, all inside a
//! network namespace of the run's own (see `netns`), and stop with it, whatever the outcome.
//!
//! Outside the namespace it builds what the tier needs (the server and the participant,
//! cached; the test binaries), since nothing can be fetched from inside; then it runs itself
//! again inside one, where it starts the server, the TLS terminator and the proxy in front of
//! it (see `edge`), and runs the tests.
//!
//! Then the cluster phase: two livekit-server nodes sharing one redis (each placing the rooms
//! it creates on itself, see `server::ClusterNode`), for the `cluster` suites of both
//! transports (calls through one node about rooms and participants on the other), then the
//! hyper `cluster_failover` test, which kills node A under load; it runs last and alone, as
//! nothing can use node A after it.
//!
//! `--server vX.Y.Z` runs the tier against another livekit-server release than the default
//! (at least the oldest supported one, see `server::OLDEST_VERSION`). The tests read the
//! release from `LIVEKIT_E2E_SERVER_VERSION` where its behaviour differs.

use std::process::Command;

use crate::util::{Result, cargo, run};

const USAGE: &str = "usage: cargo xtask e2e [--server vX.Y.Z] [-- TEST_ARGS...]
  --server  the livekit-server release (default v1.13.11, oldest supported v1.13.5)
  TEST_ARGS go to the test binaries after --ignored: a name filter, --skip NAME, ...";

/// The argument that marks the run inside the namespace.
const INSIDE: &str = "--inside-namespace";

/// Where the tests find the participant binary.
const PARTICIPANT_VARIABLE: &str = "LIVEKIT_E2E_PARTICIPANT_BIN";
/// The livekit-server release the tests run against, `vX.Y.Z`.
const SERVER_VERSION_VARIABLE: &str = "LIVEKIT_E2E_SERVER_VERSION";

/// Ports of the tier's server (inside its namespace, where nothing else listens).
const PORT: u16 = 7890;
const REDIS_PORT: u16 = 16389;
/// The cluster phase's two nodes and their redis.
const NODE_A_PORT: u16 = 7930;
const NODE_B_PORT: u16 = 7931;
const CLUSTER_REDIS_PORT: u16 = 16430;
/// A key and a secret no test or message would contain by chance: the suites check that the
/// secret never shows up in what they trace.
const API_KEY: &str = "APIe2eKey";
const API_SECRET: &str = "e2e-secret-3f9c1a7d5b2e4f60a8c7d9e1b3f5a7c9";

pub(crate) fn run_e2e(args: &[String]) -> Result {
    match args {
        [flag, version, participant, test_args @ ..] if flag == INSIDE => {
            inside(version, participant, test_args)
        }
        [flag, version, rest @ ..] if flag == "--server" => {
            outside(&crate::server::parse_version(version)?, test_args(rest)?)
        }
        rest => outside(crate::server::DEFAULT_VERSION, test_args(rest)?),
    }
}

/// What follows `--`, if anything does.
fn test_args(args: &[String]) -> Result<&[String]> {
    match args {
        [] => Ok(&[]),
        [separator, test_args @ ..] if separator == "--" => Ok(test_args),
        _ => Err(USAGE.to_owned()),
    }
}

fn outside(version: &str, test_args: &[String]) -> Result {
    crate::server::build(version)?;
    let participant = crate::participant::build()?;
    for mut tests in [tests(), cluster_tests(), failover_test()] {
        run(tests.arg("--no-run"))?;
    }
    // A copy of this very binary runs in the namespace: the one in target/ may have been
    // rebuilt since it started (by a cargo command of an earlier ci step), and /proc/self/exe
    // still reads the running one.
    let xtask = crate::util::cache_dir()?.join("e2e").join("xtask");
    std::fs::create_dir_all(xtask.parent().expect("a file in a directory"))
        .map_err(|error| format!("cannot create {}: {error}", xtask.display()))?;
    std::fs::copy("/proc/self/exe", &xtask).map_err(|error| {
        format!(
            "cannot copy the xtask binary to {}: {error}",
            xtask.display()
        )
    })?;
    let participant = participant
        .to_str()
        .ok_or("the cache directory's path is not UTF-8")?;
    let mut args = vec!["e2e", INSIDE, version, participant];
    args.extend(test_args.iter().map(String::as_str));
    crate::netns::run_isolated(&xtask, &args)
}

fn inside(version: &str, participant: &str, test_args: &[String]) -> Result {
    crate::netns::set_up()?;
    let server = crate::server::start(&crate::server::StartOptions {
        version: version.to_owned(),
        port: PORT,
        redis_port: REDIS_PORT,
        // Each transport's suite listens on its own port (see their tests/e2e.rs).
        webhook_urls: vec![
            "http://127.0.0.1:7896/webhook".to_owned(),
            "http://127.0.0.1:7897/webhook".to_owned(),
        ],
        api_key: API_KEY.to_owned(),
        api_secret: API_SECRET.to_owned(),
        ..crate::server::StartOptions::default()
    })?;
    // TLS, HTTP/2, a gateway and a proxy in front of the server (see `edge`).
    let edge = match crate::edge::Edge::start(PORT) {
        Ok(edge) => edge,
        Err(error) => {
            let _ = server.stop();
            return Err(error);
        }
    };
    // Offline: everything was built outside, and nothing can be fetched from in here.
    let outcome = run(tests()
        .args(["--offline", "--", "--ignored"])
        .args(test_args)
        .env("LIVEKIT_E2E_URL", server.url())
        .env("LIVEKIT_E2E_API_KEY", API_KEY)
        .env("LIVEKIT_E2E_API_SECRET", API_SECRET)
        .env("LIVEKIT_E2E_SERVER_BIN", server.binary())
        .env(SERVER_VERSION_VARIABLE, server.version())
        .env(PARTICIPANT_VARIABLE, participant)
        .envs(edge.env()));
    let edge_stopped = edge.stop();
    let stopped = server.stop();
    outcome.and(edge_stopped).and(stopped)?;
    cluster_phase(version, participant, test_args)
}

/// Two nodes sharing one redis; the cluster suites, then the failover test, which kills node
/// A (SIGKILL, through the pid it is given) at the point of its load it chooses.
fn cluster_phase(version: &str, participant: &str, test_args: &[String]) -> Result {
    let [a, b] = crate::server::CLUSTER_NODES;
    let node = |port, cluster| crate::server::StartOptions {
        port,
        redis_port: CLUSTER_REDIS_PORT,
        api_key: API_KEY.to_owned(),
        api_secret: API_SECRET.to_owned(),
        cluster: Some(cluster),
        version: version.to_owned(),
        ..crate::server::StartOptions::default()
    };
    let node_a = crate::server::start(&node(NODE_A_PORT, a))?;
    let node_b = crate::server::start(&node(NODE_B_PORT, b))?;
    let pid_a = node_a
        .livekit_pid()
        .ok_or("node A's livekit-server is not running")?;
    let env = |mut command: Command| {
        command
            .args(["--offline", "--", "--ignored"])
            .args(test_args)
            .env("LIVEKIT_E2E_NODE_A_URL", node_a.url())
            .env("LIVEKIT_E2E_NODE_B_URL", node_b.url())
            .env("LIVEKIT_E2E_NODE_A_PID", pid_a.to_string())
            .env("LIVEKIT_E2E_API_KEY", API_KEY)
            .env("LIVEKIT_E2E_API_SECRET", API_SECRET)
            .env(SERVER_VERSION_VARIABLE, version)
            .env(PARTICIPANT_VARIABLE, participant);
        command
    };
    let outcome = run(&mut env(cluster_tests())).and_then(|()| run(&mut env(failover_test())));
    // Node B first: node A's server stops its redis, which node B talks to until it stops.
    let stopped_b = node_b.stop();
    let stopped_a = node_a.stop();
    outcome.and(stopped_b).and(stopped_a)
}

/// `cargo test` of both transports' cluster suites.
fn cluster_tests() -> Command {
    let mut command = cargo();
    command.args([
        "test",
        "--package",
        "livekit-ureq",
        "--package",
        "livekit-hyper",
        "--test",
        "cluster",
    ]);
    command
}

/// `cargo test` of the test that kills node A under load.
fn failover_test() -> Command {
    let mut command = cargo();
    command.args([
        "test",
        "--package",
        "livekit-hyper",
        "--test",
        "cluster_failover",
    ]);
    command
}

/// `cargo test` of the three end-to-end suites.
fn tests() -> Command {
    let mut command = cargo();
    command.args([
        "test",
        "--package",
        "livekit-ureq",
        "--package",
        "livekit-hyper",
        "--package",
        "livekit-cli",
        "--test",
        "e2e",
    ]);
    command
}
