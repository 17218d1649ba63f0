//! Minting and verification: vectors, round trips and every rejection path.

// Tests and benches run on std; the no_std lints are for the library.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use livekit_auth::{
    AccessToken, AgentEndpointGrants, AgentGrants, AgentThreadGrants, ClaimGrants, Credentials,
    DEFAULT_MAX_TOKEN_LEN, Error, InferenceGrants, ObservabilityGrants, ParticipantKind, Segment,
    SipGrants, TokenVerifier, TrackSource, VideoGrants, body_sha256, decode_unverified,
};
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;

fn credentials() -> Credentials {
    Credentials::new("APIkey", "secret-secret-secret-secret-0123").unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs arbitrary header and payload text with HS256, as a hostile or foreign minter might.
fn sign_raw(header: &str, payload: &str, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

fn segment_json(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn every_grant() -> AccessToken {
    let mut config = serde_json::Map::new();
    config.insert("emptyTimeout".into(), json!(600));
    config.insert(
        "agents".into(),
        json!([{"agentName": "helper", "metadata": "{\"lang\":\"en\"}"}]),
    );
    AccessToken::new()
        .with_identity("alice")
        .with_name("Alice A.")
        .with_kind(ParticipantKind::Agent)
        .with_metadata("{\"role\":\"host\"}")
        .with_attribute("team", "blue")
        .with_attribute("emoji", "🎥")
        .with_sha256("abc=")
        .with_room_preset("preset-1")
        .with_room_config(config)
        .with_ttl(Duration::from_secs(600))
        .with_video_grants(VideoGrants {
            room_create: true,
            room_list: true,
            room_record: true,
            room_admin: true,
            room_join: true,
            room: "my-room".into(),
            destination_room: "other-room".into(),
            can_publish: Some(false),
            can_subscribe: Some(true),
            can_publish_data: Some(true),
            can_publish_sources: vec![TrackSource::Camera, TrackSource::ScreenShareAudio],
            can_update_own_metadata: Some(true),
            ingress_admin: true,
            hidden: true,
            recorder: true,
            agent: true,
            can_manage_agent_session: Some(true),
            can_subscribe_metrics: Some(false),
        })
        .with_sip_grants(SipGrants {
            admin: true,
            call: true,
        })
        .with_inference_grants(InferenceGrants { perform: true })
        .with_observability_grants(ObservabilityGrants { write: true })
        .with_agent_grants(AgentGrants {
            admin: true,
            simulation_admin: true,
            database_admin: true,
            dispatch_admin: true,
        })
        .with_agent_endpoint_grants(AgentEndpointGrants {
            call: true,
            agent_name: "support".into(),
            deployment: "prod".into(),
        })
        .with_agent_thread_grants(AgentThreadGrants {
            all: false,
            scope: "team-a".into(),
            thread_ids: vec!["t1".into(), "t2".into()],
            list: true,
            create: true,
            write: true,
            read: true,
            delete: true,
        })
}

#[test]
fn rfc7515_appendix_a1_hs256_vector() {
    // RFC 7515, Appendix A.1: the JWK `k` and the compact serialization it signs.
    let key = URL_SAFE_NO_PAD
        .decode(
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
        )
        .unwrap();
    let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\
        .eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
        .dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let verifier = TokenVerifier::new(Credentials::new("joe", &key).unwrap());
    let claims = verifier.verify(token, 1_300_819_380).unwrap();
    assert_eq!(claims.issuer, "joe");
    assert_eq!(claims.expires_at, Some(1_300_819_380));
    assert_eq!(claims.not_before, None);

    // One flipped signature bit, and the same token under a different key, both fail.
    let tampered = token.replace("K27uh", "K27vh");
    assert_eq!(
        verifier.verify(&tampered, 1_300_819_380),
        Err(Error::InvalidSignature)
    );
    let other = TokenVerifier::new(Credentials::new("joe", b"not the key").unwrap());
    assert_eq!(
        other.verify(token, 1_300_819_380),
        Err(Error::InvalidSignature)
    );
}

#[test]
fn minted_token_has_the_reference_header_and_exact_payload() {
    let token = AccessToken::new()
        .with_identity("alice")
        .with_video_grants(VideoGrants::join("my-room"))
        .sign(&credentials(), NOW)
        .unwrap();
    assert_eq!(
        segment_json(&token, 0),
        json!({"alg": "HS256", "typ": "JWT"})
    );
    assert_eq!(
        segment_json(&token, 1),
        json!({
            "iss": "APIkey",
            "sub": "alice",
            "nbf": NOW,
            "exp": NOW + 6 * 3600,
            "video": {"roomJoin": true, "room": "my-room"},
        })
    );
}

#[test]
fn every_claim_uses_the_servers_json_names() {
    let token = every_grant().sign(&credentials(), NOW).unwrap();
    let payload = segment_json(&token, 1);
    assert_eq!(
        payload,
        json!({
            "iss": "APIkey",
            "nbf": NOW,
            "exp": NOW + 600,
            "sub": "alice",
            "name": "Alice A.",
            "kind": "agent",
            "metadata": "{\"role\":\"host\"}",
            "attributes": {"emoji": "🎥", "team": "blue"},
            "sha256": "abc=",
            "roomPreset": "preset-1",
            "roomConfig": {
                "agents": [{"agentName": "helper", "metadata": "{\"lang\":\"en\"}"}],
                "emptyTimeout": 600,
            },
            "video": {
                "roomCreate": true, "roomList": true, "roomRecord": true, "roomAdmin": true,
                "roomJoin": true, "room": "my-room", "destinationRoom": "other-room",
                "canPublish": false, "canSubscribe": true, "canPublishData": true,
                "canPublishSources": ["camera", "screen_share_audio"],
                "canUpdateOwnMetadata": true, "ingressAdmin": true, "hidden": true,
                "recorder": true, "agent": true, "canManageAgentSession": true,
                "canSubscribeMetrics": false,
            },
            "sip": {"admin": true, "call": true},
            "inference": {"perform": true},
            "observability": {"write": true},
            "agent": {
                "admin": true, "simulationAdmin": true, "databaseAdmin": true,
                "dispatchAdmin": true,
            },
            "agentEndpoint": {"call": true, "agentName": "support", "deployment": "prod"},
            "agentThread": {
                "scope": "team-a", "threadIds": ["t1", "t2"], "list": true, "create": true,
                "write": true, "read": true, "delete": true,
            },
        })
    );
}

#[test]
fn mint_verify_round_trip_keeps_every_claim() {
    let token = every_grant();
    let jwt = token.sign(&credentials(), NOW).unwrap();
    let claims = TokenVerifier::new(credentials()).verify(&jwt, NOW).unwrap();
    assert_eq!(&claims.grants, token.grants());
    assert_eq!(claims.issuer, "APIkey");
    assert_eq!(claims.not_before, Some(NOW));
    assert_eq!(claims.expires_at, Some(NOW + 600));
}

#[test]
fn unset_grants_are_omitted() {
    let jwt = AccessToken::new()
        .with_video_grants(VideoGrants::default())
        .sign(&credentials(), NOW)
        .unwrap();
    assert_eq!(
        segment_json(&jwt, 1),
        json!({"iss": "APIkey", "nbf": NOW, "exp": NOW + 21_600, "video": {}})
    );
}

#[test]
fn minting_rejects_bad_input_with_clear_errors() {
    assert_eq!(Credentials::new("", "s").unwrap_err(), Error::EmptyApiKey);
    assert_eq!(
        Credentials::new("k", "").unwrap_err(),
        Error::EmptyApiSecret
    );
    let credentials = credentials();
    let zero = AccessToken::new().with_ttl(Duration::from_millis(999));
    assert_eq!(zero.sign(&credentials, NOW), Err(Error::ZeroTtl));
    let join = AccessToken::new().with_video_grants(VideoGrants::join("room"));
    assert_eq!(
        join.sign(&credentials, NOW),
        Err(Error::JoinWithoutIdentity)
    );
    let no_room = AccessToken::new()
        .with_identity("alice")
        .with_video_grants(VideoGrants {
            room_join: true,
            ..VideoGrants::default()
        });
    assert_eq!(no_room.sign(&credentials, NOW), Err(Error::JoinWithoutRoom));
    assert_eq!(
        AccessToken::new().sign(&credentials, u64::MAX),
        Err(Error::TimeOverflow)
    );
    assert_eq!(
        Error::JoinWithoutIdentity.to_string(),
        "identity must be set when the token grants roomJoin"
    );
}

#[test]
fn expiry_and_not_before_honour_the_leeway() {
    let jwt = AccessToken::new()
        .with_ttl(Duration::from_secs(100))
        .sign(&credentials(), NOW)
        .unwrap();
    let verifier = TokenVerifier::new(credentials());
    assert!(verifier.verify(&jwt, NOW + 160).is_ok());
    assert_eq!(
        verifier.verify(&jwt, NOW + 161),
        Err(Error::Expired {
            exp: NOW + 100,
            now: NOW + 161
        })
    );
    assert!(verifier.verify(&jwt, NOW - 60).is_ok());
    assert_eq!(
        verifier.verify(&jwt, NOW - 61),
        Err(Error::NotYetValid {
            nbf: NOW,
            now: NOW - 61
        })
    );
    let strict = TokenVerifier::new(credentials()).with_leeway(0);
    assert!(matches!(
        strict.verify(&jwt, NOW + 101),
        Err(Error::Expired { .. })
    ));
}

#[test]
fn foreign_algorithms_and_unsigned_tokens_are_rejected() {
    let secret = b"secret-secret-secret-secret-0123";
    let payload = format!(r#"{{"iss":"APIkey","exp":{}}}"#, NOW + 60);
    let verifier = TokenVerifier::new(credentials());

    let none = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(payload.as_bytes()));
    assert_eq!(
        verifier.verify(&none, NOW),
        Err(Error::UnsupportedAlgorithm("none".into()))
    );
    // Signed correctly with the right secret, but claiming another algorithm.
    for alg in ["HS384", "HS512", "RS256", "ES256", "hs256"] {
        let token = sign_raw(&format!(r#"{{"alg":"{alg}"}}"#), &payload, secret);
        assert_eq!(
            verifier.verify(&token, NOW),
            Err(Error::UnsupportedAlgorithm(alg.into()))
        );
    }
    let no_alg = sign_raw(r#"{"typ":"JWT"}"#, &payload, secret);
    assert_eq!(
        verifier.verify(&no_alg, NOW),
        Err(Error::UnsupportedAlgorithm(String::new()))
    );
    // The Node SDK's header (no typ) is accepted.
    let node_style = sign_raw(r#"{"alg":"HS256"}"#, &payload, secret);
    assert!(verifier.verify(&node_style, NOW).is_ok());

    let good = sign_raw(r#"{"alg":"HS256"}"#, &payload, secret);
    let stripped = &good[..good.rfind('.').unwrap() + 1];
    assert_eq!(verifier.verify(stripped, NOW), Err(Error::InvalidSignature));
    let other_key = sign_raw(r#"{"alg":"HS256"}"#, &payload, b"another secret");
    assert_eq!(
        verifier.verify(&other_key, NOW),
        Err(Error::InvalidSignature)
    );
}

#[test]
fn registered_claims_are_enforced() {
    let secret = b"secret-secret-secret-secret-0123";
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let verifier = TokenVerifier::new(credentials());

    let no_exp = sign_raw(header, r#"{"iss":"APIkey","sub":"a"}"#, secret);
    assert_eq!(verifier.verify(&no_exp, NOW), Err(Error::MissingExpiry));
    let no_iss = sign_raw(header, &format!(r#"{{"exp":{}}}"#, NOW + 10), secret);
    assert_eq!(verifier.verify(&no_iss, NOW), Err(Error::MissingIssuer));
    let other_issuer = sign_raw(
        header,
        &format!(r#"{{"iss":"APIother","exp":{}}}"#, NOW + 10),
        secret,
    );
    assert_eq!(
        verifier.verify(&other_issuer, NOW),
        Err(Error::UnknownIssuer("APIother".into()))
    );
    let future = sign_raw(
        header,
        &format!(
            r#"{{"iss":"APIkey","nbf":{},"exp":{}}}"#,
            NOW + 3600,
            NOW + 7200
        ),
        secret,
    );
    assert!(matches!(
        verifier.verify(&future, NOW),
        Err(Error::NotYetValid { .. })
    ));
    let negative = sign_raw(header, r#"{"iss":"APIkey","exp":-5}"#, secret);
    assert!(matches!(
        verifier.verify(&negative, NOW),
        Err(Error::InvalidJson {
            segment: Segment::Payload,
            ..
        })
    ));
    // Fractional seconds, as some minters write them, are read as whole seconds.
    let fractional = sign_raw(
        header,
        &format!(r#"{{"iss":"APIkey","exp":{}.75}}"#, NOW + 10),
        secret,
    );
    assert_eq!(
        verifier.verify(&fractional, NOW).unwrap().expires_at,
        Some(NOW + 10)
    );
}

#[test]
fn malformed_tokens_get_distinct_errors() {
    let verifier = TokenVerifier::new(credentials());
    let good = AccessToken::new().sign(&credentials(), NOW).unwrap();
    let parts: Vec<&str> = good.split('.').collect();

    assert_eq!(
        verifier.verify("", NOW),
        Err(Error::MalformedToken { segments: 1 })
    );
    assert_eq!(
        verifier.verify("a.b", NOW),
        Err(Error::MalformedToken { segments: 2 })
    );
    assert_eq!(
        verifier.verify(&format!("{good}.extra"), NOW),
        Err(Error::MalformedToken { segments: 4 })
    );
    assert_eq!(
        verifier.verify(&format!("{}.{}!.{}", parts[0], parts[1], parts[2]), NOW),
        Err(Error::InvalidBase64(Segment::Payload))
    );
    assert_eq!(
        verifier.verify(&format!("%%.{}.{}", parts[1], parts[2]), NOW),
        Err(Error::InvalidBase64(Segment::Header))
    );
    assert_eq!(
        verifier.verify(&format!("{}.{}.%%", parts[0], parts[1]), NOW),
        Err(Error::InvalidBase64(Segment::Signature))
    );
    assert!(matches!(
        verifier.verify(&format!("{}.{}.{}", parts[0], b64(b"[1,2"), parts[2]), NOW),
        Err(Error::InvalidJson {
            segment: Segment::Payload,
            ..
        })
    ));
    assert!(matches!(
        verifier.verify(&format!("{}.{}.{}", b64(b"{"), parts[1], parts[2]), NOW),
        Err(Error::InvalidJson {
            segment: Segment::Header,
            ..
        })
    ));
    let small = TokenVerifier::new(credentials()).with_max_token_len(100);
    assert_eq!(
        small.verify(&good, NOW),
        Err(Error::TokenTooLarge {
            len: good.len(),
            max: 100
        })
    );
}

#[test]
fn decoding_ignores_unknown_claims_and_reads_snake_case_and_null() {
    let secret = b"secret-secret-secret-secret-0123";
    let payload = json!({
        "iss": "APIkey", "exp": NOW + 10, "sub": "bob", "jti": "x", "futureClaim": {"a": [1]},
        "name": null, "kind": "robot", "kindDetails": ["cloud_agent"],
        "video": {"room_join": true, "room": "r", "can_publish": false, "newGrant": true,
                  "canPublishSources": ["CAMERA", "hologram"], "hidden": null},
        "sip": {"admin": true, "future": 1},
        "agent_thread": {"thread_ids": ["t"]},
        "room_config": {"name": "r", "departureTimeout": 20},
    });
    let token = sign_raw(r#"{"alg":"HS256"}"#, &payload.to_string(), secret);
    let claims = TokenVerifier::new(credentials())
        .verify(&token, NOW)
        .unwrap();
    let grants: &ClaimGrants = &claims.grants;
    assert_eq!(grants.identity, "bob");
    assert_eq!(grants.name, "");
    assert_eq!(grants.kind, Some(ParticipantKind::Other("robot".into())));
    assert_eq!(grants.kind_details, ["cloud_agent"]);
    let video = grants.video.as_ref().unwrap();
    assert!(video.room_join);
    assert_eq!(video.can_publish, Some(false));
    assert_eq!(
        video.can_publish_sources,
        [TrackSource::Camera, TrackSource::Other("hologram".into())]
    );
    assert!(!video.hidden);
    assert!(grants.sip.as_ref().unwrap().admin);
    assert_eq!(grants.agent_thread.as_ref().unwrap().thread_ids, ["t"]);
    assert_eq!(grants.room_config.as_ref().unwrap()["departureTimeout"], 20);
    // Unknown values survive a re-encode verbatim.
    let reencoded = AccessToken::from_grants(grants.clone())
        .sign(&credentials(), NOW)
        .unwrap();
    let video_json = &segment_json(&reencoded, 1)["video"];
    assert_eq!(
        video_json["canPublishSources"],
        json!(["camera", "hologram"])
    );
    assert_eq!(segment_json(&reencoded, 1)["kind"], "robot");
}

#[test]
fn keys_are_chosen_by_issuer() {
    let first = Credentials::new("APIfirst", "first-secret").unwrap();
    let second = Credentials::new("APIsecond", "second-secret").unwrap();
    let jwt = AccessToken::new().sign(&second, NOW).unwrap();

    let list = TokenVerifier::new(vec![first.clone(), second.clone()]);
    assert_eq!(list.verify(&jwt, NOW).unwrap().issuer, "APIsecond");
    let map: BTreeMap<String, Credentials> = [first.clone(), second]
        .into_iter()
        .map(|c| (c.api_key().to_owned(), c))
        .collect();
    assert!(TokenVerifier::new(&map).verify(&jwt, NOW).is_ok());
    assert_eq!(
        TokenVerifier::new(first).verify(&jwt, NOW),
        Err(Error::UnknownIssuer("APIsecond".into()))
    );
}

#[test]
fn decode_unverified_reads_without_checking() {
    let jwt = AccessToken::new()
        .with_identity("eve")
        .with_ttl(Duration::from_secs(1))
        .sign(&Credentials::new("APIunknown", "whatever").unwrap(), 10)
        .unwrap();
    let claims = decode_unverified(&jwt).unwrap();
    assert_eq!(claims.grants.identity, "eve");
    assert_eq!(claims.issuer, "APIunknown");
    assert_eq!(claims.expires_at, Some(11));
}

#[test]
fn credentials_never_show_the_secret() {
    let secret = "do-not-print-me-0123456789";
    let credentials = Credentials::new("APIkey", secret).unwrap();
    let debug = format!(
        "{credentials:?} {:?}",
        TokenVerifier::new(credentials.clone())
    );
    assert!(debug.contains("APIkey"));
    assert!(!debug.contains(secret));
    let jwt = AccessToken::new().sign(&credentials, NOW).unwrap();
    let error = TokenVerifier::new(Credentials::new("APIkey", "wrong").unwrap())
        .verify(&jwt, NOW)
        .unwrap_err();
    assert!(!format!("{error} {error:?}").contains(secret));
}

#[test]
fn webhook_signature_checks_the_body_hash() {
    let credentials = credentials();
    let body = br#"{"event":"room_started","room":{"name":"r"},"id":"EV_1","createdAt":"1"}"#;
    let hash = body_sha256(body);
    assert_eq!(
        hash,
        STANDARD.encode(<sha2::Sha256 as sha2::Digest>::digest(body))
    );
    let jwt = AccessToken::new()
        .with_sha256(hash)
        .with_ttl(Duration::from_secs(300))
        .sign(&credentials, NOW)
        .unwrap();
    let verifier = TokenVerifier::new(credentials.clone());

    for header in [
        jwt.clone(),
        format!("Bearer {jwt}"),
        format!("bearer  {jwt} "),
    ] {
        assert!(
            verifier.verify_webhook(body, &header, NOW).is_ok(),
            "{header}"
        );
    }
    let mut altered = body.to_vec();
    altered[3] ^= 1;
    assert_eq!(
        verifier.verify_webhook(&altered, &jwt, NOW),
        Err(Error::BodyHashMismatch)
    );
    assert_eq!(
        verifier.verify_webhook(body, "", NOW),
        Err(Error::MissingAuthorization)
    );
    assert_eq!(
        verifier.verify_webhook(body, "Bearer ", NOW),
        Err(Error::MissingAuthorization)
    );
    let unhashed = AccessToken::new().sign(&credentials, NOW).unwrap();
    assert_eq!(
        verifier.verify_webhook(body, &unhashed, NOW),
        Err(Error::MissingBodyHash)
    );
    let garbage_hash = AccessToken::new()
        .with_sha256("not base64!")
        .sign(&credentials, NOW)
        .unwrap();
    assert_eq!(
        verifier.verify_webhook(body, &garbage_hash, NOW),
        Err(Error::BodyHashMismatch)
    );
    // A bad token is reported as such, not as a hash problem.
    let forged = AccessToken::new()
        .with_sha256(body_sha256(body))
        .sign(&Credentials::new("APIkey", "guessed").unwrap(), NOW)
        .unwrap();
    assert_eq!(
        verifier.verify_webhook(body, &format!("Bearer {forged}"), NOW),
        Err(Error::InvalidSignature)
    );
    assert!(matches!(
        verifier.verify_webhook(body, &jwt, NOW + 1000),
        Err(Error::Expired { .. })
    ));
}

/// The classic attacks on JWT verifiers, each refused with its own error.
#[test]
fn hostile_tokens_are_rejected_with_the_right_error() {
    let secret = b"secret-secret-secret-secret-0123";
    let payload = format!(r#"{{"iss":"APIkey","sub":"mallory","exp":{}}}"#, NOW + 60);
    let verifier = TokenVerifier::new(credentials());

    // `alg: none`, in any spelling, with or without a (valid!) signature attached.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let unsigned = format!("{}.{}.", b64(header.as_bytes()), b64(payload.as_bytes()));
        assert_eq!(
            verifier.verify(&unsigned, NOW),
            Err(Error::UnsupportedAlgorithm(alg.into()))
        );
        assert_eq!(
            verifier.verify(&sign_raw(&header, &payload, secret), NOW),
            Err(Error::UnsupportedAlgorithm(alg.into()))
        );
    }
    // A duplicated `alg` cannot smuggle `none` past the check.
    let smuggled = sign_raw(r#"{"alg":"HS256","alg":"none"}"#, &payload, secret);
    assert_eq!(
        verifier.verify(&smuggled, NOW),
        Err(Error::UnsupportedAlgorithm("none".into()))
    );
    // `alg` of the wrong type, or a header that is not an object.
    for header in [
        r#"{"alg":256}"#,
        r#"{"alg":["HS256"]}"#,
        r#""HS256""#,
        "null",
    ] {
        assert!(
            matches!(
                verifier.verify(&sign_raw(header, &payload, secret), NOW),
                Err(Error::InvalidJson {
                    segment: Segment::Header,
                    ..
                })
            ),
            "{header}"
        );
    }
    assert_eq!(
        verifier.verify(&sign_raw(r#"{"alg":null}"#, &payload, secret), NOW),
        Err(Error::UnsupportedAlgorithm(String::new()))
    );

    // Algorithm confusion: an RS256/ES256/PS256 token whose "signature" is an HMAC keyed
    // with public key text, the way a verifier that trusts the header can be fooled.
    let public_key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";
    for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
        let token = sign_raw(
            &format!(r#"{{"alg":"{alg}"}}"#),
            &payload,
            public_key.as_bytes(),
        );
        assert_eq!(
            verifier.verify(&token, NOW),
            Err(Error::UnsupportedAlgorithm(alg.into()))
        );
    }
    // Header hints never choose the key: `kid`, `jku` and `jwk` are ignored, the key is
    // always the issuer's.
    let hinted = sign_raw(
        r#"{"alg":"HS256","kid":"attacker","jku":"https://attacker.invalid/keys","jwk":{"k":"YQ"}}"#,
        &payload,
        b"a",
    );
    assert_eq!(verifier.verify(&hinted, NOW), Err(Error::InvalidSignature));

    // The signature stripped, truncated, extended, or replaced by another token's.
    let good = sign_raw(r#"{"alg":"HS256"}"#, &payload, secret);
    assert!(verifier.verify(&good, NOW).is_ok());
    let (signing_input, signature) = good.rsplit_once('.').unwrap();
    assert_eq!(
        verifier.verify(signing_input, NOW),
        Err(Error::MalformedToken { segments: 2 })
    );
    assert_eq!(
        verifier.verify(&format!("{signing_input}."), NOW),
        Err(Error::InvalidSignature)
    );
    assert_eq!(
        verifier.verify(&format!("{signing_input}.{}", &signature[..20]), NOW),
        Err(Error::InvalidSignature)
    );
    assert_eq!(
        verifier.verify(&format!("{signing_input}.{signature}AAAA"), NOW),
        Err(Error::InvalidSignature)
    );
    let other = sign_raw(r#"{"alg":"HS256"}"#, r#"{"iss":"APIkey","exp":1}"#, secret);
    let other_signature = other.rsplit_once('.').unwrap().1;
    assert_eq!(
        verifier.verify(&format!("{signing_input}.{other_signature}"), NOW),
        Err(Error::InvalidSignature)
    );

    // A valid signature under another key, including an empty one and another issuer's.
    for key in [
        &b""[..],
        b"secret-secret-secret-secret-0124",
        b"other-issuers-secret",
    ] {
        assert_eq!(
            verifier.verify(&sign_raw(r#"{"alg":"HS256"}"#, &payload, key), NOW),
            Err(Error::InvalidSignature)
        );
    }
    let two_keys = TokenVerifier::new(vec![
        credentials(),
        Credentials::new("APIother", "other-issuers-secret").unwrap(),
    ]);
    let claims_other_issuer_with_our_key = sign_raw(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"iss":"APIother","exp":{}}}"#, NOW + 60),
        secret,
    );
    assert_eq!(
        two_keys.verify(&claims_other_issuer_with_our_key, NOW),
        Err(Error::InvalidSignature)
    );

    // `exp` missing or null, `nbf` in the future, a token for another issuer.
    let header = r#"{"alg":"HS256"}"#;
    for claims in [r#"{"iss":"APIkey"}"#, r#"{"iss":"APIkey","exp":null}"#] {
        assert_eq!(
            verifier.verify(&sign_raw(header, claims, secret), NOW),
            Err(Error::MissingExpiry)
        );
    }
    let future = format!(
        r#"{{"iss":"APIkey","nbf":{},"exp":{}}}"#,
        NOW + 61,
        NOW + 600
    );
    assert_eq!(
        verifier.verify(&sign_raw(header, &future, secret), NOW),
        Err(Error::NotYetValid {
            nbf: NOW + 61,
            now: NOW
        })
    );
    let foreign = format!(r#"{{"iss":"APIelsewhere","exp":{}}}"#, NOW + 60);
    assert_eq!(
        verifier.verify(&sign_raw(header, &foreign, secret), NOW),
        Err(Error::UnknownIssuer("APIelsewhere".into()))
    );
    // An empty issuer names no key.
    let anonymous = format!(r#"{{"iss":"","exp":{}}}"#, NOW + 60);
    assert_eq!(
        verifier.verify(&sign_raw(header, &anonymous, secret), NOW),
        Err(Error::MissingIssuer)
    );

    // An empty secret is refused up front, so no verifier can ever hold one.
    assert_eq!(
        Credentials::new("APIkey", "").unwrap_err(),
        Error::EmptyApiSecret
    );
    assert_eq!(
        Credentials::new("APIkey", b"").unwrap_err(),
        Error::EmptyApiSecret
    );
}

/// Size and depth limits: an oversized token is refused before it is decoded, and deeply
/// nested JSON in a payload is an error, never a stack overflow.
#[test]
fn oversized_and_deeply_nested_tokens_are_refused() {
    let verifier = TokenVerifier::new(credentials());
    let huge = "a".repeat(DEFAULT_MAX_TOKEN_LEN + 1);
    assert_eq!(
        verifier.verify(&huge, NOW),
        Err(Error::TokenTooLarge {
            len: DEFAULT_MAX_TOKEN_LEN + 1,
            max: DEFAULT_MAX_TOKEN_LEN
        })
    );
    assert_eq!(
        decode_unverified(&huge),
        Err(Error::TokenTooLarge {
            len: DEFAULT_MAX_TOKEN_LEN + 1,
            max: DEFAULT_MAX_TOKEN_LEN
        })
    );
    // A well-formed, correctly signed token just over the limit is refused all the same.
    let padded = AccessToken::new()
        .with_metadata("m".repeat(DEFAULT_MAX_TOKEN_LEN))
        .sign(&credentials(), NOW)
        .unwrap();
    assert_eq!(
        verifier.verify(&padded, NOW),
        Err(Error::TokenTooLarge {
            len: padded.len(),
            max: DEFAULT_MAX_TOKEN_LEN
        })
    );
    let body = b"{}";
    assert_eq!(
        verifier.verify_webhook(body, &format!("Bearer {huge}"), NOW),
        Err(Error::TokenTooLarge {
            len: DEFAULT_MAX_TOKEN_LEN + 1,
            max: DEFAULT_MAX_TOKEN_LEN
        })
    );

    // Thousands of levels of nesting fit under the size limit. Where the value is kept (the room
    // configuration) it is refused at serde_json's depth limit; where it is skipped (a claim
    // this version does not know, an unknown header field) serde_json skips it without
    // recursing, so the token is read as if the claim were absent. Neither overflows.
    let secret = b"secret-secret-secret-secret-0123";
    let arrays = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(7_000), "}".repeat(7_000));
    let plain = format!(r#"{{"iss":"APIkey","exp":{}}}"#, NOW + 60);
    let expected = verifier
        .verify(&sign_raw(r#"{"alg":"HS256"}"#, &plain, secret), NOW)
        .unwrap();
    for nested in [&arrays, &objects] {
        let kept = format!(
            r#"{{"iss":"APIkey","exp":{},"roomConfig":{{"a":{nested}}}}}"#,
            NOW + 60
        );
        let token = sign_raw(r#"{"alg":"HS256"}"#, &kept, secret);
        assert!(token.len() <= DEFAULT_MAX_TOKEN_LEN, "{}", token.len());
        match verifier.verify(&token, NOW) {
            Err(Error::InvalidJson {
                segment: Segment::Payload,
                detail,
            }) => assert!(detail.contains("recursion limit"), "{detail}"),
            other => panic!("expected a json error, got {other:?}"),
        }
        let skipped = format!(
            r#"{{"iss":"APIkey","exp":{},"unknownClaim":{nested}}}"#,
            NOW + 60
        );
        let token = sign_raw(r#"{"alg":"HS256"}"#, &skipped, secret);
        assert_eq!(verifier.verify(&token, NOW), Ok(expected.clone()));
        let header = format!(r#"{{"alg":"HS256","x":{nested}}}"#);
        assert_eq!(
            verifier.verify(&sign_raw(&header, &plain, secret), NOW),
            Ok(expected.clone())
        );
    }
}
