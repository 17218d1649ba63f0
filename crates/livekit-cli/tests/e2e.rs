//! The `livekit` command against a real LiveKit server: run by `cargo xtask ci` with
//! `--ignored` and `LIVEKIT_E2E_URL`; without a server these tests fail, never pass.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::process::{Command, Output};

fn url() -> String {
    std::env::var("LIVEKIT_E2E_URL")
        .expect("LIVEKIT_E2E_URL must name a running LiveKit server (cargo xtask server start)")
}

/// The server's key or secret as CI gives them, else the dev key's.
fn e2e_env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Runs `livekit` with the server's URL and credentials, plus `extra_env`.
fn livekit(args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_livekit"));
    command
        .args(args)
        .env("LIVEKIT_URL", url())
        .env("LIVEKIT_API_KEY", e2e_env("LIVEKIT_E2E_API_KEY", "devkey"))
        .env(
            "LIVEKIT_API_SECRET",
            e2e_env("LIVEKIT_E2E_API_SECRET", "secret"),
        );
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command.output().expect("the livekit binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn rooms_and_dispatches_from_the_shell() {
    let room = format!("cli-{}", std::process::id());
    let created = livekit(&["room", "create", &room, "--metadata", "m1"], &[]);
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).starts_with("NAME"), "{}", stdout(&created));
    assert!(stdout(&created).contains(&room));

    let listed = livekit(&["room", "list", &room, "--json"], &[]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let rooms: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(rooms[0]["name"], room.as_str());
    assert_eq!(rooms[0]["metadata"], "m1");

    let dispatched = livekit(&["dispatch", "create", &room, "cli-agent", "--json"], &[]);
    assert!(dispatched.status.success(), "{}", stderr(&dispatched));
    let dispatch: serde_json::Value = serde_json::from_slice(&dispatched.stdout).expect("json");
    let id = dispatch[0]["id"].as_str().expect("an id").to_owned();
    let fetched = livekit(&["dispatch", "get", &room, &id], &[]);
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    assert!(stdout(&fetched).contains("cli-agent"));

    let deleted = livekit(&["room", "delete", &room], &[]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
}

#[test]
#[ignore = "needs a LiveKit server: run by cargo xtask ci"]
fn failures_have_distinct_exit_codes_and_helpful_messages() {
    let missing = livekit(&["room", "delete", "cli-no-such-room"], &[]);
    assert_eq!(missing.status.code(), Some(3), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("not_found"));

    let wrong_secret = livekit(&["room", "list"], &[("LIVEKIT_API_SECRET", "wrong")]);
    assert_eq!(wrong_secret.status.code(), Some(3));
    let message = stderr(&wrong_secret);
    assert!(
        message.contains("check the api key and secret"),
        "{message}"
    );
    assert!(!message.contains("eyJ"), "a token leaked: {message}");

    let base = url();
    let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
    let dead = format!("http://127.0.0.1:{}", port + 3);
    let unreachable = livekit(&["room", "list", "--url", &dead], &[]);
    assert_eq!(unreachable.status.code(), Some(4));
    assert!(stderr(&unreachable).contains(&dead));

    let no_key = livekit(&["room", "list"], &[("LIVEKIT_API_KEY", "")]);
    assert_eq!(no_key.status.code(), Some(2), "{}", stderr(&no_key));
}
