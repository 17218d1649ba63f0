//! `cargo xtask e2e`: the end-to-end tier. The suites of both transports and of the CLI run
//! against the real LiveKit server (with Redis) and real WebRTC participants, all inside a
//! network namespace of the run's own (see `netns`), and stop with it, whatever the outcome.
//!
//! Outside the namespace it builds what the tier needs (the server and the participant,
//! cached; the test binaries), since nothing can be fetched from inside; then it runs itself
//! again inside one, where it starts the server and runs the tests.
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
    run(tests().arg("--no-run"))?;
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
    // Offline: everything was built outside, and nothing can be fetched from in here.
    let outcome = run(tests()
        .args(["--offline", "--", "--ignored"])
        .args(test_args)
        .env("LIVEKIT_E2E_URL", server.url())
        .env("LIVEKIT_E2E_API_KEY", API_KEY)
        .env("LIVEKIT_E2E_API_SECRET", API_SECRET)
        .env("LIVEKIT_E2E_SERVER_BIN", server.binary())
        .env(SERVER_VERSION_VARIABLE, server.version())
        .env(PARTICIPANT_VARIABLE, participant));
    let stopped = server.stop();
    outcome.and(stopped)
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
