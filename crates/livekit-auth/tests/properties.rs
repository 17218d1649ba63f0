//! Property tests: any claims mint and verify back unchanged, and verification never panics,
//! whatever text or webhook it is handed.

// Tests run on std; the no_std lints are for the library.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::time::Duration;

use livekit_auth::{
    AccessToken, AgentEndpointGrants, AgentGrants, AgentThreadGrants, ClaimGrants, Credentials,
    Error, InferenceGrants, ObservabilityGrants, ParticipantKind, SipGrants, TokenVerifier,
    TrackSource, VideoGrants, body_sha256,
};
use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const SECRET: &str = "property-secret-0123456789";

fn credentials() -> Credentials {
    Credentials::new("APIprop", SECRET).unwrap()
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\"\\\\\n\u{0}-\u{1f}\u{7f}\u{2028}\u{fffd}a-zé🎥.]{0,10}",
    ]
}

fn kind() -> impl Strategy<Value = ParticipantKind> {
    prop_oneof![
        Just(ParticipantKind::Standard),
        Just(ParticipantKind::Ingress),
        Just(ParticipantKind::Egress),
        Just(ParticipantKind::Sip),
        Just(ParticipantKind::Agent),
        Just(ParticipantKind::Connector),
        // Kinds from newer servers are kept verbatim.
        "x-[a-z_]{1,8}".prop_map(ParticipantKind::Other),
    ]
}

fn source() -> impl Strategy<Value = TrackSource> {
    prop_oneof![
        Just(TrackSource::Camera),
        Just(TrackSource::Microphone),
        Just(TrackSource::ScreenShare),
        Just(TrackSource::ScreenShareAudio),
        "x-[a-z_]{1,8}".prop_map(TrackSource::Other),
    ]
}

fn video() -> impl Strategy<Value = VideoGrants> {
    (
        any::<[bool; 9]>(),
        (text(), text()),
        any::<[Option<bool>; 6]>(),
        vec(source(), 0..4),
    )
        .prop_map(
            |(flags, (room, destination_room), options, sources)| VideoGrants {
                room_create: flags[0],
                room_list: flags[1],
                room_record: flags[2],
                room_admin: flags[3],
                room_join: flags[4],
                ingress_admin: flags[5],
                hidden: flags[6],
                recorder: flags[7],
                agent: flags[8],
                room,
                destination_room,
                can_publish: options[0],
                can_subscribe: options[1],
                can_publish_data: options[2],
                can_update_own_metadata: options[3],
                can_manage_agent_session: options[4],
                can_subscribe_metrics: options[5],
                can_publish_sources: sources,
            },
        )
}

/// JSON values for the room configuration: integers, strings, booleans, nesting (floats are
/// left out: the configuration has none, and decimal text is not an exact float encoding).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|number| json!(number)),
        any::<u64>().prop_map(|number| json!(number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn grants() -> impl Strategy<Value = ClaimGrants> {
    (
        (text(), text(), of(kind()), vec(text(), 0..3), text()),
        (btree_map(text(), text(), 0..4), of(text()), of(text())),
        of(btree_map("[a-zA-Z]{1,12}", json_value(), 0..4)),
        (
            of(video()),
            of(any::<[bool; 2]>()),
            of(any::<bool>()),
            of(any::<bool>()),
        ),
        (of(any::<[bool; 4]>()), of((any::<bool>(), text(), text()))),
        of((any::<[bool; 6]>(), text(), vec(text(), 0..3))),
    )
        .prop_map(
            |(
                (identity, name, kind, kind_details, metadata),
                (attributes, sha256, room_preset),
                room_config,
                (video, sip, inference, observability),
                (agent, agent_endpoint),
                agent_thread,
            )| {
                ClaimGrants {
                    identity,
                    name,
                    kind,
                    kind_details,
                    metadata,
                    attributes,
                    sha256,
                    room_preset,
                    room_config: room_config.map(|map| map.into_iter().collect::<Map<_, _>>()),
                    video,
                    sip: sip.map(|[admin, call]| SipGrants { admin, call }),
                    inference: inference.map(|perform| InferenceGrants { perform }),
                    observability: observability.map(|write| ObservabilityGrants { write }),
                    agent: agent.map(|flags| AgentGrants {
                        admin: flags[0],
                        simulation_admin: flags[1],
                        database_admin: flags[2],
                        dispatch_admin: flags[3],
                    }),
                    agent_endpoint: agent_endpoint.map(|(call, agent_name, deployment)| {
                        AgentEndpointGrants {
                            call,
                            agent_name,
                            deployment,
                        }
                    }),
                    agent_thread: agent_thread.map(|(flags, scope, thread_ids)| {
                        AgentThreadGrants {
                            all: flags[0],
                            list: flags[1],
                            create: flags[2],
                            write: flags[3],
                            read: flags[4],
                            delete: flags[5],
                            scope,
                            thread_ids,
                        }
                    }),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_claims_mint_and_verify_back_unchanged(
        grants in grants(),
        now in 0..4_000_000_000u64,
        ttl in 1..100_000_000u64,
    ) {
        let token = AccessToken::from_grants(grants.clone())
            .with_ttl(Duration::from_secs(ttl))
            .sign(&credentials(), now);
        let joins = grants.video.as_ref().is_some_and(|video| video.room_join);
        let token = match token {
            Ok(token) => token,
            Err(error) => {
                // The only refusals: a join grant missing its identity or room.
                prop_assert!(joins, "{error}");
                let expected = if grants.identity.is_empty() {
                    Error::JoinWithoutIdentity
                } else {
                    Error::JoinWithoutRoom
                };
                prop_assert_eq!(error, expected);
                return Ok(());
            }
        };
        let claims = TokenVerifier::new(credentials()).verify(&token, now).unwrap();
        prop_assert_eq!(&claims.grants, &grants);
        prop_assert_eq!(claims.issuer, "APIprop");
        prop_assert_eq!(claims.not_before, Some(now));
        prop_assert_eq!(claims.expires_at, Some(now + ttl));
    }

    #[test]
    fn verification_never_panics_on_any_text(token in any::<String>(), now in any::<u64>()) {
        let verifier = TokenVerifier::new(credentials());
        if let Err(error) = verifier.verify(&token, now) {
            let text = format!("{error} {error:?}");
            prop_assert!(!text.contains(SECRET), "{}", text);
        }
    }

    /// Three base64url-looking segments reach further than arbitrary text.
    #[test]
    fn verification_never_panics_on_token_shaped_text(
        segments in vec("[A-Za-z0-9_=-]{0,60}", 3),
        now in any::<u64>(),
    ) {
        let token = segments.join(".");
        let verifier = TokenVerifier::new(credentials()).with_leeway(u64::MAX);
        prop_assert!(verifier.verify(&token, now).is_err());
    }

    #[test]
    fn webhook_verification_never_panics(
        body in vec(any::<u8>(), 0..256),
        authorization in any::<String>(),
        now in any::<u64>(),
    ) {
        let verifier = TokenVerifier::new(credentials());
        prop_assert!(verifier.verify_webhook(&body, &authorization, now).is_err());
        // The same body, correctly signed, verifies; one flipped bit does not.
        let signed = AccessToken::new()
            .with_sha256(body_sha256(&body))
            .sign(&credentials(), 1_000)
            .unwrap();
        prop_assert!(verifier.verify_webhook(&body, &signed, 1_000).is_ok());
        let mut altered = body.clone();
        altered.push(0);
        prop_assert_eq!(
            verifier.verify_webhook(&altered, &signed, 1_000),
            Err(Error::BodyHashMismatch)
        );
    }
}
