//! A LiveKit webhook endpoint in axum: verify each POST with `livekit_core::WebhookReceiver`,
//! answer 401 to anything that does not verify, and handle the events by kind.
//!
//! The one rule that matters: verify the body **exactly as received**. The signature covers
//! the raw bytes, so the handler takes `axum::body::Bytes`, never a `Json<...>` extractor
//! (which would parse, and any re-encoding breaks the hash).
//!
//! Run it, then point a LiveKit server's webhook at it:
//!
//! ```sh
//! LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret cargo run -p webhook_server
//! cargo xtask server start --webhook http://127.0.0.1:7911/webhook
//! ```
//!
//! Settings (environment):
//! - `LIVEKIT_API_KEY` / `LIVEKIT_API_SECRET`: the key the server signs webhooks with
//!   (defaults: the dev server's `devkey` / `secret`).
//! - `WEBHOOK_SERVER_ADDR`: where to listen (default `127.0.0.1:7911`); the path is `/webhook`.
//! - `WEBHOOK_SERVER_EXIT_AFTER`: an event name, such as `room_finished`; the server exits
//!   with status 0 once it has handled the first such event. Without it, it runs until killed.
//!   `cargo xtask examples` uses this to run it in CI.

// A std program: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use livekit_auth::Credentials;
use livekit_core::{WebhookEvent, WebhookEventKind, WebhookReceiver};
use tokio::sync::Notify;

/// What every request handler shares.
struct App {
    receiver: WebhookReceiver<Credentials>,
    /// The event kind after which the server stops, if any.
    exit_after: Option<WebhookEventKind>,
    /// Wakes the graceful shutdown.
    shutdown: Notify,
}

// One thread is plenty for webhooks, and keeps the example's runtime small.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = setting("LIVEKIT_API_KEY", "devkey");
    let secret = setting("LIVEKIT_API_SECRET", "secret");
    let address = setting("WEBHOOK_SERVER_ADDR", "127.0.0.1:7911");
    let exit_after = std::env::var("WEBHOOK_SERVER_EXIT_AFTER")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .map(|name| WebhookEventKind::parse(name.trim()));

    let app = Arc::new(App {
        receiver: WebhookReceiver::new(Credentials::new(key.as_str(), secret.as_bytes())?),
        exit_after,
        shutdown: Notify::new(),
    });
    let router = Router::new()
        .route("/webhook", post(receive_webhook))
        .with_state(Arc::clone(&app));

    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("webhook_server: listening on http://{address}/webhook");
    axum::serve(listener, router)
        // In-flight requests finish (the server gets its 200) before the process exits.
        .with_graceful_shutdown(async move { app.shutdown.notified().await })
        .await?;
    println!("webhook_server: stopped");
    Ok(())
}

/// `POST /webhook`: the raw body and the headers, nothing parsed yet.
async fn receive_webhook(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    // A header that is not visible ASCII cannot be a valid token: treat it as missing.
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let event = match app.receiver.receive_now(&body, authorization) {
        Ok(event) => event,
        Err(error) => {
            // The reason says what was wrong (bad signature, body hash mismatch, unknown
            // key, ...) and never includes the secret or the token.
            eprintln!("webhook_server: refused a webhook: {error}");
            return StatusCode::UNAUTHORIZED;
        }
    };
    handle(&event);
    if app.exit_after.as_ref() == Some(&event.kind) {
        println!("webhook_server: handled {}, exiting", event.event.event);
        // notify_one keeps the permit if the shutdown future is not waiting yet.
        app.shutdown.notify_one();
    }
    StatusCode::OK
}

/// Your application logic goes here: one arm per kind of event.
fn handle(event: &WebhookEvent) {
    let webhook = &event.event;
    let room = webhook.room.as_ref().map_or("", |room| room.name.as_str());
    let participant = webhook
        .participant
        .as_ref()
        .map_or("", |participant| participant.identity.as_str());
    match &event.kind {
        WebhookEventKind::RoomStarted => println!("room_started: room {room}"),
        WebhookEventKind::RoomFinished => println!("room_finished: room {room}"),
        WebhookEventKind::ParticipantJoined => {
            println!("participant_joined: {participant} joined room {room}");
        }
        WebhookEventKind::ParticipantLeft => {
            println!("participant_left: {participant} left room {room}");
        }
        WebhookEventKind::ParticipantConnectionAborted => {
            println!("participant_connection_aborted: {participant} in room {room}");
        }
        WebhookEventKind::TrackPublished | WebhookEventKind::TrackUnpublished => {
            let track = webhook.track.as_ref();
            println!(
                "{}: track {} ({}) of {participant} in room {room}",
                webhook.event,
                track.map_or("", |track| track.sid.as_str()),
                track.map_or("", |track| track.source().as_str_name()),
            );
        }
        WebhookEventKind::EgressStarted
        | WebhookEventKind::EgressUpdated
        | WebhookEventKind::EgressEnded => {
            if let Some(egress) = &webhook.egress_info {
                println!(
                    "{}: egress {} of room {} is {}",
                    webhook.event,
                    egress.egress_id,
                    egress.room_name,
                    egress.status().as_str_name()
                );
            }
        }
        WebhookEventKind::IngressStarted | WebhookEventKind::IngressEnded => {
            if let Some(ingress) = &webhook.ingress_info {
                println!(
                    "{}: ingress {} ({}) into room {}",
                    webhook.event, ingress.ingress_id, ingress.name, ingress.room_name
                );
            }
        }
        WebhookEventKind::Other(name) => println!("{name}: an event this example does not know"),
        // The enum is non-exhaustive: kinds added later land here until handled above.
        _ => println!("{}: not handled", webhook.event),
    }
}

/// An environment variable, or `default` when it is unset or blank.
fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}
