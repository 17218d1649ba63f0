//! `cargo xtask ci`: every check CI makes, in order, stopping at the first failure.

use std::path::PathBuf;
use std::time::Instant;

use crate::util::{Result, cargo, run, run_xtask_with_codegen, workspace_root};

type Step = (&'static str, fn() -> Result);

/// The steps, in the order they run. Later issues append their own.
const STEPS: &[Step] = &[
    ("fmt", fmt),
    ("layers", layers),
    ("codegen", codegen),
    ("clippy", clippy),
    ("test", test),
    ("doctest", doctest),
    ("rustdoc", rustdoc),
    ("api", api),
    ("publish", publish),
    ("no_std", no_std),
    ("fuzz", fuzz),
    ("e2e", e2e),
    ("load", load),
    ("quickstart", quickstart),
    ("examples", examples),
    ("interop", interop),
];

pub(crate) fn run_ci(args: &[String]) -> Result {
    let only: Vec<&str> = args.iter().map(String::as_str).collect();
    for name in &only {
        if !STEPS.iter().any(|(step, _)| step == name) {
            return Err(format!("unknown ci step `{name}`"));
        }
    }
    let mut summary = Vec::new();
    let mut failure = None;
    for (name, step) in STEPS {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        eprintln!("\n==> ci step: {name}");
        let started = Instant::now();
        let outcome = step();
        let seconds = started.elapsed().as_secs_f64();
        match outcome {
            Ok(()) => summary.push(format!("  ok    {name:<10} {seconds:>7.1} s")),
            Err(error) => {
                summary.push(format!("  FAIL  {name:<10} {seconds:>7.1} s  {error}"));
                failure = Some(name);
                break;
            }
        }
    }
    eprintln!("\nci summary:");
    for line in &summary {
        eprintln!("{line}");
    }
    match failure {
        Some(name) => Err(format!("ci failed at step `{name}`")),
        None => {
            eprintln!("ci: all steps passed");
            Ok(())
        }
    }
}

fn fmt() -> Result {
    run(cargo().args(["fmt", "--all", "--check"]))
}

/// Each library crate depends (outside its tests) only on the layer right below it:
/// `livekit-auth` and `livekit-proto` on none of the others, `livekit-core` on those two, the
/// transports on `livekit-core` (which re-exports them), the CLI on `livekit-ureq` alone, as
/// any user of the blocking client would.
const LAYERS: &[(&str, &[&str])] = &[
    ("livekit-auth", &[]),
    ("livekit-proto", &[]),
    ("livekit-core", &["livekit-auth", "livekit-proto"]),
    ("livekit-hyper", &["livekit-core"]),
    ("livekit-ureq", &["livekit-core"]),
    ("livekit-cli", &["livekit-ureq"]),
];

/// Fails when a crate's normal or build dependencies on the workspace's crates differ from
/// [`LAYERS`] (read from `cargo metadata`).
fn layers() -> Result {
    let output = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .map_err(|error| format!("could not run cargo metadata: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("cargo metadata printed no json: {error}"))?;
    let packages = metadata["packages"]
        .as_array()
        .ok_or("no packages in cargo metadata")?;
    let mut wrong = Vec::new();
    for (name, allowed) in LAYERS {
        let package = packages
            .iter()
            .find(|package| package["name"] == *name)
            .ok_or_else(|| format!("{name} is not in the workspace"))?;
        let mut layered: Vec<&str> = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            // Tests may use anything; `kind` is null for normal dependencies.
            .filter(|dependency| dependency["kind"] != "dev")
            .filter_map(|dependency| dependency["name"].as_str())
            .filter(|dependency| dependency.starts_with("livekit-"))
            .collect();
        layered.sort_unstable();
        layered.dedup();
        if layered != *allowed {
            wrong.push(format!(
                "{name} depends on {layered:?}, its layer allows {allowed:?}"
            ));
        }
    }
    if wrong.is_empty() {
        eprintln!("layers: every crate depends only on the layer below it");
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// The checked-in `livekit-proto` generated code is what `protocol/` generates today; then
/// xtask's tests with its `codegen` feature, which the `test` step builds without.
fn codegen() -> Result {
    run_xtask_with_codegen("codegen", &["--check".to_owned()])?;
    run(cargo().args(["test", "--package", "xtask", "--features", "codegen"]))
}

/// Clippy once per package, so a lint in one crate's feature set cannot hide behind another's.
fn clippy() -> Result {
    for package in workspace_packages()? {
        run(cargo().args([
            "clippy",
            "--package",
            &package,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    // The code behind xtask's `codegen` feature (the generator, the fuzz seeds).
    run(cargo().args([
        "clippy",
        "--package",
        "xtask",
        "--all-targets",
        "--features",
        "codegen",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The protocol crate's tests and bench of its optional `view` feature.
    run(cargo().args([
        "clippy",
        "--package",
        "livekit-proto",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The no_std face of the token crate, on its own so feature unification cannot hide std.
    run(cargo().args([
        "clippy",
        "--package",
        "livekit-auth",
        "--no-default-features",
        "--lib",
        "--",
        "-D",
        "warnings",
    ]))
}

/// Every test target, but not the benches: they run through `cargo xtask bench` (clippy
/// still compiles them with `--all-targets`).
fn test() -> Result {
    run(cargo().args([
        "test",
        "--workspace",
        // The opt-in views are tested too.
        "--features",
        "livekit-core/view",
        "--lib",
        "--bins",
        "--tests",
        "--examples",
    ]))
}

fn doctest() -> Result {
    run(cargo().args([
        "test",
        "--workspace",
        "--features",
        "livekit-core/view",
        "--doc",
    ]))
}

/// The public API of each library crate is its checked-in snapshot (`cargo xtask api`).
fn api() -> Result {
    crate::api::run_api(&[])
}

fn rustdoc() -> Result {
    run(cargo()
        .args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings"))?;
    // The intra-doc links of the code behind xtask's `codegen` feature.
    run(cargo()
        .args([
            "doc",
            "--package",
            "xtask",
            "--no-deps",
            "--features",
            "codegen",
        ])
        .env("RUSTDOCFLAGS", "-D warnings"))
}

/// The libraries and the CLI are publishable as they stand. `cargo publish --dry-run
/// --workspace` (cargo 1.90 or newer) packages every member not marked `publish = false` (so
/// not xtask nor the examples), checks each manifest, then builds each `.crate` on its own,
/// taking its sibling crates from the other `.crate`s through a local registry rather than
/// from their paths. That proves every file a crate's build needs is inside its package and
/// every path dependency carries a publishable version; nothing is uploaded. `--allow-dirty`
/// because, like every other step, it checks the working tree as it is, committed or not.
fn publish() -> Result {
    forget_unpacked_packages()?;
    run(cargo().args(["publish", "--dry-run", "--workspace", "--allow-dirty"]))
}

/// The packages `publish` packages, by name.
const PUBLISHED: &[&str] = &[
    "livekit-auth",
    "livekit-proto",
    "livekit-core",
    "livekit-hyper",
    "livekit-ureq",
    "livekit-cli",
];

/// `cargo publish --dry-run --workspace` verifies each package against the others through a
/// temporary local registry, whose unpacked sources cargo keeps under
/// `$CARGO_HOME/registry/src/` and never unpacks again for the same version: a later run
/// would verify a package against an earlier run's copy of its dependencies (it did:
/// `livekit-core` was verified against a `livekit-proto` from before a codegen change). So
/// the unpacked copies of our packages go first; crates.io's directory is left alone.
fn forget_unpacked_packages() -> Result {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let Ok(registries) = std::fs::read_dir(cargo_home.join("registry/src")) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if registry
            .file_name()
            .to_string_lossy()
            .starts_with("index.crates.io-")
        {
            continue;
        }
        let Ok(packages) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for package in packages.flatten() {
            let name = package.file_name().to_string_lossy().into_owned();
            let ours = PUBLISHED.iter().any(|published| {
                name.strip_prefix(published)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                std::fs::remove_dir_all(package.path()).map_err(|error| {
                    format!("cannot remove {}: {error}", package.path().display())
                })?;
            }
        }
    }
    Ok(())
}

/// Builds and runs a `#![no_std]` binary that links `livekit-auth` with default features off.
/// If std crept into the dependency graph, the link fails with a duplicate `panic_impl` lang item.
fn no_std() -> Result {
    let example = workspace_root().join("examples/no_std_sign");
    run(cargo()
        .current_dir(&example)
        .args(["run", "--release", "--quiet"]))
}

/// Every fuzz target for a short while with its seeds: a smoke test that the targets build
/// and that no known input crashes. Longer campaigns: `cargo xtask fuzz --seconds 300`.
fn fuzz() -> Result {
    crate::fuzz::fuzz(crate::fuzz::TARGETS, CI_FUZZ_SECONDS)
}

/// Seconds per fuzz target in CI.
const CI_FUZZ_SECONDS: u64 = 20;

/// Our tokens against the pinned Python and Node SDKs, both ways (installs them if needed).
fn interop() -> Result {
    crate::interop::run_interop(&[])
}

/// Package names of the workspace members: every directory under `crates/`, plus xtask.
fn workspace_packages() -> Result<Vec<String>> {
    let crates = workspace_root().join("crates");
    let mut packages = Vec::new();
    let entries =
        std::fs::read_dir(&crates).map_err(|e| format!("reading {}: {e}", crates.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.join("Cargo.toml").is_file()
            && let Some(name) = path.file_name().and_then(|name| name.to_str())
        {
            packages.push(name.to_owned());
        }
    }
    packages.sort();
    packages.push("xtask".to_owned());
    // Examples that are workspace members (not those with a workspace of their own).
    let examples = workspace_root().join("examples");
    let entries =
        std::fs::read_dir(&examples).map_err(|e| format!("reading {}: {e}", examples.display()))?;
    let mut members = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let manifest = std::fs::read_to_string(path.join("Cargo.toml")).unwrap_or_default();
        if !manifest.is_empty()
            && !manifest.contains("\n[workspace]")
            && let Some(name) = path.file_name().and_then(|name| name.to_str())
        {
            members.push(name.to_owned());
        }
    }
    members.sort();
    packages.extend(members);
    Ok(packages)
}

/// The end-to-end tier: both transports and the CLI against the real server and real
/// participants, in a network namespace of its own (`cargo xtask e2e`), with the default
/// server release (`server::DEFAULT_VERSION`).
fn e2e() -> Result {
    crate::e2e::run_e2e(&[])
}

/// A short load on both transports plus both fault runs (server restart, Redis stopped),
/// against a real server on the load command's own ports.
fn load() -> Result {
    crate::load::run_load(&[
        "--calls".to_owned(),
        "2000".to_owned(),
        "--faults".to_owned(),
    ])
}

/// README command 1, exactly as a newcomer runs it: the quickstart against a dev server it
/// starts (without Redis) and stops.
fn quickstart() -> Result {
    crate::quickstart::run_quickstart(&[])
}

/// The `blocking`, `webhook_server` and `token_server` examples against the real server (with
/// Redis) on ports of their own (7910-7913, redis 16410), stopped afterwards.
fn examples() -> Result {
    crate::examples::run_examples(&[])
}
