//! `livekit`: LiveKit access tokens (and, later, the server API) from the shell.
//!
//! Exit codes: 0 success, 1 the operation failed (a token did not verify, ...), 2 the
//! command line was wrong.

// A std crate: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// LiveKit from the shell.
#[derive(Debug, Parser)]
#[command(name = "livekit", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Mint, verify and decode access tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
}

/// A failure to report: a one-line message and the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// The operation itself failed (exit code 1).
    pub(crate) fn operation(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 1,
        }
    }

    /// The command line was wrong (exit code 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Token(command) => token::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("livekit: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
