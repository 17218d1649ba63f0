//! `livekit`: the LiveKit server API from the shell, on the blocking `livekit-ureq`
//! transport: access tokens, rooms, participants, data, agent dispatch, egress, ingress,
//! SIP trunks, dispatch rules, calls and transfers, and webhook verification.
//!
//! Every server command takes `--url`, `--api-key`, `--api-secret` (or `LIVEKIT_URL`,
//! `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`), `--timeout`, and `--json` for the protocol's
//! protojson instead of an aligned table. `livekit <command> --help` shows examples.
//! Calls that wait (egress starts, SIP dials with `--wait`, transfers) draw a progress line
//! on standard error when it is a terminal. SIP passwords and PINs are never printed.
//!
//! Exit codes: 0 success, 1 the operation failed (a token did not verify, ...), 2 the
//! command line or configuration was wrong, 3 the server refused the call, 4 the server
//! could not be reached.

// A std crate: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

mod duration;
mod egress;
mod participant;
mod progress;
mod room;
mod server;
mod sip;
mod token;
mod webhook;

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
    #[command(
        subcommand,
        after_help = "Examples:
  livekit token create --identity alice --room my-room --join
  livekit token verify \"$TOKEN\""
    )]
    Token(token::TokenCommand),
    /// Create, list, update and delete rooms.
    #[command(after_help = "Examples:
  livekit room create my-room --empty-timeout 600
  livekit room list --json")]
    Room {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: room::RoomCommand,
    },
    /// Dispatch agents to rooms, list, show and delete dispatches.
    #[command(after_help = "Examples:
  livekit dispatch create my-room my-agent --metadata '{\"job\":1}'
  livekit dispatch list my-room")]
    Dispatch {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: room::DispatchCommand,
    },
    /// List, show, update, remove, mute, forward and move participants.
    #[command(after_help = "Examples:
  livekit participant list my-room
  livekit participant get my-room alice --json
  livekit participant update my-room alice --metadata '{\"role\":\"host\"}' --can-publish true
  livekit participant move my-room alice breakout-1")]
    Participant {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: participant::ParticipantCommand,
    },
    /// Send data packets to a room.
    #[command(after_help = "Examples:
  livekit data send my-room 'hello everyone'
  livekit data send my-room --file state.json --topic state --to alice")]
    Data {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: participant::DataCommand,
    },
    /// Record and stream: start, list, stop and update egresses.
    #[command(after_help = "Examples:
  livekit egress start-room-composite my-room --file my-room.mp4
  livekit egress start-participant my-room alice --stream rtmp://live.example/app/key
  livekit egress list --active
  livekit egress stop EG_XnhfcSQo4yBm")]
    Egress {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: egress::EgressCommand,
    },
    /// Bring RTMP, WHIP or URL streams into rooms.
    #[command(after_help = "Examples:
  livekit ingress create --input rtmp --room my-room --identity obs
  livekit ingress list
  livekit ingress delete IN_3ohkcVa8ZBCs")]
    Ingress {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: egress::IngressCommand,
    },
    /// SIP trunks, dispatch rules, outbound calls and transfers.
    #[command(after_help = "Examples:
  livekit sip trunk create-inbound --name office --number +15550100
  livekit sip trunk list
  livekit sip dispatch-rule create --direct support-room
  livekit sip call ST_outbound +15550100 my-room --wait")]
    Sip {
        #[command(flatten)]
        connection: server::Connection,
        #[command(subcommand)]
        command: sip::SipCommand,
    },
    /// Verify webhooks a LiveKit server sent.
    #[command(
        subcommand,
        after_help = "Example:\n  livekit webhook verify --body body.json --auth-header \"$AUTHORIZATION\""
    )]
    Webhook(webhook::WebhookCommand),
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
        Command::Participant {
            connection,
            command,
        } => participant::run_participant(&connection, command),
        Command::Data {
            connection,
            command,
        } => participant::run_data(&connection, command),
        Command::Egress {
            connection,
            command,
        } => egress::run_egress(&connection, command),
        Command::Ingress {
            connection,
            command,
        } => egress::run_ingress(&connection, command),
        Command::Sip {
            connection,
            command,
        } => sip::run_sip(&connection, command),
        Command::Webhook(command) => webhook::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("livekit: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
