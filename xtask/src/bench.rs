//! `cargo xtask bench`: runs every benchmark binary and prints their figures as one JSON
//! object.
//!
//! Each bench (`harness = false`) prints one JSON object on its last stdout line; this
//! merges them. Figures, never assertions: nothing here fails on a slow number.

use std::process::Stdio;

use crate::util::{Result, cargo, workspace_root};

/// `(package, bench target)` pairs, run in this order when their file exists.
const BENCHES: &[(&str, &str)] = &[
    ("livekit-auth", "auth"),
    ("livekit-proto", "proto"),
    ("livekit-core", "core"),
];

pub(crate) fn run(args: &[String]) -> Result {
    if let Some(extra) = args.first() {
        return Err(format!("bench takes no arguments, got `{extra}`"));
    }
    let mut members = Vec::new();
    for (package, bench) in BENCHES {
        let source = workspace_root().join(format!("crates/{package}/benches/{bench}.rs"));
        if !source.is_file() {
            continue;
        }
        eprintln!("$ cargo bench --package {package} --bench {bench}");
        let output = cargo()
            .args(["bench", "--quiet", "--package", package, "--bench", bench])
            .stderr(Stdio::inherit())
            .output()
            .map_err(|error| format!("could not run cargo bench: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "bench {package}/{bench} failed ({})",
                output.status
            ));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .rev()
            .map(str::trim)
            .find(|line| line.starts_with('{') && line.ends_with('}'))
            .ok_or_else(|| format!("bench {package}/{bench} printed no JSON object"))?;
        let inner = line[1..line.len() - 1].trim();
        if !inner.is_empty() {
            members.push(inner.to_owned());
        }
    }
    println!("{{{}}}", members.join(","));
    Ok(())
}
