//! `cargo xtask quickstart`: the main job of the README. Runs the quickstart example against
//! `LIVEKIT_URL` when it is set, else against a local dev server, starting one (and stopping
//! it afterwards) when none answers at the default URL.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use crate::server::{self, StartOptions};
use crate::util::{Result, cargo, run};

/// Where the quickstart's webhook receiver listens when xtask starts the server.
const WEBHOOK_ADDR: &str = "127.0.0.1:7895";

pub(crate) fn run_quickstart(args: &[String]) -> Result {
    if let Some(extra) = args.first() {
        return Err(format!("quickstart takes no arguments, got `{extra}`"));
    }
    if std::env::var_os("LIVEKIT_URL").is_some() {
        eprintln!("quickstart: using LIVEKIT_URL and its credentials from the environment");
        return run(cargo().args(["run", "--quiet", "--package", "quickstart"]));
    }
    if answers("127.0.0.1:7880") {
        eprintln!(
            "quickstart: a server answers at http://127.0.0.1:7880; using it (devkey/secret)"
        );
        return run(cargo().args(["run", "--quiet", "--package", "quickstart"]));
    }
    eprintln!("quickstart: no server at http://127.0.0.1:7880; starting a local dev server");
    server::build(server::DEFAULT_VERSION)?;
    // The quickstart needs no Redis (rooms, dispatch and webhooks work without it), so a
    // fresh machine needs nothing but Rust and Go.
    let running = server::start(&StartOptions {
        webhook_urls: vec![format!("http://{WEBHOOK_ADDR}/webhook")],
        redis: false,
        ..StartOptions::default()
    })?;
    let outcome = run(cargo()
        .args(["run", "--quiet", "--package", "quickstart"])
        .envs(running.env())
        .env("QUICKSTART_WEBHOOK_ADDR", WEBHOOK_ADDR));
    let stopped = running.stop();
    eprintln!("quickstart: stopped the dev server it started");
    outcome.and(stopped)
}

/// Whether a LiveKit server answers `GET /` with 200 at `address`.
fn answers(address: &str) -> bool {
    let Ok(address) = address.parse() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}
