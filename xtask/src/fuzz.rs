//! `cargo xtask fuzz`: builds the libFuzzer targets of `fuzz/` and runs each for a while.
//!
//! The targets build on the nightly toolchain, as with `cargo fuzz` (AddressSanitizer is the
//! nightly-only `-Zsanitizer`; `.ci/run` installs nightly), but without `cargo-fuzz`: plain
//! `cargo +nightly build` with the flags `cargo fuzz` would pass (SanitizerCoverage with inline
//! 8-bit counters, PC tables and compare tracing, `--cfg fuzzing`, AddressSanitizer, debug
//! assertions and overflow checks).
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

use crate::util::{Result, workspace_root};

#[cfg(feature = "codegen")]
mod seeds;

/// Every target in `fuzz/fuzz_targets/`.
pub(crate) const TARGETS: &[&str] = &[
    "token_verify",
    "webhook_receive",
    "webhook_protojson",
    "response_parse",
    "url_normalise",
    "view_decode",
];

const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [--target NAME]...
       cargo xtask fuzz seeds
  build every fuzz target (or the named ones) and run each for N seconds (default 60)
  with its seeds; fails on any crash, printing the artifact's path
  seeds: regenerate fuzz/seeds/ from the test fixtures and shared/reference captures";

/// What `.ci/run` runs, and what to run when `cargo +nightly` finds no nightly.
const INSTALL_NIGHTLY: &str = "rustup toolchain install nightly --profile minimal";

/// The instrumentation `cargo fuzz build` applies.
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
        // The seeds of `view_decode` include codegen's sample encoding of each message.
        #[cfg(feature = "codegen")]
        return seeds::write_seeds();
        #[cfg(not(feature = "codegen"))]
        return crate::util::run_xtask_with_codegen("fuzz", args);
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
    // The rustup proxy rather than `$CARGO` (the stable cargo running xtask), so that
    // `+nightly` picks the toolchain.
    let mut command = Command::new("cargo");
    command
        .current_dir(fuzz_dir())
        .args(["+nightly", "build", "--release", "--target", &triple])
        .env("RUSTFLAGS", RUSTFLAGS.join(" "))
        // The build must not pick up flags meant for the SDK's own builds.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    for target in targets {
        command.args(["--bin", target]);
    }
    crate::util::run(&mut command)
        .map_err(|error| format!("{error}; the fuzz targets need nightly: {INSTALL_NIGHTLY}"))?;
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
