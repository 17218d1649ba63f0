//! The standard LiveKit token endpoint in axum: what the client SDKs' `TokenSource.endpoint(url)`
//! calls to get a server URL and a participant token.
//!
//! The wire format followed here is LiveKit's `TokenSourceRequest` / `TokenSourceResponse`
//! (`livekit_token_source.proto` in the LiveKit protocol), as client-sdk-js's
//! `TokenSourceEndpoint` sends it and as the LiveKit docs' "Endpoint token generation" page
//! describes it:
//!
//! - request: `POST` with a JSON body, every field optional: `room_name`,
//!   `participant_identity`, `participant_name`, `participant_metadata`,
//!   `participant_attributes` (string map) and `room_config` (a `RoomConfiguration`, where the
//!   SDKs put the agent to dispatch). client-sdk-js writes proto field names (`room_name`);
//!   other clients write the protojson camelCase names (`roomName`): both are read, nested
//!   `room_config` fields included.
//! - response: `201 Created`, `{"server_url": "...", "participant_token": "..."}`.
//! - fields a client may not set: a 4xx status (here 403, with the reason).
//!
//! Who may get which token is the [`TokenPolicy`]'s decision, per request. The default
//! policy lets anyone join the room they ask for, publish and subscribe, and dispatch only
//! the agents listed in `TOKEN_SERVER_AGENTS` (any agent when unset). A real deployment
//! authenticates its users first: the policy sees the request headers for that.
//!
//! Run it:
//!
//! ```sh
//! LIVEKIT_URL=http://127.0.0.1:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret \
//!     cargo run -p token_server
//! curl -i -X POST http://127.0.0.1:7913/token -d '{"room_name":"my-room","participant_identity":"alice"}'
//! ```
//!
//! Settings (environment): `LIVEKIT_URL` (returned to clients as `server_url`, with `http`
//! turned into `ws`), `LIVEKIT_API_KEY` / `LIVEKIT_API_SECRET` (defaults: the dev server's
//! `devkey` / `secret`), `TOKEN_SERVER_ADDR` (default `127.0.0.1:7913`; the path is `/token`),
//! `TOKEN_SERVER_AGENTS` (comma-separated agent names clients may dispatch).

// A std program: `core::`/`alloc::` paths would buy nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use livekit_auth::{AccessToken, Credentials, VideoGrants};
use livekit_proto::RoomConfiguration;
use serde::Deserialize;

/// How long a minted token stays valid. Clients fetch a new one per connection, and the
/// server keeps a connected participant in even after its token expires, so short is fine.
const TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// The request body as clients send it: every field optional, both spellings accepted.
#[derive(Debug, Default, Deserialize)]
struct WireRequest {
    #[serde(alias = "roomName")]
    room_name: Option<String>,
    #[serde(alias = "participantName")]
    participant_name: Option<String>,
    #[serde(alias = "participantIdentity")]
    participant_identity: Option<String>,
    #[serde(alias = "participantMetadata")]
    participant_metadata: Option<String>,
    #[serde(alias = "participantAttributes")]
    participant_attributes: Option<BTreeMap<String, String>>,
    /// The protocol's own protojson decoder reads both spellings of the nested fields.
    #[serde(alias = "roomConfig")]
    room_config: Option<RoomConfiguration>,
}

/// A token request, with a room and an identity chosen when the client asked for none.
#[derive(Debug, Clone, PartialEq)]
struct TokenRequest {
    room_name: String,
    participant_identity: String,
    participant_name: String,
    participant_metadata: String,
    participant_attributes: BTreeMap<String, String>,
    room_config: Option<RoomConfiguration>,
}

/// Decides, per request, whether to mint a token and with which room grants.
///
/// Implement it for your own type, or pass a closure with the same signature.
trait TokenPolicy: Send + Sync + 'static {
    /// The grants to give, or why the request is refused (answered with 403).
    fn decide(&self, request: &TokenRequest, headers: &HeaderMap) -> Result<VideoGrants, String>;
}

impl<F> TokenPolicy for F
where
    F: Fn(&TokenRequest, &HeaderMap) -> Result<VideoGrants, String> + Send + Sync + 'static,
{
    fn decide(&self, request: &TokenRequest, headers: &HeaderMap) -> Result<VideoGrants, String> {
        self(request, headers)
    }
}

/// Join the asked room, publish, subscribe and send data; a `room_config` may only dispatch
/// agents, and only those in `allowed_agents` when that list is not empty.
#[derive(Debug, Default)]
struct DefaultPolicy {
    allowed_agents: Vec<String>,
}

impl TokenPolicy for DefaultPolicy {
    fn decide(&self, request: &TokenRequest, _headers: &HeaderMap) -> Result<VideoGrants, String> {
        if let Some(config) = &request.room_config {
            // Room settings (limits, egress, timeouts) are the operator's, not a client's.
            let settings = RoomConfiguration {
                agents: Vec::new(),
                ..config.clone()
            };
            if settings != RoomConfiguration::default() {
                return Err("room_config may only dispatch agents".to_owned());
            }
            for agent in &config.agents {
                let allowed = self.allowed_agents.is_empty()
                    || self.allowed_agents.contains(&agent.agent_name);
                if !allowed {
                    return Err(format!(
                        "agent {:?} may not be dispatched from this endpoint",
                        agent.agent_name
                    ));
                }
            }
        }
        let mut grants = VideoGrants::join(request.room_name.clone());
        grants.can_publish = Some(true);
        grants.can_subscribe = Some(true);
        grants.can_publish_data = Some(true);
        Ok(grants)
    }
}

/// What every request handler shares.
struct App {
    credentials: Credentials,
    /// The URL clients connect to, returned as `server_url`.
    server_url: String,
    policy: Box<dyn TokenPolicy>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = setting("LIVEKIT_URL", "http://127.0.0.1:7880");
    let key = setting("LIVEKIT_API_KEY", "devkey");
    let secret = setting("LIVEKIT_API_SECRET", "secret");
    let address = setting("TOKEN_SERVER_ADDR", "127.0.0.1:7913");
    let allowed_agents = setting("TOKEN_SERVER_AGENTS", "")
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();

    let app = Arc::new(App {
        credentials: Credentials::new(key.as_str(), secret.as_bytes())?,
        server_url: websocket_url(&url),
        policy: Box::new(DefaultPolicy { allowed_agents }),
    });
    let router = Router::new()
        .route("/token", post(token_endpoint))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("token_server: listening on http://{address}/token");
    axum::serve(listener, router).await?;
    Ok(())
}

/// `POST /token`: the body is parsed here rather than by axum's `Json` extractor, so that
/// every malformed body gets a 400 with the parser's own explanation.
async fn token_endpoint(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let (status, body) = answer(&app, &headers, &body, unix_now());
    if status.is_client_error() {
        let reason = body["error"].as_str().unwrap_or_default();
        eprintln!("token_server: {status}: {reason}");
    }
    let json = [(header::CONTENT_TYPE, "application/json")];
    (status, json, body.to_string()).into_response()
}

/// The whole endpoint as a plain function of its inputs (the clock included), so tests can
/// call it without a socket.
fn answer(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
    now: u64,
) -> (StatusCode, serde_json::Value) {
    let error =
        |status: StatusCode, message: String| (status, serde_json::json!({ "error": message }));
    // The body is optional: no body asks for a token with every default.
    let wire: WireRequest = if body.iter().all(u8::is_ascii_whitespace) {
        WireRequest::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(wire) => wire,
            Err(parse) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the body is not a token request: {parse}"),
                );
            }
        }
    };
    let request = resolve(wire, now);
    let grants = match app.policy.decide(&request, headers) {
        Ok(grants) => grants,
        Err(reason) => return error(StatusCode::FORBIDDEN, reason),
    };

    let mut token = AccessToken::new()
        .with_identity(request.participant_identity)
        .with_name(request.participant_name)
        .with_metadata(request.participant_metadata)
        .with_attributes(request.participant_attributes)
        .with_video_grants(grants)
        .with_ttl(TOKEN_TTL);
    if let Some(config) = &request.room_config {
        // The token carries the configuration in protojson (camelCase), as the server reads it.
        match serde_json::to_value(config) {
            Ok(serde_json::Value::Object(config)) => token = token.with_room_config(config),
            _ => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not encode room_config".to_owned(),
                );
            }
        }
    }
    match token.sign(&app.credentials, now) {
        Ok(jwt) => (
            StatusCode::CREATED,
            serde_json::json!({ "server_url": app.server_url, "participant_token": jwt }),
        ),
        // The error names what was wrong with the claims, never the secret.
        Err(sign) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not mint the token: {sign}"),
        ),
    }
}

/// Fills in what the client left out: a fresh room and a fresh identity, so that an empty
/// request (what `TokenSource.endpoint` sends with no options) still gets a usable token.
fn resolve(wire: WireRequest, now: u64) -> TokenRequest {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let fresh = |prefix: &str| {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{now:x}-{n}")
    };
    let given = |value: Option<String>| value.filter(|value| !value.trim().is_empty());
    TokenRequest {
        room_name: given(wire.room_name).unwrap_or_else(|| fresh("room")),
        participant_identity: given(wire.participant_identity).unwrap_or_else(|| fresh("user")),
        participant_name: wire.participant_name.unwrap_or_default(),
        participant_metadata: wire.participant_metadata.unwrap_or_default(),
        participant_attributes: wire.participant_attributes.unwrap_or_default(),
        room_config: wire.room_config,
    }
}

/// The URL a client connects to: the API's URL with `http(s)` turned into `ws(s)`.
fn websocket_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        url.to_owned()
    }
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

#[cfg(test)]
mod tests {
    use livekit_auth::{Claims, TokenVerifier};

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn app(policy: Box<dyn TokenPolicy>) -> App {
        App {
            credentials: Credentials::new("devkey", "secret".as_bytes()).unwrap(),
            server_url: websocket_url("http://127.0.0.1:7880"),
            policy,
        }
    }

    fn default_app(agents: &[&str]) -> App {
        app(Box::new(DefaultPolicy {
            allowed_agents: agents.iter().map(|&agent| agent.to_owned()).collect(),
        }))
    }

    /// Posts `body` and returns the status and, on success, the verified claims.
    fn post(app: &App, body: &str) -> (StatusCode, serde_json::Value, Option<Claims>) {
        let (status, answer) = answer(app, &HeaderMap::new(), body.as_bytes(), NOW);
        let claims = answer["participant_token"].as_str().map(|jwt| {
            TokenVerifier::new(app.credentials.clone())
                .verify(jwt, NOW)
                .unwrap()
        });
        (status, answer, claims)
    }

    #[test]
    fn snake_case_request_gets_a_join_token_with_its_agent() {
        let body = r#"{"room_name":"r1","participant_identity":"alice","participant_name":"Alice",
            "participant_metadata":"m","participant_attributes":{"k":"v"},
            "room_config":{"agents":[{"agent_name":"helper","metadata":"x"}]}}"#;
        let (status, answer, claims) = post(&default_app(&["helper"]), body);
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(answer["server_url"], "ws://127.0.0.1:7880");
        let claims = claims.unwrap().grants;
        assert_eq!(claims.identity, "alice");
        assert_eq!(claims.name, "Alice");
        assert_eq!(claims.metadata, "m");
        assert_eq!(claims.attributes.get("k").map(String::as_str), Some("v"));
        let video = claims.video.unwrap();
        assert!(video.room_join);
        assert_eq!(video.room, "r1");
        assert_eq!(video.can_publish, Some(true));
        assert_eq!(video.can_subscribe, Some(true));
        let config = serde_json::Value::Object(claims.room_config.unwrap());
        assert_eq!(config["agents"][0]["agentName"], "helper");
        assert_eq!(config["agents"][0]["metadata"], "x");
    }

    #[test]
    fn camel_case_request_reads_the_same_fields() {
        let body = r#"{"roomName":"r2","participantIdentity":"bob","participantName":"Bob",
            "roomConfig":{"agents":[{"agentName":"helper"}]}}"#;
        let (status, _, claims) = post(&default_app(&["helper"]), body);
        assert_eq!(status, StatusCode::CREATED);
        let claims = claims.unwrap().grants;
        assert_eq!(claims.identity, "bob");
        assert_eq!(claims.name, "Bob");
        assert_eq!(claims.video.unwrap().room, "r2");
        let config = serde_json::Value::Object(claims.room_config.unwrap());
        assert_eq!(config["agents"][0]["agentName"], "helper");
    }

    #[test]
    fn a_token_lasts_fifteen_minutes() {
        let (_, _, claims) = post(
            &default_app(&[]),
            r#"{"room_name":"r","participant_identity":"a"}"#,
        );
        let claims = claims.unwrap();
        assert_eq!(claims.not_before, Some(NOW));
        assert_eq!(claims.expires_at, Some(NOW + 15 * 60));
    }

    #[test]
    fn empty_request_gets_a_fresh_room_and_identity() {
        let app = default_app(&[]);
        let (status, _, first) = post(&app, "");
        assert_eq!(status, StatusCode::CREATED);
        let (_, _, second) = post(&app, "{}");
        let (first, second) = (first.unwrap().grants, second.unwrap().grants);
        assert!(first.identity.starts_with("user-"), "{}", first.identity);
        assert_ne!(first.identity, second.identity);
        assert!(first.video.unwrap().room.starts_with("room-"));
    }

    #[test]
    fn bad_json_is_a_400_that_says_why() {
        for body in ["{", "[1]", r#"{"room_name":5}"#] {
            let (status, answer, _) = post(&default_app(&[]), body);
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            let message = answer["error"].as_str().unwrap();
            assert!(
                message.starts_with("the body is not a token request: "),
                "{message}"
            );
        }
    }

    #[test]
    fn default_policy_refuses_unlisted_agents_and_room_settings() {
        let app = default_app(&["helper"]);
        let agent = r#"{"room_name":"r","room_config":{"agents":[{"agent_name":"intruder"}]}}"#;
        let (status, answer, claims) = post(&app, agent);
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            answer["error"],
            r#"agent "intruder" may not be dispatched from this endpoint"#
        );
        assert!(claims.is_none());
        let limits = r#"{"room_name":"r","room_config":{"max_participants":100}}"#;
        let (status, answer, _) = post(&app, limits);
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(answer["error"], "room_config may only dispatch agents");
    }

    #[test]
    fn a_closure_policy_sees_the_request_and_headers() {
        let policy = |request: &TokenRequest, headers: &HeaderMap| {
            if headers.get(header::AUTHORIZATION).is_none() {
                return Err("sign in first".to_owned());
            }
            let mut grants = VideoGrants::join(request.room_name.clone());
            grants.can_publish = Some(false);
            Ok(grants)
        };
        let app = app(Box::new(policy));
        let body = br#"{"room_name":"r","participant_identity":"viewer"}"#;
        let (status, reply) = answer(&app, &HeaderMap::new(), body, NOW);
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(reply["error"], "sign in first");

        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer session".parse().unwrap());
        let (status, reply) = answer(&app, &headers, body, NOW);
        assert_eq!(status, StatusCode::CREATED);
        let jwt = reply["participant_token"].as_str().unwrap();
        let claims = TokenVerifier::new(app.credentials.clone())
            .verify(jwt, NOW)
            .unwrap();
        assert_eq!(claims.grants.video.unwrap().can_publish, Some(false));
    }
}
