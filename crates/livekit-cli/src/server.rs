//! Commands that call the server: connection flags, output and error reporting.

use std::time::Duration;

use clap::Args;
use livekit_ureq::LiveKitApi;
use livekit_ureq::auth::Credentials;
use livekit_ureq::{CallOptions, Client, Error, TransportErrorKind};
use serde::Serialize;

use crate::Failure;

/// The API key and secret, from flags or the environment. `Debug` never shows the secret.
#[derive(Args)]
pub(crate) struct KeyArgs {
    /// API key (the token's issuer).
    #[arg(long, global = true, env = "LIVEKIT_API_KEY")]
    api_key: Option<String>,
    /// API secret.
    #[arg(
        long,
        global = true,
        env = "LIVEKIT_API_SECRET",
        hide_env_values = true
    )]
    api_secret: Option<String>,
}

impl KeyArgs {
    /// The credentials, or a usage failure naming what is missing.
    pub(crate) fn credentials(&self) -> Result<Credentials, Failure> {
        let key = self
            .api_key
            .as_deref()
            .ok_or_else(|| Failure::usage("no api key: pass --api-key or set LIVEKIT_API_KEY"))?;
        let secret = self.api_secret.as_deref().ok_or_else(|| {
            Failure::usage("no api secret: pass --api-secret or set LIVEKIT_API_SECRET")
        })?;
        Credentials::new(key, secret).map_err(|error| Failure::usage(error.to_string()))
    }
}

impl std::fmt::Debug for KeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyArgs")
            .field("api_key", &self.api_key)
            .field(
                "api_secret",
                &self.api_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Where the server is and how to authenticate, from flags or the environment.
#[derive(Debug, Args)]
pub(crate) struct Connection {
    /// Server URL (http, https, ws or wss).
    #[arg(
        long,
        global = true,
        env = "LIVEKIT_URL",
        default_value = "http://127.0.0.1:7880"
    )]
    url: String,
    #[command(flatten)]
    keys: KeyArgs,
    /// Print JSON (the protocol's protojson form) instead of a table.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// How long to wait for the server's answer: seconds, or a number with s, m or h
    /// (default 10s; 60s for egress starts, the ring window plus 2s for SIP dials).
    #[arg(long, global = true, value_parser = crate::duration::parse_duration)]
    timeout: Option<Duration>,
}

impl Connection {
    /// The blocking API client these flags describe.
    pub(crate) fn api(&self) -> Result<LiveKitApi, Failure> {
        let client = Client::new(&self.url, self.keys.credentials()?)
            .map_err(|error| Failure::usage(error.to_string()))?;
        LiveKitApi::from_client(client).map_err(|error| Failure::usage(error.to_string()))
    }

    /// The per-call options: `--timeout` when given, else `default` (else the RPC's own).
    pub(crate) fn options(&self, default: Option<Duration>) -> CallOptions {
        match self.timeout.or(default) {
            Some(timeout) => CallOptions::default().with_timeout(timeout),
            None => CallOptions::default(),
        }
    }
}

/// Like [`failure`], but a `not_found` answer says plainly which thing is missing.
pub(crate) fn failure_about(error: &Error, missing: &str) -> Failure {
    if error.is_not_found() {
        return Failure::server(format!("not found: {missing} ({error})"));
    }
    failure(error)
}

/// Like [`failure`], but a 500 or 503 answer asks whether `service` (the worker the server
/// hands the call to: egress, SIP) is connected: without one the server answers just that.
pub(crate) fn failure_without_service(error: &Error, service: &str) -> Failure {
    let failed = failure(error);
    match error.server() {
        Some(server) if matches!(server.status, 500 | 503) => Failure::server(format!(
            "{} (is {service} connected to this server?)",
            failed.message
        )),
        _ => failed,
    }
}

/// What a table shows for a password: `***` when one is set, nothing when none is.
pub(crate) fn mask(secret: &str) -> String {
    if secret.is_empty() {
        String::new()
    } else {
        "***".to_owned()
    }
}

/// Joins a list for a table cell.
pub(crate) fn joined(values: &[String]) -> String {
    values.join(",")
}

/// Turns an API error into a failure whose message helps and whose exit code says what
/// kind of failure it was: 3 the server refused, 4 the server could not be reached.
pub(crate) fn failure(error: &Error) -> Failure {
    match error {
        // The core's message already names the grant a "permissions denied" answer lacks.
        Error::Server(server) if server.status == 401 && !server.is_permission_denied() => {
            Failure::server(format!(
                "{error} — set LIVEKIT_API_KEY and LIVEKIT_API_SECRET to the server's"
            ))
        }
        Error::Server(_) => Failure::server(error.to_string()),
        Error::Transport(transport) if transport.kind == TransportErrorKind::Connect => {
            Failure::connection(format!(
                "{error} (is a LiveKit server running there? `cargo xtask server start` starts one)"
            ))
        }
        Error::Transport(_) | Error::DeadlineExceeded { .. } => {
            Failure::connection(error.to_string())
        }
        Error::Config(_) => Failure::usage(error.to_string()),
        _ => Failure::operation(error.to_string()),
    }
}

/// Prints `value` as pretty JSON.
pub(crate) fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| Failure::operation(format!("cannot print the answer: {error}")))?;
    println!("{text}");
    Ok(())
}

/// Prints rows as an aligned table under `headers`.
pub(crate) fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    for line in table_lines(headers, rows) {
        println!("{line}");
    }
}

/// The lines of an aligned table: each column as wide as its widest cell, two spaces
/// between columns, no trailing blanks.
fn table_lines(headers: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let text: Vec<String> = cells
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.join("  ").trim_end().to_owned()
    };
    let mut lines = vec![line(&mut headers.iter().copied())];
    for row in rows {
        lines.push(line(&mut row.iter().map(String::as_str)));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::{KeyArgs, mask, table_lines};

    #[test]
    fn passwords_show_as_stars_and_absent_ones_as_nothing() {
        assert_eq!(mask("hunter2"), "***");
        assert_eq!(mask(""), "");
    }

    #[test]
    fn tables_align_on_the_widest_cell_and_trim_the_last_column() {
        let rows = vec![
            vec!["alice".to_owned(), "PA_1".to_owned(), String::new()],
            vec!["b".to_owned(), "PA_long_sid".to_owned(), "m".to_owned()],
        ];
        let lines = table_lines(&["IDENTITY", "SID", "METADATA"], &rows);
        assert_eq!(
            lines,
            [
                "IDENTITY  SID          METADATA",
                "alice     PA_1",
                "b         PA_long_sid  m",
            ]
        );
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        let keys = KeyArgs {
            api_key: Some("APIkey".into()),
            api_secret: Some("do-not-print".into()),
        };
        let debug = format!("{keys:?}");
        assert!(debug.contains("APIkey") && debug.contains("<redacted>"));
        assert!(!debug.contains("do-not-print"));
    }
}
