//! `cargo xtask examples`: builds the examples `blocking`, `webhook_server` and `token_server`
//! and runs each against the real LiveKit server (with Redis), started on its own ports for
//! the run and stopped afterwards, whatever the outcome.
//!
//! - `webhook_server` runs with `WEBHOOK_SERVER_EXIT_AFTER=room_finished`. It must refuse
//!   two forged webhooks (a wrong secret, a body that is not the signed one) with 401; then
//!   xtask creates and deletes a room, and the example must handle that room's
//!   `room_started` and `room_finished` from the real server and exit 0 by itself.
//! - `blocking` runs to completion; its own webhook listener gets the second webhook URL.
//! - `token_server` answers a snake_case and a camelCase token request (201; each token
//!   verifies with the dev secret, carries the asked room, identity and agent, lasts 15
//!   minutes, and the real server's `/rtc/validate` accepts it), a refused one (403) and
//!   malformed JSON (400).
//!
//! xtask speaks HTTP/1.1 to them over a plain `TcpStream` (no HTTP client dependency) and
//! checks tokens with `livekit-auth`, independently of the example that minted them.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use livekit_auth::{AccessToken, Claims, Credentials, TokenVerifier, VideoGrants};

use crate::server::{self, DEV_API_KEY, DEV_API_SECRET, RunningServer, StartOptions};
use crate::util::{Result, cargo, run, workspace_root};

/// The ports of this step, apart from every other step's.
const SERVER_PORT: u16 = 7910;
const REDIS_PORT: u16 = 16410;
const WEBHOOK_SERVER_ADDR: &str = "127.0.0.1:7911";
const BLOCKING_WEBHOOK_ADDR: &str = "127.0.0.1:7912";
const TOKEN_SERVER_ADDR: &str = "127.0.0.1:7913";

/// The examples this step builds and runs (package and binary names).
const EXAMPLES: [&str; 3] = ["blocking", "webhook_server", "token_server"];
/// The agent the token server is told clients may dispatch.
const ALLOWED_AGENT: &str = "examples-agent";
/// How long an example may take to start listening, or the webhook server to see its events.
const WAIT: Duration = Duration::from_secs(30);

pub(crate) fn run_examples(args: &[String]) -> Result {
    if let Some(extra) = args.first() {
        return Err(format!("examples takes no arguments, got `{extra}`"));
    }
    let mut build = cargo();
    build.arg("build");
    for example in EXAMPLES {
        build.args(["--package", example]);
    }
    run(&mut build)?;

    let server = server::start(&StartOptions {
        port: SERVER_PORT,
        redis_port: REDIS_PORT,
        // The webhook server and the blocking example each listen on their own port.
        webhook_urls: vec![
            format!("http://{WEBHOOK_SERVER_ADDR}/webhook"),
            format!("http://{BLOCKING_WEBHOOK_ADDR}/webhook"),
        ],
        ..StartOptions::default()
    })?;
    // The webhook server first, while no other room has sent events its way.
    let outcome = webhook_server(&server)
        .and_then(|()| blocking(&server))
        .and_then(|()| token_server(&server));
    let stopped = server.stop();
    match &outcome {
        Ok(()) => eprintln!("examples: all three examples passed"),
        Err(error) => eprintln!("examples: {error}"),
    }
    outcome.and(stopped)
}

/// The built binary of an example.
fn binary(example: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || workspace_root().join("target"),
        |dir| workspace_root().join(dir),
    );
    target.join("debug").join(example)
}

/// A child process that is killed when dropped, so no example outlives a failed check.
struct Spawned {
    name: &'static str,
    child: Child,
}

impl Spawned {
    fn start(name: &'static str, command: &mut Command) -> Result<Self> {
        eprintln!("$ {}", binary(name).display());
        let child = command
            .spawn()
            .map_err(|error| format!("could not start {name}: {error}"))?;
        Ok(Self { name, child })
    }

    /// Waits until the example accepts connections on `address`.
    fn wait_until_listening(&mut self, address: &str) -> Result {
        let address: SocketAddr = address.parse().map_err(|error| format!("{error}"))?;
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{} exited before listening ({status})", self.name));
            }
            if started.elapsed() > WAIT {
                return Err(format!(
                    "{} did not listen on {address} within {} s",
                    self.name,
                    WAIT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn webhook_server(server: &RunningServer) -> Result {
    eprintln!("\nexamples: webhook_server");
    let mut example = Spawned::start(
        "webhook_server",
        Command::new(binary("webhook_server"))
            .envs(server.env())
            .env("WEBHOOK_SERVER_ADDR", WEBHOOK_SERVER_ADDR)
            .env("WEBHOOK_SERVER_EXIT_AFTER", "room_finished")
            .stdout(Stdio::piped()),
    )?;
    example.wait_until_listening(WEBHOOK_SERVER_ADDR)?;

    // Forgeries first: both must be refused, and neither may stop the server.
    let body = br#"{"event":"room_finished","room":{"name":"forged"},"id":"EV_forged"}"#;
    let wrong_secret = Credentials::new(DEV_API_KEY, "not-the-secret".as_bytes())
        .map_err(|error| error.to_string())?;
    let forged = AccessToken::new()
        .with_sha256(livekit_auth::body_sha256(body))
        .sign_now(&wrong_secret)
        .map_err(|error| error.to_string())?;
    let signed_other_body = AccessToken::new()
        .with_sha256(livekit_auth::body_sha256(b"{}"))
        .sign_now(&dev_credentials()?)
        .map_err(|error| error.to_string())?;
    for (what, token) in [
        ("signed with another secret", forged),
        ("signed for another body", signed_other_body),
    ] {
        let authorization = format!("Bearer {token}");
        let (status, _) = http_post(
            WEBHOOK_SERVER_ADDR,
            "/webhook",
            &[("Authorization", &authorization)],
            body,
        )?;
        expect(
            status == 401,
            format!("a webhook {what}: {status}, not 401"),
        )?;
    }

    let room = format!("examples-webhook-{}", unix_now());
    twirp(server, "CreateRoom", &format!(r#"{{"name":"{room}"}}"#))?;
    twirp(server, "DeleteRoom", &format!(r#"{{"room":"{room}"}}"#))?;

    let started = Instant::now();
    let status = loop {
        if let Some(status) = example
            .child
            .try_wait()
            .map_err(|error| error.to_string())?
        {
            break status;
        }
        if started.elapsed() > WAIT {
            return Err(format!(
                "webhook_server did not exit within {} s of deleting {room}",
                WAIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut output = String::new();
    if let Some(mut stdout) = example.child.stdout.take() {
        let _ = stdout.read_to_string(&mut output);
    }
    eprint!("{output}");
    expect(
        status.success(),
        format!("webhook_server exited with {status}"),
    )?;
    for event in ["room_started", "room_finished"] {
        let line = format!("{event}: room {room}");
        expect(
            output.lines().any(|printed| printed == line),
            format!("webhook_server did not print `{line}`"),
        )?;
    }
    eprintln!("examples: webhook_server refused 2 forgeries, handled {room} and exited 0");
    Ok(())
}

fn blocking(server: &RunningServer) -> Result {
    eprintln!("\nexamples: blocking");
    run(Command::new(binary("blocking"))
        .envs(server.env())
        .env("BLOCKING_WEBHOOK_ADDR", BLOCKING_WEBHOOK_ADDR))
}

fn token_server(server: &RunningServer) -> Result {
    eprintln!("\nexamples: token_server");
    let mut example = Spawned::start(
        "token_server",
        Command::new(binary("token_server"))
            .envs(server.env())
            .env("TOKEN_SERVER_ADDR", TOKEN_SERVER_ADDR)
            .env("TOKEN_SERVER_AGENTS", ALLOWED_AGENT),
    )?;
    example.wait_until_listening(TOKEN_SERVER_ADDR)?;
    let expected_url = server.url().replacen("http://", "ws://", 1);

    let snake = format!(
        r#"{{"room_name":"examples-snake","participant_identity":"alice","participant_name":"Alice",
            "participant_attributes":{{"team":"blue"}},
            "room_config":{{"agents":[{{"agent_name":"{ALLOWED_AGENT}","metadata":"snake"}}]}}}}"#
    );
    let camel = format!(
        r#"{{"roomName":"examples-camel","participantIdentity":"bob","participantName":"Bob",
            "participantAttributes":{{"team":"red"}},
            "roomConfig":{{"agents":[{{"agentName":"{ALLOWED_AGENT}","metadata":"camel"}}]}}}}"#
    );
    for (case, body, room, identity, metadata) in [
        ("snake_case", &snake, "examples-snake", "alice", "snake"),
        ("camelCase", &camel, "examples-camel", "bob", "camel"),
    ] {
        let (status, answer) = http_post(TOKEN_SERVER_ADDR, "/token", &[], body.as_bytes())?;
        expect(status == 201, format!("{case} request: {status} {answer}"))?;
        let answer: serde_json::Value = serde_json::from_str(&answer)
            .map_err(|error| format!("{case} answer is not JSON: {error}: {answer}"))?;
        expect(
            answer["server_url"] == expected_url.as_str(),
            format!("{case} server_url: {}", answer["server_url"]),
        )?;
        let token = answer["participant_token"]
            .as_str()
            .ok_or_else(|| format!("{case} answer has no participant_token: {answer}"))?;
        let claims = TokenVerifier::new(dev_credentials()?)
            .verify(token, unix_now())
            .map_err(|error| format!("{case} token does not verify: {error}"))?;
        check_claims(case, &claims, room, identity, metadata)?;
        // The real server must accept it for joining, room configuration included.
        let (status, answer) = http_get(
            &format!("127.0.0.1:{SERVER_PORT}"),
            &format!("/rtc/validate?access_token={token}"),
        )?;
        expect(
            status == 200,
            format!("{case} token refused by the server: {status} {answer}"),
        )?;
        eprintln!(
            "examples: {case} request: 201, token for {identity} in {room} with agent \
             {ALLOWED_AGENT}, verified and accepted by the server's /rtc/validate"
        );
    }

    let refused = r#"{"room_name":"examples-refused","participant_identity":"mallory",
        "room_config":{"agents":[{"agent_name":"someone-else"}]}}"#;
    let (status, answer) = http_post(TOKEN_SERVER_ADDR, "/token", &[], refused.as_bytes())?;
    expect(
        status == 403 && answer.contains("someone-else"),
        format!("a refused request: {status} {answer}"),
    )?;
    eprintln!("examples: refused request: 403 {answer}");

    let (status, answer) = http_post(TOKEN_SERVER_ADDR, "/token", &[], b"{\"room_name\":")?;
    expect(
        status == 400 && answer.contains("not a token request"),
        format!("malformed JSON: {status} {answer}"),
    )?;
    eprintln!("examples: malformed JSON: 400 {answer}");
    Ok(())
}

/// What a token minted for `room` and `identity`, dispatching [`ALLOWED_AGENT`], must say.
fn check_claims(
    case: &str,
    claims: &Claims,
    room: &str,
    identity: &str,
    agent_metadata: &str,
) -> Result {
    let grants = &claims.grants;
    expect(
        grants.identity == identity,
        format!("{case} identity: {}", grants.identity),
    )?;
    let video = grants
        .video
        .as_ref()
        .ok_or_else(|| format!("{case} token has no video grant"))?;
    expect(
        video.room_join && video.room == room,
        format!(
            "{case} grant: join {} room {:?}",
            video.room_join, video.room
        ),
    )?;
    expect(
        video.can_publish == Some(true) && video.can_subscribe == Some(true),
        format!("{case} grant cannot publish and subscribe"),
    )?;
    let ttl = claims
        .expires_at
        .zip(claims.not_before)
        .map(|(exp, nbf)| exp - nbf);
    expect(
        ttl == Some(15 * 60),
        format!("{case} token lifetime {ttl:?} s"),
    )?;
    let config = serde_json::Value::Object(grants.room_config.clone().unwrap_or_default());
    let agent = &config["agents"][0];
    expect(
        agent["agentName"] == ALLOWED_AGENT && agent["metadata"] == agent_metadata,
        format!("{case} roomConfig: {config}"),
    )
}

/// Calls a `RoomService` RPC with protojson and a short-lived `roomCreate` token.
fn twirp(server: &RunningServer, method: &str, body: &str) -> Result {
    let grants = VideoGrants {
        room_create: true,
        ..VideoGrants::default()
    };
    let token = AccessToken::new()
        .with_video_grants(grants)
        .with_ttl(Duration::from_secs(60))
        .sign_now(&dev_credentials()?)
        .map_err(|error| error.to_string())?;
    let authorization = format!("Bearer {token}");
    let (status, answer) = http_post(
        &format!("127.0.0.1:{SERVER_PORT}"),
        &format!("/twirp/livekit.RoomService/{method}"),
        &[
            ("Authorization", &authorization),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )?;
    expect(
        status == 200,
        format!("{method} on {}: {status} {answer}", server.url()),
    )
}

fn dev_credentials() -> Result<Credentials> {
    Credentials::new(DEV_API_KEY, DEV_API_SECRET.as_bytes()).map_err(|error| error.to_string())
}

fn expect(condition: bool, failure: String) -> Result {
    if condition { Ok(()) } else { Err(failure) }
}

fn http_post(
    address: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(u16, String)> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    exchange(address, &bytes)
}

fn http_get(address: &str, path: &str) -> Result<(u16, String)> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    exchange(address, request.as_bytes())
}

/// Sends one request and reads the whole response (the server closes the connection after
/// it): the status code and the body, de-chunked if need be.
fn exchange(address: &str, request: &[u8]) -> Result<(u16, String)> {
    let failed = |error: std::io::Error| format!("http to {address}: {error}");
    let socket: SocketAddr = address.parse().map_err(|error| format!("{error}"))?;
    let mut stream = TcpStream::connect_timeout(&socket, Duration::from_secs(5)).map_err(failed)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .map_err(failed)?;
    stream.write_all(request).map_err(failed)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(failed)?;
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| format!("http to {address}: no complete response"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let body = &response[split + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("http to {address}: bad status line in {head:?}"))?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The body of a `Transfer-Encoding: chunked` response: chunks of a hex size line, the
/// bytes and a CRLF, up to a zero-size chunk.
fn dechunk(mut chunked: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = chunked.windows(2).position(|window| window == b"\r\n") {
        let size_line = String::from_utf8_lossy(&chunked[..line_end]);
        let size = size_line.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            break;
        };
        let rest = &chunked[line_end + 2..];
        if size == 0 || rest.len() < size {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        chunked = rest[size..].strip_prefix(b"\r\n").unwrap_or(&rest[size..]);
    }
    body
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
