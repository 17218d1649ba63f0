//! The quickstart, async on `livekit-hyper`: create a room, list rooms, handle a server
//! error, mint and verify a join token, receive the `room_started` webhook, dispatch an
//! agent, delete the room.
//!
//! `cargo xtask quickstart` runs it against a local dev server it starts when none answers.
//! By hand: set `LIVEKIT_URL`, `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` (defaults: the local
//! dev server, `devkey` / `secret`), and `QUICKSTART_WEBHOOK_ADDR` to the address the server
//! posts webhooks to, if it does (without it the webhook step is skipped and says so).

// A std program: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use livekit_auth::{AccessToken, Credentials, TokenVerifier, VideoGrants};
use livekit_core::{WebhookEventKind, WebhookReceiver};
use livekit_hyper::LiveKitApi;
use livekit_hyper::proto::{
    CreateAgentDispatchRequest, CreateRoomRequest, DeleteRoomRequest, ListAgentDispatchRequest,
    ListRoomsRequest,
};

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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = setting("LIVEKIT_URL", "http://127.0.0.1:7880");
    let key = setting("LIVEKIT_API_KEY", "devkey");
    let secret = setting("LIVEKIT_API_SECRET", "secret");
    let api = LiveKitApi::new(&url, &key, &secret)?;
    println!("quickstart: server {url}");

    // Listen for webhooks before the room exists, so room_started cannot be missed.
    let webhooks = std::env::var("QUICKSTART_WEBHOOK_ADDR")
        .ok()
        .map(|address| listen_for_webhooks(&address))
        .transpose()?;

    let room_name = format!("quickstart-{}", unix_now());
    let room = api
        .room()
        .create_room(CreateRoomRequest {
            name: room_name.clone(),
            empty_timeout: 300,
            ..Default::default()
        })
        .await?;
    println!("1. created room {} ({})", room.name, room.sid);

    let rooms = api.room().list_rooms(ListRoomsRequest::default()).await?;
    println!("2. the server has {} room(s)", rooms.rooms.len());

    match api
        .room()
        .delete_room(DeleteRoomRequest {
            room: format!("{room_name}-does-not-exist"),
        })
        .await
    {
        Err(error) if error.is_not_found() => {
            println!("3. deleting a missing room is a clean error: {error}");
        }
        Err(error) => return Err(error.into()),
        Ok(_) => return Err("deleting a missing room succeeded".into()),
    }

    let credentials = Credentials::new(key.as_str(), secret.as_bytes())?;
    let token = AccessToken::new()
        .with_identity("alice")
        .with_name("Alice")
        .with_video_grants(VideoGrants::join(room_name.clone()))
        .with_ttl(Duration::from_secs(3600))
        .sign_now(&credentials)?;
    let claims = TokenVerifier::new(credentials.clone()).verify_now(&token)?;
    println!(
        "4. minted a join token for {} in {} ({} bytes) and verified it",
        claims.grants.identity,
        claims
            .grants
            .video
            .map(|video| video.room)
            .unwrap_or_default(),
        token.len()
    );

    match webhooks {
        Some(webhooks) => {
            let receiver = WebhookReceiver::new(credentials);
            let started = tokio::task::spawn_blocking(move || {
                wait_for_room_started(&webhooks, &receiver, &room_name)
            });
            let event = started.await??;
            println!("5. received and verified the room_started webhook ({event})");
        }
        None => println!("5. skipped the webhook (set QUICKSTART_WEBHOOK_ADDR to receive it)"),
    }

    let dispatch = api
        .agent_dispatch()
        .create_dispatch(CreateAgentDispatchRequest {
            agent_name: "quickstart-agent".into(),
            room: room.name.clone(),
            metadata: r#"{"greeting":"hello"}"#.into(),
            ..Default::default()
        })
        .await?;
    let dispatches = api
        .agent_dispatch()
        .list_dispatch(ListAgentDispatchRequest {
            room: room.name.clone(),
            ..Default::default()
        })
        .await?;
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

    api.room()
        .delete_room(DeleteRoomRequest {
            room: room.name.clone(),
        })
        .await?;
    println!("7. deleted room {}", room.name);
    Ok(())
}

/// A webhook as received: the `Authorization` header and the raw body.
type Webhook = (Option<String>, Vec<u8>);

/// Accepts webhook POSTs on `address` in a thread and hands them over raw: the signature
/// covers the exact bytes, so nothing may parse the body before the receiver does.
fn listen_for_webhooks(address: &str) -> std::io::Result<mpsc::Receiver<Webhook>> {
    let listener = TcpListener::bind(address)?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let (mut length, mut authorization) = (0usize, None);
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        "authorization" => authorization = Some(value.trim().to_owned()),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            if sender.send((authorization, body)).is_err() {
                return;
            }
        }
    });
    Ok(receiver)
}

/// Waits up to 30 s for the verified `room_started` event of `room`.
fn wait_for_room_started(
    webhooks: &mpsc::Receiver<Webhook>,
    receiver: &WebhookReceiver<Credentials>,
    room: &str,
) -> Result<String, String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let (authorization, body) = webhooks
            .recv_timeout(left)
            .map_err(|_| format!("no room_started webhook for {room} within 30 s"))?;
        let event = receiver
            .receive_now(&body, authorization.as_deref())
            .map_err(|error| format!("a webhook did not verify: {error}"))?;
        let about_our_room = event.event.room.as_ref().is_some_and(|r| r.name == room);
        if event.kind == WebhookEventKind::RoomStarted && about_our_room {
            return Ok(format!("event {}", event.event.id));
        }
    }
}
