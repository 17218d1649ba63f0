//! Tokens minted by the reference SDKs (Python `livekit-api`, Node `livekit-server-sdk`)
//! verify here, at the clock they were minted at, and carry exactly the claims they were
//! minted with.
//!
//! The fixture is written by `cargo xtask interop --write-fixtures`: each peer minted every
//! case of `xtask/interop/cases.json` with the real clock; `minted_at` is the token's `nbf`,
//! and `claims` is what the peer was asked to write, in the token's JSON names, with the
//! peer's documented defaults applied (Python writes `canPublish`, `canSubscribe` and
//! `canPublishData` as true unless told otherwise) and unset values left out.

use livekit_auth::{
    AgentEndpointGrants, AgentGrants, AgentThreadGrants, ClaimGrants, Claims, Credentials, Error,
    InferenceGrants, ObservabilityGrants, ParticipantKind, SipGrants, TokenVerifier, TrackSource,
    VideoGrants,
};
use serde_json::{Map, Value};

const FIXTURE: &str = include_str!("fixtures/peer_tokens.json");

/// One token of the fixture.
struct PeerToken {
    label: String,
    peer: String,
    api_key: String,
    api_secret: String,
    minted_at: u64,
    ttl: u64,
    token: String,
    claims: Map<String, Value>,
}

fn peer_tokens() -> Vec<PeerToken> {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    let tokens = fixture["tokens"]
        .as_array()
        .expect("fixture has a tokens array");
    tokens
        .iter()
        .map(|entry| {
            let text = |key: &str| {
                entry[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("fixture entry without {key}: {entry}"))
                    .to_owned()
            };
            let number = |key: &str| {
                entry[key]
                    .as_u64()
                    .unwrap_or_else(|| panic!("fixture entry without {key}: {entry}"))
            };
            PeerToken {
                label: format!(
                    "{} {} {} case {}",
                    text("package"),
                    text("peer_version"),
                    text("peer"),
                    text("case")
                ),
                peer: text("peer"),
                api_key: text("api_key"),
                api_secret: text("api_secret"),
                minted_at: number("minted_at"),
                ttl: number("ttl"),
                token: text("token"),
                claims: entry["claims"]
                    .as_object()
                    .cloned()
                    .unwrap_or_else(|| panic!("fixture entry without claims: {entry}")),
            }
        })
        .collect()
}

fn verifier(token: &PeerToken) -> TokenVerifier<Credentials> {
    TokenVerifier::new(Credentials::new(&token.api_key, &token.api_secret).unwrap())
}

#[test]
fn fixture_covers_both_peers_and_every_claim() {
    let tokens = peer_tokens();
    for peer in ["python", "node"] {
        assert!(
            tokens.iter().filter(|token| token.peer == peer).count() >= 10,
            "too few {peer} tokens in the fixture"
        );
    }
    // Every claim Python can mint is in some Python token; Node has no API for the agent
    // grants nor kindDetails, and nobody can mint kindDetails.
    let python_claims: Vec<&String> = tokens
        .iter()
        .filter(|token| token.peer == "python")
        .flat_map(|token| token.claims.keys())
        .collect();
    for claim in [
        "sub",
        "name",
        "kind",
        "metadata",
        "attributes",
        "sha256",
        "roomPreset",
        "roomConfig",
        "video",
        "sip",
        "inference",
        "observability",
        "agent",
        "agentEndpoint",
        "agentThread",
    ] {
        assert!(
            python_claims.contains(&&claim.to_owned()),
            "no Python token carries {claim}"
        );
    }
}

#[test]
fn peer_tokens_verify_at_their_mint_time_with_the_claims_they_were_minted_with() {
    for token in peer_tokens() {
        let claims = verifier(&token)
            .verify(&token.token, token.minted_at)
            .unwrap_or_else(|error| panic!("{}: rejected: {error}", token.label));
        check_claims(&token, &claims);
    }
}

#[test]
fn peer_tokens_expire_after_ttl_and_leeway() {
    for token in peer_tokens() {
        let verifier = verifier(&token);
        let exp = token.minted_at + token.ttl;
        // The last second within the 60 s leeway, then the first one past it.
        let last_valid = exp + 60;
        assert!(
            verifier.verify(&token.token, last_valid).is_ok(),
            "{}: rejected within the leeway",
            token.label
        );
        let now = exp + 61;
        assert_eq!(
            verifier.verify(&token.token, now),
            Err(Error::Expired { exp, now }),
            "{}",
            token.label
        );
    }
}

#[test]
fn peer_tokens_are_rejected_under_another_secret() {
    for token in peer_tokens() {
        let other =
            Credentials::new(&token.api_key, "another-secret-under-the-same-api-key").unwrap();
        assert_eq!(
            TokenVerifier::new(other).verify(&token.token, token.minted_at),
            Err(Error::InvalidSignature),
            "{}",
            token.label
        );
    }
}

/// Compares every field of the verified claims with the fixture's expectation, one field at a
/// time so a failure names it, then the whole to catch anything a field check missed.
fn check_claims(token: &PeerToken, claims: &Claims) {
    let label = &token.label;
    assert_eq!(claims.issuer, token.api_key, "{label}: iss");
    assert_eq!(claims.not_before, Some(token.minted_at), "{label}: nbf");
    assert_eq!(
        claims.expires_at,
        Some(token.minted_at + token.ttl),
        "{label}: exp"
    );

    let expected = expected_grants(&token.claims, label);
    let grants = &claims.grants;
    assert_eq!(grants.identity, expected.identity, "{label}: sub");
    assert_eq!(grants.name, expected.name, "{label}: name");
    assert_eq!(grants.kind, expected.kind, "{label}: kind");
    assert_eq!(
        grants.kind_details, expected.kind_details,
        "{label}: kindDetails"
    );
    assert_eq!(grants.metadata, expected.metadata, "{label}: metadata");
    assert_eq!(
        grants.attributes, expected.attributes,
        "{label}: attributes"
    );
    assert_eq!(grants.sha256, expected.sha256, "{label}: sha256");
    assert_eq!(
        grants.room_preset, expected.room_preset,
        "{label}: roomPreset"
    );
    assert_eq!(
        grants.room_config.as_ref().map(without_protojson_defaults),
        expected.room_config,
        "{label}: roomConfig"
    );
    assert_eq!(grants.video, expected.video, "{label}: video");
    assert_eq!(grants.sip, expected.sip, "{label}: sip");
    assert_eq!(grants.inference, expected.inference, "{label}: inference");
    assert_eq!(
        grants.observability, expected.observability,
        "{label}: observability"
    );
    assert_eq!(grants.agent, expected.agent, "{label}: agent");
    assert_eq!(
        grants.agent_endpoint, expected.agent_endpoint,
        "{label}: agentEndpoint"
    );
    assert_eq!(
        grants.agent_thread, expected.agent_thread,
        "{label}: agentThread"
    );

    let mut whole = grants.clone();
    whole.room_config = whole.room_config.as_ref().map(without_protojson_defaults);
    assert_eq!(whole, expected, "{label}: claims");
}

/// Builds the expected claims from the fixture's JSON by hand, without this crate's
/// deserializer, failing on any claim it does not know.
fn expected_grants(claims: &Map<String, Value>, label: &str) -> ClaimGrants {
    let mut expected = ClaimGrants::default();
    for (key, value) in claims {
        match key.as_str() {
            "sub" => expected.identity = text(value),
            "name" => expected.name = text(value),
            "kind" => expected.kind = Some(ParticipantKind::parse(&text(value))),
            "kindDetails" => expected.kind_details = texts(value),
            "metadata" => expected.metadata = text(value),
            "attributes" => {
                expected.attributes = object(value)
                    .iter()
                    .map(|(key, value)| (key.clone(), text(value)))
                    .collect();
            }
            "sha256" => expected.sha256 = Some(text(value)),
            "roomPreset" => expected.room_preset = Some(text(value)),
            "roomConfig" => expected.room_config = Some(object(value).clone()),
            "video" => {
                let video = object(value);
                expected.video = Some(VideoGrants {
                    room_create: flag(video, "roomCreate"),
                    room_list: flag(video, "roomList"),
                    room_record: flag(video, "roomRecord"),
                    room_admin: flag(video, "roomAdmin"),
                    room_join: flag(video, "roomJoin"),
                    room: field_text(video, "room"),
                    destination_room: field_text(video, "destinationRoom"),
                    can_publish: tri_state(video, "canPublish"),
                    can_subscribe: tri_state(video, "canSubscribe"),
                    can_publish_data: tri_state(video, "canPublishData"),
                    can_publish_sources: video
                        .get("canPublishSources")
                        .map(texts)
                        .unwrap_or_default()
                        .iter()
                        .map(|source| TrackSource::parse(source))
                        .collect(),
                    can_update_own_metadata: tri_state(video, "canUpdateOwnMetadata"),
                    ingress_admin: flag(video, "ingressAdmin"),
                    hidden: flag(video, "hidden"),
                    recorder: flag(video, "recorder"),
                    agent: flag(video, "agent"),
                    can_manage_agent_session: tri_state(video, "canManageAgentSession"),
                    can_subscribe_metrics: tri_state(video, "canSubscribeMetrics"),
                });
                known_fields(video, &VIDEO_FIELDS, label);
            }
            "sip" => {
                let sip = object(value);
                known_fields(sip, &["admin", "call"], label);
                expected.sip = Some(SipGrants {
                    admin: flag(sip, "admin"),
                    call: flag(sip, "call"),
                });
            }
            "inference" => {
                let inference = object(value);
                known_fields(inference, &["perform"], label);
                expected.inference = Some(InferenceGrants {
                    perform: flag(inference, "perform"),
                });
            }
            "observability" => {
                let observability = object(value);
                known_fields(observability, &["write"], label);
                expected.observability = Some(ObservabilityGrants {
                    write: flag(observability, "write"),
                });
            }
            "agent" => {
                let agent = object(value);
                known_fields(
                    agent,
                    &["admin", "simulationAdmin", "databaseAdmin", "dispatchAdmin"],
                    label,
                );
                expected.agent = Some(AgentGrants {
                    admin: flag(agent, "admin"),
                    simulation_admin: flag(agent, "simulationAdmin"),
                    database_admin: flag(agent, "databaseAdmin"),
                    dispatch_admin: flag(agent, "dispatchAdmin"),
                });
            }
            "agentEndpoint" => {
                let endpoint = object(value);
                known_fields(endpoint, &["call", "agentName", "deployment"], label);
                expected.agent_endpoint = Some(AgentEndpointGrants {
                    call: flag(endpoint, "call"),
                    agent_name: field_text(endpoint, "agentName"),
                    deployment: field_text(endpoint, "deployment"),
                });
            }
            "agentThread" => {
                let thread = object(value);
                known_fields(
                    thread,
                    &[
                        "all",
                        "scope",
                        "threadIds",
                        "list",
                        "create",
                        "write",
                        "read",
                        "delete",
                    ],
                    label,
                );
                expected.agent_thread = Some(AgentThreadGrants {
                    all: flag(thread, "all"),
                    scope: field_text(thread, "scope"),
                    thread_ids: thread.get("threadIds").map(texts).unwrap_or_default(),
                    list: flag(thread, "list"),
                    create: flag(thread, "create"),
                    write: flag(thread, "write"),
                    read: flag(thread, "read"),
                    delete: flag(thread, "delete"),
                });
            }
            other => {
                panic!("{label}: the fixture expects claim {other}, which this test does not check")
            }
        }
    }
    expected
}

const VIDEO_FIELDS: [&str; 18] = [
    "roomCreate",
    "roomList",
    "roomRecord",
    "roomAdmin",
    "roomJoin",
    "room",
    "destinationRoom",
    "canPublish",
    "canSubscribe",
    "canPublishData",
    "canPublishSources",
    "canUpdateOwnMetadata",
    "ingressAdmin",
    "hidden",
    "recorder",
    "agent",
    "canManageAgentSession",
    "canSubscribeMetrics",
];

fn known_fields(fields: &Map<String, Value>, known: &[&str], label: &str) {
    for key in fields.keys() {
        assert!(
            known.contains(&key.as_str()),
            "{label}: the fixture expects field {key}, which this test does not check"
        );
    }
}

fn object(value: &Value) -> &Map<String, Value> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("expected an object, got {value}"))
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

fn texts(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected a list, got {value}"))
        .iter()
        .map(text)
        .collect()
}

fn field_text(fields: &Map<String, Value>, key: &str) -> String {
    fields.get(key).map(text).unwrap_or_default()
}

/// A plain flag: absent means false.
fn flag(fields: &Map<String, Value>, key: &str) -> bool {
    fields
        .get(key)
        .is_some_and(|value| value == &Value::Bool(true))
}

/// A flag with a server-side default: absent means unset.
fn tri_state(fields: &Map<String, Value>, key: &str) -> Option<bool> {
    fields.get(key).and_then(Value::as_bool)
}

/// The room configuration without protojson default values: Node's protobuf-es writes every
/// field (zeros, empty strings, the zero enum `JRP_ON_FAILURE`), Python's `MessageToDict`
/// none; both mean the same `RoomConfiguration`.
fn without_protojson_defaults(config: &Map<String, Value>) -> Map<String, Value> {
    fn strip(value: &Value) -> Option<Value> {
        match value {
            Value::Null | Value::Bool(false) => None,
            Value::String(text) if text.is_empty() || text == "JRP_ON_FAILURE" => None,
            Value::Number(number) if number.as_f64() == Some(0.0) => None,
            Value::Array(items) if items.is_empty() => None,
            Value::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .map(|item| strip(item).unwrap_or(Value::Null))
                    .collect(),
            )),
            Value::Object(fields) => {
                let fields: Map<String, Value> = fields
                    .iter()
                    .filter_map(|(key, value)| strip(value).map(|value| (key.clone(), value)))
                    .collect();
                (!fields.is_empty()).then_some(Value::Object(fields))
            }
            other => Some(other.clone()),
        }
    }
    match strip(&Value::Object(config.clone())) {
        Some(Value::Object(fields)) => fields,
        _ => Map::new(),
    }
}
