//! `cargo xtask fuzz`: builds the libFuzzer targets of `fuzz/` and runs each for a while.
//!
//! No nightly toolchain and no `cargo-fuzz` needed: the targets are built by plain
//! `cargo build` with the flags `cargo fuzz` would pass (SanitizerCoverage with inline 8-bit
//! counters, PC tables and compare tracing, `--cfg fuzzing`, AddressSanitizer, debug
//! assertions and overflow checks), the `-Z` flag allowed on stable by `RUSTC_BOOTSTRAP=1`.
//! `libfuzzer-sys` compiles libFuzzer itself (it needs a C++ compiler) and provides `main`.
//! Building for an explicit `--target` keeps the flags off build scripts and proc macros.
//!
//! Each target runs with its checked-in seeds (`fuzz/seeds/<target>/`, read only) and a
//! working corpus in `fuzz/corpus/<target>/` (gitignored, kept between runs). A crash, leak,
//! timeout or out-of-memory input is written to `fuzz/artifacts/<target>/` and fails the run
//! with its path. `cargo xtask fuzz seeds` regenerates the seeds from the repository's real
//! vectors and the shared reference captures.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::util::{Result, cargo, workspace_root};

/// Every target in `fuzz/fuzz_targets/`.
pub(crate) const TARGETS: &[&str] = &[
    "token_verify",
    "webhook_receive",
    "webhook_protojson",
    "response_parse",
    "url_normalise",
    "view_decode",
];

/// The message types of the `view_decode` target, by the selector byte that starts its
/// input: the order of `MESSAGES` in `fuzz/fuzz_targets/view_decode.rs`.
const VIEW_DECODE_MESSAGES: &[&str] = &[
    ".livekit.ListParticipantsResponse",
    ".livekit.ParticipantInfo",
    ".livekit.Room",
    ".livekit.WebhookEvent",
    ".livekit.EgressInfo",
    ".livekit.SIPOutboundTrunkInfo",
    ".livekit.IngressInfo",
    ".livekit.ListRoomsResponse",
    ".livekit.AgentDispatch",
    ".livekit.CreateSIPParticipantRequest",
    ".livekit.MetricsBatch",
    ".livekit.SIPCallInfo",
];

const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [--target NAME]...
       cargo xtask fuzz seeds
  build every fuzz target (or the named ones) and run each for N seconds (default 60)
  with its seeds; fails on any crash, printing the artifact's path
  seeds: regenerate fuzz/seeds/ from the test fixtures and shared/reference captures";

/// The instrumentation `cargo fuzz build` applies, for the stable toolchain.
const RUSTFLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "--cfg",
    "fuzzing",
    "-Zsanitizer=address",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

/// What one run found.
struct Report {
    target: &'static str,
    executions: u64,
    seconds: f64,
    corpus: usize,
    crashes: Vec<PathBuf>,
}

pub(crate) fn run_fuzz(args: &[String]) -> Result {
    if args.first().map(String::as_str) == Some("seeds") {
        return write_seeds();
    }
    let mut seconds = 60u64;
    let mut targets = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = rest
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|&value| value > 0)
                    .ok_or_else(|| format!("--seconds needs a positive number\n{USAGE}"))?;
            }
            "--target" => {
                let name = rest
                    .next()
                    .ok_or_else(|| format!("--target needs a name\n{USAGE}"))?;
                let target = TARGETS
                    .iter()
                    .find(|target| *target == name)
                    .ok_or_else(|| format!("unknown fuzz target `{name}`: {TARGETS:?}"))?;
                targets.push(*target);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    fuzz(&targets, seconds)
}

/// Builds `targets`, runs each for `seconds`, prints a table and fails on any crash.
pub(crate) fn fuzz(targets: &[&'static str], seconds: u64) -> Result {
    let binaries = build(targets)?;
    let mut reports = Vec::new();
    for (target, binary) in targets.iter().zip(&binaries) {
        reports.push(run_target(target, binary, seconds)?);
    }
    eprintln!("\nfuzz summary ({seconds} s per target):");
    eprintln!(
        "  {:<18} {:>12} {:>8} {:>10} {:>8} {:>7}",
        "target", "executions", "seconds", "exec/s", "crashes", "corpus"
    );
    for report in &reports {
        eprintln!(
            "  {:<18} {:>12} {:>8.1} {:>10.0} {:>8} {:>7}",
            report.target,
            report.executions,
            report.seconds,
            report.executions as f64 / report.seconds.max(0.001),
            report.crashes.len(),
            report.corpus
        );
    }
    let crashes: Vec<String> = reports
        .iter()
        .flat_map(|report| &report.crashes)
        .map(|path| path.display().to_string())
        .collect();
    if crashes.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found {} crashing input(s): {}",
            crashes.len(),
            crashes.join(", ")
        ))
    }
}

fn fuzz_dir() -> PathBuf {
    workspace_root().join("fuzz")
}

/// Builds the instrumented binaries; returns their paths in the order of `targets`.
fn build(targets: &[&str]) -> Result<Vec<PathBuf>> {
    let triple = host_triple()?;
    let mut command = cargo();
    command
        .current_dir(fuzz_dir())
        .args(["build", "--release", "--target", &triple])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTFLAGS", RUSTFLAGS.join(" "))
        // The build must not pick up flags meant for the SDK's own builds.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    for target in targets {
        command.args(["--bin", target]);
    }
    crate::util::run(&mut command)?;
    let out = fuzz_dir().join("target").join(&triple).join("release");
    Ok(targets.iter().map(|target| out.join(target)).collect())
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|error| format!("could not run rustc -vV: {error}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".to_owned())
}

/// Runs one target for `seconds` and reads libFuzzer's final statistics.
fn run_target(target: &'static str, binary: &Path, seconds: u64) -> Result<Report> {
    let corpus = fuzz_dir().join("corpus").join(target);
    let seeds = fuzz_dir().join("seeds").join(target);
    let artifacts = fuzz_dir().join("artifacts").join(target);
    for dir in [&corpus, &artifacts] {
        fs::create_dir_all(dir).map_err(|error| format!("creating {}: {error}", dir.display()))?;
    }
    let before = crash_files(&artifacts)?;
    let log = fuzz_dir().join("target").join(format!("{target}.log"));
    let log_file =
        fs::File::create(&log).map_err(|error| format!("creating {}: {error}", log.display()))?;
    let mut command = Command::new(binary);
    command
        .arg(&corpus)
        .arg(&seeds)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        // An input that takes seconds is a hang to report, not something to wait out.
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .stdout(log_file.try_clone().map_err(|error| error.to_string())?)
        .stderr(log_file);
    eprintln!(
        "$ {} (log: {})",
        crate::util::display(&command),
        log.display()
    );
    let started = Instant::now();
    let status = command
        .status()
        .map_err(|error| format!("could not start {}: {error}", binary.display()))?;
    let elapsed = started.elapsed().as_secs_f64();
    let text = fs::read_to_string(&log).unwrap_or_default();
    let stat = |name: &str| -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("stat::{name}:")))
            .and_then(|value| value.trim().parse().ok())
    };
    let executions = stat("number_of_executed_units").unwrap_or(0);
    let crashes: Vec<PathBuf> = crash_files(&artifacts)?
        .into_iter()
        .filter(|path| !before.contains(path))
        .collect();
    if !status.success() && crashes.is_empty() {
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{target} exited with {status} and left no artifact; the end of {}:\n{}",
            log.display(),
            tail.join("\n")
        ));
    }
    let corpus_size = fs::read_dir(&corpus).map(Iterator::count).unwrap_or(0);
    eprintln!(
        "{target}: {executions} executions in {elapsed:.1} s, {} crash(es), corpus {corpus_size}",
        crashes.len()
    );
    Ok(Report {
        target,
        executions,
        seconds: elapsed,
        corpus: corpus_size,
        crashes,
    })
}

/// The inputs libFuzzer saved as failures: crashes, leaks, timeouts, out-of-memory.
fn crash_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        fs::read_dir(dir).map_err(|error| format!("reading {}: {error}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|error| error.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if ["crash-", "leak-", "timeout-", "oom-", "slow-unit-"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Regenerates `fuzz/seeds/` from the repository's real vectors: the peer SDK tokens, the
/// Python SDK's captured replies and request bodies, the Node SDK's captured exchanges (from
/// `shared/reference/` beside the repository, when present) and the server's own webhooks
/// (`fuzz/seeds/server_webhooks.json`, captured from the real server); and, for
/// `view_decode`, an encoding of each of its messages that sets every field.
fn write_seeds() -> Result {
    let root = workspace_root();
    let mut seeds = Seeds::default();

    let peer = read_json(&root.join("crates/livekit-auth/tests/fixtures/peer_tokens.json"))?;
    for token in array(&peer, "tokens") {
        if let Some(jwt) = token["token"].as_str() {
            seeds.add("token_verify", jwt.as_bytes());
        }
    }

    let calls = read_json(&root.join("crates/livekit-core/tests/fixtures/python_calls.json"))?;
    for call in array(&calls, "calls") {
        let reply = &call["reply"];
        let status = reply["status"].as_u64().unwrap_or(200);
        let content_type = reply["content_type"].as_str().unwrap_or("");
        let body = reply["body"].as_str().unwrap_or("");
        for rpc in 0..6 {
            seeds.add(
                "response_parse",
                format!("{status} {rpc}\ncontent-type: {content_type}\n\n{body}").as_bytes(),
            );
        }
    }
    let requests =
        read_json(&root.join("crates/livekit-proto/tests/fixtures/python_captures.json"))?;
    for (index, request) in array(&requests, "requests").enumerate() {
        // Real protobuf bodies, as 200 answers: most decode as some response message.
        if let Some(bytes) = request["body_hex"].as_str().and_then(hex) {
            let mut seed = b"200 0\ncontent-type: application/protobuf\n\n".to_vec();
            seed.extend_from_slice(&bytes);
            seeds.add("response_parse", &seed);
            seeds.add("webhook_protojson", &bytes);
            // As its own type when `view_decode` has it; otherwise spread over the types (a
            // body of strings and varints at low field numbers decodes as most messages).
            let own = request["request_type"].as_str().and_then(|name| {
                VIEW_DECODE_MESSAGES
                    .iter()
                    .position(|message| message.trim_start_matches('.') == name)
            });
            let selector = own.unwrap_or(index % VIEW_DECODE_MESSAGES.len());
            seeds.add("view_decode", &view_decode_seed(selector, &bytes));
        }
    }
    let samples = crate::codegen::message_samples(VIEW_DECODE_MESSAGES)?;
    for (selector, sample) in samples.iter().enumerate() {
        seeds.add("view_decode", &view_decode_seed(selector, sample));
    }

    let reference = root.join("../shared/reference");
    for file in [
        "node-livekit-server-sdk-2.19.2.captures.json",
        "python-livekit-api-1.2.2.captures.json",
    ] {
        let path = reference.join(file);
        if !path.is_file() {
            eprintln!("skipping {} (not present)", path.display());
            continue;
        }
        let captures = read_json(&path)?;
        let steps = array(&captures, "steps").chain(array(&captures, "calls"));
        for step in steps {
            for request in step["requests"].as_array().into_iter().flatten() {
                for header in request["headers"].as_array().into_iter().flatten() {
                    let (Some(name), Some(value)) = (header[0].as_str(), header[1].as_str()) else {
                        continue;
                    };
                    if name.eq_ignore_ascii_case("authorization") {
                        let token = value.strip_prefix("Bearer ").unwrap_or(value);
                        seeds.add("token_verify", token.as_bytes());
                    } else if name.eq_ignore_ascii_case("host") {
                        seeds.add("url_normalise", format!("http://{value}").as_bytes());
                    }
                }
                let reply = &request["reply"];
                if let Some(status) = reply["status"].as_u64() {
                    let mut head = format!("{status} 1\n");
                    for (name, value) in reply["headers"].as_object().into_iter().flatten() {
                        head.push_str(&format!("{name}: {}\n", value.as_str().unwrap_or("")));
                    }
                    let body = reply["body"].as_str().unwrap_or("");
                    seeds.add("response_parse", format!("{head}\n{body}").as_bytes());
                }
            }
            if let Some(host) = step["host"].as_str() {
                seeds.add("url_normalise", host.as_bytes());
            }
        }
    }

    let webhooks = fuzz_dir().join("seeds/server_webhooks.json");
    let webhooks = read_json(&webhooks)?;
    for webhook in array(&webhooks, "webhooks") {
        let authorization = webhook["authorization"].as_str().unwrap_or("");
        let body = webhook["body"].as_str().unwrap_or("");
        seeds.add(
            "webhook_receive",
            format!("{authorization}\n{body}").as_bytes(),
        );
        seeds.add("webhook_protojson", body.as_bytes());
        seeds.add("token_verify", authorization.as_bytes());
    }

    // The URL shapes the clients document: schemes, sub-paths, IPv6, Cloud hosts.
    for url in [
        "http://127.0.0.1:7880",
        "ws://localhost:7880/",
        "wss://project.livekit.cloud",
        "https://example.com/lk/base//",
        "http://[::1]:7880",
        "https://cloud-api.livekit.io",
        "  HTTPS://Example.COM/a%20b ",
    ] {
        seeds.add("url_normalise", url.as_bytes());
    }
    seeds.write()
}

/// A `view_decode` input: the selector byte of the message type, then the buffer.
fn view_decode_seed(selector: usize, buf: &[u8]) -> Vec<u8> {
    let selector = u8::try_from(selector).expect("fewer than 256 message types");
    [&[selector][..], buf].concat()
}

/// Seed files by target, deduplicated, named by content hash so reruns are stable.
#[derive(Default)]
struct Seeds(std::collections::BTreeMap<&'static str, std::collections::BTreeSet<Vec<u8>>>);

impl Seeds {
    fn add(&mut self, target: &'static str, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.0.entry(target).or_default().insert(bytes.to_vec());
        }
    }

    fn write(self) -> Result {
        for (target, inputs) in self.0 {
            let dir = fuzz_dir().join("seeds").join(target);
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir)
                .map_err(|error| format!("creating {}: {error}", dir.display()))?;
            for input in &inputs {
                let path = dir.join(format!("{:016x}", fnv1a(input)));
                fs::write(&path, input)
                    .map_err(|error| format!("writing {}: {error}", path.display()))?;
            }
            eprintln!("{target}: {} seeds in {}", inputs.len(), dir.display());
        }
        Ok(())
    }
}

/// A stable 64-bit content hash for seed file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        fs::read_to_string(path).map_err(|error| format!("reading {}: {error}", path.display()))?;
    serde_json::from_str(&text).map_err(|error| format!("parsing {}: {error}", path.display()))
}

fn array<'a>(
    value: &'a serde_json::Value,
    key: &str,
) -> impl Iterator<Item = &'a serde_json::Value> {
    value[key].as_array().into_iter().flatten()
}

fn hex(text: &str) -> Option<Vec<u8>> {
    text.len()
        .is_multiple_of(2)
        .then(|| {
            (0..text.len())
                .step_by(2)
                .map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}
