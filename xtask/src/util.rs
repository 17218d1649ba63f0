//! Small helpers shared by the xtask commands.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The result type of every xtask command: errors are plain messages.
pub(crate) type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the parent of this crate's manifest directory).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// A `cargo` command run from the workspace root.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

/// Runs xtask again, built with its `codegen` feature, for a command that needs the protobuf
/// stack the default build leaves out (see xtask/Cargo.toml). It is built in a target
/// directory of its own: in the default one it would replace the running xtask's binary.
pub(crate) fn run_xtask_with_codegen(command: &str, args: &[String]) -> Result {
    let target_dir = workspace_root().join("target").join("xtask-codegen");
    run(cargo()
        .args([
            "run",
            "--quiet",
            "--package",
            "xtask",
            "--features",
            "codegen",
            "--target-dir",
        ])
        .arg(&target_dir)
        .arg("--")
        .arg(command)
        .args(args))
}

/// Runs `command`, echoing it first, and fails if it does not exit successfully.
pub(crate) fn run(command: &mut Command) -> Result {
    eprintln!("$ {}", display(command));
    let status = command
        .status()
        .map_err(|error| format!("could not start `{}`: {error}", display(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", display(command)))
    }
}

/// The command line, for messages.
pub(crate) fn display(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// `${LIVEKIT_RS_CACHE:-$HOME/.cache/livekit-rs}`, made absolute (it becomes GOBIN).
pub(crate) fn cache_dir() -> Result<PathBuf> {
    let dir = match std::env::var_os("LIVEKIT_RS_CACHE").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .ok_or("neither LIVEKIT_RS_CACHE nor HOME is set")?;
            PathBuf::from(home).join(".cache").join("livekit-rs")
        }
    };
    std::path::absolute(&dir)
        .map_err(|error| format!("bad cache directory {}: {error}", dir.display()))
}
