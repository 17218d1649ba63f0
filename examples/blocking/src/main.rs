//! The quickstart without async: the same steps on the blocking transport (`livekit-ureq`),
//! for scripts, jobs and CLIs that have no async runtime.
//!
//! It creates a room, lists rooms, turns a server error into a clean `is_not_found()`, mints a
//! join token and verifies it, receives and verifies the server's `room_started` webhook,
//! dispatches an agent and deletes the room, printing each step.
//!
//! Run it against a local dev server (`cargo xtask server start --webhook
//! http://127.0.0.1:7912/webhook` starts one):
//!
//! ```sh
//! LIVEKIT_URL=http://127.0.0.1:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret \
//! BLOCKING_WEBHOOK_ADDR=127.0.0.1:7912 cargo run -p blocking
//! ```
//!
//! `LIVEKIT_URL`, `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` default to the local dev server
//! (`devkey` / `secret`). `BLOCKING_WEBHOOK_ADDR` is where this program listens for the
//! server's webhooks; without it the webhook step is skipped and says so. `cargo xtask
//! examples` runs it against a server it starts.

// A std program: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use livekit_auth::{AccessToken, Credentials, TokenVerifier, VideoGrants};
use livekit_core::{WebhookEventKind, WebhookReceiver};
use livekit_ureq::LiveKitApi;
use livekit_ureq::proto::{
    CreateAgentDispatchRequest, CreateRoomRequest, DeleteRoomRequest, ListAgentDispatchRequest,
    ListRoomsRequest,
};

/// How long to wait for the server's `room_started` webhook.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(30);
/// Webhook bodies are small JSON events; anything bigger is not one.
const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = setting("LIVEKIT_URL", "http://127.0.0.1:7880");
    let key = setting("LIVEKIT_API_KEY", "devkey");
    let secret = setting("LIVEKIT_API_SECRET", "secret");
    // One blocking client: every call below returns when the server has answered.
    let api = LiveKitApi::new(&url, &key, &secret)?;
    println!("blocking: server {url}");

    // Listen before the room exists, so the room_started webhook cannot be missed.
    let webhooks = std::env::var("BLOCKING_WEBHOOK_ADDR")
        .ok()
        .filter(|address| !address.trim().is_empty())
        .map(|address| listen_for_webhooks(&address))
        .transpose()?;

    let room_name = format!("blocking-{}", unix_now());
    let room = api.room().create_room(CreateRoomRequest {
        name: room_name.clone(),
        empty_timeout: 300,
        ..Default::default()
    })?;
    println!("1. created room {} ({})", room.name, room.sid);

    let rooms = api.room().list_rooms(ListRoomsRequest::default())?;
    println!("2. the server has {} room(s)", rooms.rooms.len());

    // A server error is a value to inspect, not a crash: here the room does not exist.
    match api.room().delete_room(DeleteRoomRequest {
        room: format!("{room_name}-does-not-exist"),
    }) {
        Err(error) if error.is_not_found() => {
            println!("3. deleting a missing room is a clean error: {error}");
        }
        Err(error) => return Err(error.into()),
        Ok(_) => return Err("deleting a missing room succeeded".into()),
    }

    let credentials = Credentials::new(key.as_str(), secret.as_bytes())?;
    let token = AccessToken::new()
        .with_identity("bob")
        .with_name("Bob")
        .with_video_grants(VideoGrants::join(room_name.clone()))
        .with_ttl(Duration::from_secs(3600))
        .sign_now(&credentials)?;
    let claims = TokenVerifier::new(credentials.clone()).verify_now(&token)?;
    let joins = claims
        .grants
        .video
        .map(|video| video.room)
        .unwrap_or_default();
    println!(
        "4. minted a join token for {} in {joins} ({} bytes) and verified it",
        claims.grants.identity,
        token.len()
    );

    match webhooks {
        Some(webhooks) => {
            let receiver = WebhookReceiver::new(credentials);
            let event = wait_for_room_started(&webhooks, &receiver, &room_name)?;
            println!("5. received and verified the room_started webhook (event {event})");
        }
        None => println!("5. skipped the webhook (set BLOCKING_WEBHOOK_ADDR to receive it)"),
    }

    let dispatch = api
        .agent_dispatch()
        .create_dispatch(CreateAgentDispatchRequest {
            agent_name: "blocking-agent".into(),
            room: room.name.clone(),
            metadata: r#"{"greeting":"hello"}"#.into(),
            ..Default::default()
        })?;
    let dispatches = api
        .agent_dispatch()
        .list_dispatch(ListAgentDispatchRequest {
            room: room.name.clone(),
            ..Default::default()
        })?;
    // The server also lists the automatic dispatch it makes for every new room (no name).
    let listed: Vec<String> = dispatches
        .agent_dispatches
        .iter()
        .map(|listed| match listed.agent_name.as_str() {
            "" => format!("{} (automatic)", listed.id),
            name => format!("{} ({name})", listed.id),
        })
        .collect();
    println!(
        "6. dispatched agent {} ({}); the server lists [{}]",
        dispatch.agent_name,
        dispatch.id,
        listed.join(", ")
    );

    api.room().delete_room(DeleteRoomRequest {
        room: room.name.clone(),
    })?;
    println!("7. deleted room {}", room.name);
    Ok(())
}

/// An environment variable, or `default` when it is unset or blank.
fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// A webhook as received: the `Authorization` header and the raw body.
struct Webhook {
    authorization: Option<String>,
    body: Vec<u8>,
}

/// Accepts webhook POSTs on `address` in a thread and hands them over untouched: the
/// signature covers the exact body bytes, so nothing may parse or re-encode them first.
fn listen_for_webhooks(address: &str) -> std::io::Result<mpsc::Receiver<Webhook>> {
    let listener = TcpListener::bind(address)?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            // A broken request is the sender's problem; keep listening for the next one.
            let Ok(webhook) = read_webhook(stream) else {
                continue;
            };
            if sender.send(webhook).is_err() {
                return;
            }
        }
    });
    Ok(receiver)
}

/// Reads one HTTP/1.1 POST (headers, then a `Content-Length` body) and answers 200.
fn read_webhook(mut stream: TcpStream) -> std::io::Result<Webhook> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let (mut length, mut authorization) = (0usize, None);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    if length > MAX_WEBHOOK_BYTES {
        stream.write_all(
            b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )?;
        return Err(std::io::Error::other("webhook body too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")?;
    Ok(Webhook {
        authorization,
        body,
    })
}

/// Waits for the verified `room_started` event of `room` and returns the event's id.
/// Events about other rooms, or of other kinds, are skipped; one that does not verify is an
/// error, since only this server should be posting here.
fn wait_for_room_started(
    webhooks: &mpsc::Receiver<Webhook>,
    receiver: &WebhookReceiver<Credentials>,
    room: &str,
) -> Result<String, String> {
    let deadline = Instant::now() + WEBHOOK_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let webhook = webhooks.recv_timeout(left).map_err(|_| {
            format!(
                "no room_started webhook for {room} within {} s",
                WEBHOOK_TIMEOUT.as_secs()
            )
        })?;
        let event = receiver
            .receive_now(&webhook.body, webhook.authorization.as_deref())
            .map_err(|error| format!("a webhook did not verify: {error}"))?;
        let about_our_room = event.event.room.as_ref().is_some_and(|r| r.name == room);
        if event.kind == WebhookEventKind::RoomStarted && about_our_room {
            return Ok(event.event.id);
        }
    }
}
