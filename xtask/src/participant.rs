//! The test participant: `xtask/participant`, a Go program on LiveKit's own Go SDK that joins
//! a room over WebRTC, publishes silence, answers RPCs and reports what it sees as JSON lines
//! (its `main.go` says what it writes). The end-to-end tier starts it from the tests.
//!
//! Built like the server (`go build`, `CGO_ENABLED=0`) into the cache outside the repository,
//! `<cache>/participant/<hash of its sources>/participant`, so a change to the program or its
//! `go.mod`/`go.sum` builds it again and an unchanged one is reused.

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::util::{Result, cache_dir, run, workspace_root};

/// The files the binary is built from; their contents name the cached build.
const SOURCES: &[&str] = &["main.go", "go.mod", "go.sum"];

/// Builds the participant when the cache lacks this version of it, and returns its path.
pub(crate) fn build() -> Result<PathBuf> {
    let source_dir = workspace_root().join("xtask").join("participant");
    let mut hash = Fnv64::default();
    for name in SOURCES {
        let path = source_dir.join(name);
        let text = fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        hash.write(name.as_bytes());
        hash.write(&text.len().to_le_bytes());
        hash.write(&text);
    }
    let builds = cache_dir()?.join("participant");
    let dir = builds.join(format!("{:016x}", hash.0));
    let binary = dir.join("participant");
    if binary.is_file() {
        eprintln!("participant: already built: {}", binary.display());
        return Ok(binary);
    }
    fs::create_dir_all(&dir)
        .map_err(|error| format!("could not create {}: {error}", dir.display()))?;
    // Built beside its final name and renamed, so the cache holds a whole binary or none.
    let partial = dir.join(".participant.partial");
    let started = Instant::now();
    eprintln!("participant: building the Go test participant (a minute or two the first time)");
    // No VCS stamping: the sources sit in this repository's git tree, which is no business
    // of the binary (and git may refuse to be asked, in a checkout owned by someone else).
    run(Command::new("go")
        .args(["build", "-trimpath", "-buildvcs=false", "-o"])
        .arg(&partial)
        .arg(".")
        .env("CGO_ENABLED", "0")
        .current_dir(&source_dir))
    .map_err(|error| format!("{error} (is Go installed and on PATH?)"))?;
    fs::rename(&partial, &binary).map_err(|error| {
        format!(
            "could not move the participant to {}: {error}",
            binary.display()
        )
    })?;
    eprintln!(
        "participant: built in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        binary.display()
    );
    // Builds of earlier sources are of no more use.
    for entry in fs::read_dir(&builds).into_iter().flatten().flatten() {
        if entry.path() != dir {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    Ok(binary)
}

/// FNV-1a, 64 bits: a cache key, not a defence against anyone.
struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}
