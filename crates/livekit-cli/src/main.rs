//! `livekit`: LiveKit access tokens, rooms and agent dispatch from the shell, on the
//! blocking `livekit-ureq` transport.
//!
//! Exit codes: 0 success, 1 the operation failed (a token did not verify, ...), 2 the
//! command line or configuration was wrong, 3 the server refused the call, 4 the server
//! could not be reached.

// A std crate: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod room;
mod server;
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
    /// Create, list, update and delete rooms.
    Room {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: room::RoomCommand,
    },
    /// Dispatch agents to rooms, list, show and delete dispatches.
    Dispatch {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: room::DispatchCommand,
    },
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

    /// The command line or the configuration was wrong (exit code 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }

    /// The server refused the call (exit code 3).
    pub(crate) fn server(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 3,
        }
    }

    /// The server could not be reached (exit code 4).
    pub(crate) fn connection(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 4,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Token(command) => token::run(command),
        Command::Room {
            connection,
            command,
        } => room::run_room(&connection, command),
        Command::Dispatch {
            connection,
            command,
        } => room::run_dispatch(&connection, command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("livekit: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
