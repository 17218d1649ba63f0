//! `cargo xtask protocol sync --version vX.Y.Z`: vendors the upstream LiveKit `.proto` files.
//!
//! The files come from the published Go module `github.com/livekit/protocol`, fetched through
//! the Go module proxy with `go mod download -json` (so the go.sum hash pins them). Only the
//! files of the server API ([`ROOTS`]) and what they import are copied, byte for byte, together
//! with upstream's LICENSE and NOTICE and an `UPSTREAM.toml` that records where they came from.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Result, workspace_root};

/// The Go module that publishes the protocol.
const MODULE: &str = "github.com/livekit/protocol";

/// The `.proto` files that define the server API; codegen compiles exactly these.
/// Their imports are vendored too (except `google/protobuf/*`, which protox ships).
pub(crate) const ROOTS: &[&str] = &[
    "livekit_room.proto",
    "livekit_egress.proto",
    "livekit_ingress.proto",
    "livekit_sip.proto",
    "livekit_agent_dispatch.proto",
    "livekit_connector.proto",
    "livekit_webhook.proto",
];

/// The vendored protocol directory.
pub(crate) fn protocol_dir() -> PathBuf {
    workspace_root().join("protocol")
}

pub(crate) fn run_protocol(args: &[String]) -> Result {
    match args {
        [command, flag, version] if command == "sync" && flag == "--version" => sync(version),
        [command, flag] if command == "sync" && flag.starts_with("--version=") => {
            sync(&flag["--version=".len()..])
        }
        _ => Err("usage: cargo xtask protocol sync --version vX.Y.Z".to_owned()),
    }
}

/// What `go mod download -json` says about the module.
struct Download {
    version: String,
    dir: PathBuf,
    sum: String,
}

fn sync(version: &str) -> Result {
    let version = if version.starts_with('v') {
        version.to_owned()
    } else {
        format!("v{version}")
    };
    let download = go_mod_download(&version)?;
    let source = download.dir.join("protobufs");
    let files = import_closure(&source)?;

    let target = protocol_dir();
    remove_vendored_protos(&target)?;
    for file in &files {
        copy(&source.join(file), &target.join(file))?;
    }
    for legal in ["LICENSE", "NOTICE"] {
        let path = download.dir.join(legal);
        if path.is_file() {
            copy(&path, &target.join(legal))?;
        } else if legal == "LICENSE" {
            return Err(format!("{MODULE}@{version} has no LICENSE file"));
        }
    }
    write(
        &target.join("UPSTREAM.toml"),
        &upstream_toml(&download, &files),
    )?;
    eprintln!(
        "protocol: vendored {} files of {MODULE}@{} into {}",
        files.len(),
        download.version,
        target.display()
    );
    Ok(())
}

/// Runs `go mod download -json MODULE@version` outside any Go workspace and parses its answer.
fn go_mod_download(version: &str) -> Result<Download> {
    let module = format!("{MODULE}@{version}");
    let output = Command::new("go")
        .args(["mod", "download", "-json", &module])
        .current_dir(std::env::temp_dir())
        .env("GO111MODULE", "on")
        .env("GOWORK", "off")
        .output()
        .map_err(|error| {
            format!("could not run `go` ({error}); protocol sync needs the Go toolchain")
        })?;
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|error| {
        format!(
            "`go mod download -json {module}` gave no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })?;
    let field = |name: &str| answer.get(name).and_then(serde_json::Value::as_str);
    if let Some(error) = field("Error") {
        return Err(format!("`go mod download {module}` failed: {error}"));
    }
    match (field("Version"), field("Dir"), field("Sum")) {
        (Some(version), Some(dir), Some(sum)) => Ok(Download {
            version: version.to_owned(),
            dir: PathBuf::from(dir),
            sum: sum.to_owned(),
        }),
        _ => Err(format!(
            "`go mod download -json {module}` did not report Version, Dir and Sum"
        )),
    }
}

/// [`ROOTS`] and every file they import, transitively, as paths relative to `source`.
/// Sorted, without duplicates.
fn import_closure(source: &Path) -> Result<Vec<String>> {
    let mut files: Vec<String> = Vec::new();
    let mut pending: Vec<String> = ROOTS.iter().map(|root| (*root).to_owned()).collect();
    while let Some(file) = pending.pop() {
        if file.starts_with("google/protobuf/") || files.contains(&file) {
            continue;
        }
        let text = read(&source.join(&file))?;
        pending.extend(imports(&text));
        files.push(file);
    }
    files.sort();
    Ok(files)
}

/// The files named by the `import` statements of a `.proto` file.
pub(crate) fn imports(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("import")?;
            let rest = rest.trim_start();
            let rest = rest
                .strip_prefix("public")
                .or_else(|| rest.strip_prefix("weak"))
                .unwrap_or(rest)
                .trim_start();
            let rest = rest.strip_prefix('"')?;
            let end = rest.find('"')?;
            Some(rest[..end].to_owned())
        })
        .collect()
}

/// Removes the `.proto` files a previous sync left, so files upstream dropped do not linger.
fn remove_vendored_protos(dir: &Path) -> Result {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry.map_err(|error| error.to_string())?.path();
        if path.is_dir() {
            remove_vendored_protos(&path)?;
            if fs::read_dir(&path).is_ok_and(|mut rest| rest.next().is_none()) {
                fs::remove_dir(&path)
                    .map_err(|error| format!("removing {}: {error}", path.display()))?;
            }
        } else if path
            .extension()
            .is_some_and(|extension| extension == "proto")
        {
            fs::remove_file(&path)
                .map_err(|error| format!("removing {}: {error}", path.display()))?;
        }
    }
    Ok(())
}

fn upstream_toml(download: &Download, files: &[String]) -> String {
    let mut text = String::from(
        "# Written by `cargo xtask protocol sync`; do not edit by hand.\n\
         # The .proto files, LICENSE and NOTICE in this directory are LiveKit's, copied verbatim\n\
         # from the `protobufs/` directory of the published Go module below, under its license.\n",
    );
    text.push_str(&format!("module = \"{MODULE}\"\n"));
    text.push_str(&format!("version = \"{}\"\n", download.version));
    text.push_str(&format!("go_sum = \"{}\"\n", download.sum));
    text.push_str(&format!(
        "fetched_with = \"go mod download -json {MODULE}@{}\"\n",
        download.version
    ));
    text.push_str("roots = [\n");
    for root in ROOTS {
        text.push_str(&format!("  \"{root}\",\n"));
    }
    text.push_str("]\nfiles = [\n");
    for file in files {
        text.push_str(&format!("  \"{file}\",\n"));
    }
    text.push_str("]\n");
    text
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|error| format!("reading {}: {error}", path.display()))
}

fn write(path: &Path, text: &str) -> Result {
    fs::write(path, text).map_err(|error| format!("writing {}: {error}", path.display()))
}

fn copy(from: &Path, to: &Path) -> Result {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)
            .map_err(|error| format!("creating {}: {error}", parent.display()))?;
    }
    // Read and write rather than fs::copy, so the read-only mode of the module cache is not copied.
    let bytes = fs::read(from).map_err(|error| format!("reading {}: {error}", from.display()))?;
    fs::write(to, bytes).map_err(|error| format!("writing {}: {error}", to.display()))
}

#[cfg(test)]
mod tests {
    use super::imports;

    #[test]
    fn finds_plain_public_and_weak_imports() {
        let text = "syntax = \"proto3\";\nimport \"a.proto\";\n  import public \"b/c.proto\";\n\
                    import weak \"d.proto\"; // why\noption go_package = \"x\";\n";
        assert_eq!(imports(text), ["a.proto", "b/c.proto", "d.proto"]);
    }
}
