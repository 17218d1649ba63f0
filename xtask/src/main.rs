//! Workspace automation for livekit-rs, run as `cargo xtask <command>`.
//!
//! Commands:
//! - `quickstart`: the README's main job, against a local dev server if need be.
//! - `examples`: the `blocking`, `webhook_server` and `token_server` examples against the real
//!   server.
//! - `ci`: everything CI checks, in order, stopping at the first failure.
//! - `e2e`: the end-to-end tier, real server and real participants, in a network namespace.
//! - `api [--write]`: the public API of each library crate against its snapshot in
//!   `xtask/api/`.
//! - `bench`: the benchmarks, printing one JSON object.
//! - `fuzz [--seconds N] [--target NAME]... | fuzz seeds`: the libFuzzer targets of `fuzz/`.
//! - `load [--calls N] [--faults]`: load and fault runs against the real server.
//! - `protocol sync --version vX.Y.Z`: vendor the upstream LiveKit `.proto` files.
//! - `codegen [--check]`: generate `livekit-proto` from `protocol/` (or check it is current).
//! - `interop [--write-fixtures]`: our tokens against the Python and Node SDKs, both ways.
//! - `server <build | start | stop | status>`: the real LiveKit server on loopback, for tests.
//!
//! `codegen` and `fuzz seeds` need the protobuf stack (protox, prost-build, pbjson-build, syn),
//! which sits behind the `codegen` feature so the other commands build without it; in a build
//! without the feature, those two commands run xtask again with it.

// A std crate: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod api;
mod bench;
mod ci;
#[cfg(feature = "codegen")]
mod codegen;
mod e2e;
mod edge;
mod examples;
mod fuzz;
mod interop;
mod load;
mod netns;
mod participant;
mod protocol;
mod quickstart;
mod server;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  quickstart
            the main job: run the quickstart against LIVEKIT_URL, or a local dev server
            (started, and stopped afterwards, when none answers at 127.0.0.1:7880)
  examples  build the blocking, webhook_server and token_server examples and check each
            against the real LiveKit server (started on 127.0.0.1:7910, stopped afterwards)
  ci        run every CI step in order, stopping at the first failure
  e2e [--server v1.13.11] [-- TEST_ARGS...]
            the end-to-end tier: both transports and the CLI against the real server and
            real WebRTC participants, in a network namespace of its own (needs root or
            unprivileged user namespaces), then a two-node cluster's suites and node A
            killed under load; --server: another livekit-server release (the oldest
            supported is v1.13.5); TEST_ARGS go to the test binaries (a filter, --skip NAME)
  api [--write]
            check the public API of each library crate against its snapshot in xtask/api/
            (--write: update the snapshots)
  bench     run the benchmarks and print one JSON object
  fuzz [--seconds 60] [--target NAME]...
            build the fuzz targets of fuzz/ (nightly toolchain, no cargo-fuzz) and run each
            for N seconds with its seeds; fails on any crash, naming the saved input
  fuzz seeds
            regenerate fuzz/seeds/ from the test fixtures and the reference captures
  load [--calls 20000] [--async-callers 64] [--blocking-threads 8] [--faults]
            the mixed workload on both transports against the real server (ports 7920,
            16420); --faults: then the server killed and restarted mid-load, and redis
            stopped under a short mix
  protocol sync --version vX.Y.Z
            vendor the upstream LiveKit .proto files into protocol/
  codegen [--check]
            generate crates/livekit-proto/src/generated from protocol/
            (--check: fail if the checked-in code is stale)
  interop [--write-fixtures]
            check our tokens against the Python and Node LiveKit SDKs, both ways
            (--write-fixtures: also refresh livekit-auth's peer token fixtures)
  server build [--version v1.13.11] | start [--version v1.13.11] [--port 7880]
         [--redis-port 16379] [--webhook URL]... [--keys K:S] [--cluster-node a|b]
         [--foreground] | stop [--port 7880] | status [--port 7880]
            build (cached), start, stop the real LiveKit server and its redis on 127.0.0.1
            (--cluster-node: one of two nodes sharing node a's redis)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "api" => api::run_api(rest),
        "bench" => bench::run(rest),
        "ci" => ci::run_ci(rest),
        #[cfg(feature = "codegen")]
        "codegen" => codegen::run_codegen(rest),
        #[cfg(not(feature = "codegen"))]
        "codegen" => util::run_xtask_with_codegen("codegen", rest),
        "e2e" => e2e::run_e2e(rest),
        "examples" => examples::run_examples(rest),
        "fuzz" => fuzz::run_fuzz(rest),
        "interop" => interop::run_interop(rest),
        "load" => load::run_load(rest),
        "protocol" => protocol::run_protocol(rest),
        "quickstart" => quickstart::run_quickstart(rest),
        "server" => server::run_server(rest),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}
