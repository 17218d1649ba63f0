//! Response parsing over every body shape a server or a proxy produces.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::time::Duration;

use livekit_auth::Credentials;
use livekit_core::rpc::{self, Rpc};
use livekit_core::{Client, Error, ServerError, TwirpCode};
use livekit_proto::{Message as _, Room};

fn client() -> Client {
    Client::new(
        "http://127.0.0.1:7880",
        Credentials::new("devkey", "secret").unwrap(),
    )
    .unwrap()
}

fn respond(status: u16, content_type: Option<&str>, body: &[u8]) -> http::Response<Vec<u8>> {
    let mut builder = http::Response::builder().status(status);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body.to_vec()).unwrap()
}

fn parse<R: Rpc>(response: &http::Response<Vec<u8>>) -> Result<R::Response, Error> {
    client().parse_response::<R, _>(response, "req-7")
}

fn server_error<R: Rpc>(response: &http::Response<Vec<u8>>) -> ServerError {
    match parse::<R>(response) {
        Err(Error::Server(error)) => *error,
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[test]
fn a_200_decodes_the_message() {
    let room = Room {
        name: "r".into(),
        num_participants: 3,
        ..Room::default()
    };
    let response = respond(200, Some("application/protobuf"), &room.encode_to_vec());
    assert_eq!(parse::<rpc::CreateRoom>(&response).unwrap(), room);
    // An empty body is the empty message, which is valid protobuf.
    let empty = respond(200, None, b"");
    assert_eq!(parse::<rpc::CreateRoom>(&empty).unwrap(), Room::default());
}

/// `parse_response_view` gives what `parse_response` gives, borrowed: the same message, the
/// same server error, a decode error with the same bytes.
#[cfg(feature = "view")]
#[test]
fn views_parse_as_messages_do() {
    use livekit_proto::{ListParticipantsResponse, Message as _, ParticipantInfo};

    let listing = ListParticipantsResponse {
        participants: (0..3)
            .map(|index| ParticipantInfo {
                identity: format!("p-{index}"),
                attributes: [("team".to_owned(), "blue".to_owned())].into(),
                ..ParticipantInfo::default()
            })
            .collect(),
    };
    let body = listing.encode_to_vec();
    let responses = [
        respond(200, Some("application/protobuf"), &body),
        respond(200, None, &body[..body.len() - 2]),
        respond(200, None, b"<html>captive portal</html>"),
        respond(
            404,
            Some("application/json"),
            br#"{"code":"not_found","msg":"requested room does not exist"}"#,
        ),
        respond(502, Some("text/html"), b"<html>bad gateway</html>"),
    ];
    for response in &responses {
        let owned = parse::<rpc::ListParticipants>(response);
        let viewed = client().parse_response_view::<rpc::ListParticipants, _>(response, "req-7");
        match (owned, viewed) {
            (Ok(message), Ok(view)) => {
                assert_eq!(view.to_message(), message);
                // Borrowed from the response body, not copied.
                let identity = view.participants[0].identity.as_ptr();
                assert!(response.body().as_ptr_range().contains(&identity));
            }
            (Err(Error::Decode(owned)), Err(Error::Decode(viewed))) => {
                assert_eq!((owned.rpc, &owned.body), (viewed.rpc, &viewed.body));
            }
            (Err(Error::Server(owned)), Err(Error::Server(viewed))) => {
                assert_eq!(owned, viewed);
            }
            (owned, viewed) => panic!("parse_response: {owned:?}\nparse_response_view: {viewed:?}"),
        }
    }
    let view = client()
        .parse_response_view::<rpc::ListParticipants, _>(&responses[0], "req-7")
        .unwrap();
    assert_eq!(view.participants.len(), 3);
    assert_eq!(view.participants[2].identity, "p-2");
    assert_eq!(view.participants[2].attributes.get("team"), Some(&"blue"));
}

#[test]
fn a_truncated_body_is_a_decode_error_that_keeps_the_bytes() {
    let room = Room {
        name: "a-long-room-name".into(),
        ..Room::default()
    };
    let mut body = room.encode_to_vec();
    body.truncate(body.len() - 3);
    match parse::<rpc::CreateRoom>(&respond(200, None, &body)) {
        Err(Error::Decode(error)) => {
            assert_eq!(error.body, body);
            assert_eq!(error.rpc, "RoomService/CreateRoom");
            assert!(error.to_string().contains("cannot decode"));
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let html = respond(200, Some("text/html"), b"<html>captive portal</html>");
    assert!(matches!(
        parse::<rpc::ListRooms>(&html),
        Err(Error::Decode(_))
    ));
}

#[test]
fn twirp_errors_keep_status_code_message_meta_and_request_id() {
    let body = br#"{"code":"not_found","msg":"requested room does not exist","meta":{"room":"missing-room"}}"#;
    let error = server_error::<rpc::DeleteRoom>(&respond(404, Some("application/json"), body));
    assert_eq!(error.status, 404);
    assert_eq!(error.code, TwirpCode::NotFound);
    assert_eq!(error.message, "requested room does not exist");
    assert_eq!(error.meta["room"], "missing-room");
    assert_eq!(error.request_id.as_deref(), Some("req-7"));
    assert!(error.is_twirp);
    assert!(error.is_not_found());
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        "RoomService/DeleteRoom failed: 404 not_found: requested room does not exist [request req-7]"
    );
}

#[test]
fn a_twirp_body_is_read_whatever_the_content_type() {
    // The reference SDK loses this one: it reads `unknown` and an empty message.
    let body = br#"{"code": "invalid_argument", "msg": "identity is required"}"#;
    for content_type in [Some("text/plain"), None, Some("application/octet-stream")] {
        let error = server_error::<rpc::GetParticipant>(&respond(400, content_type, body));
        assert_eq!(error.code, TwirpCode::InvalidArgument);
        assert_eq!(error.message, "identity is required");
    }
}

#[test]
fn plain_text_html_and_empty_bodies_keep_the_status_and_the_text() {
    // The real server answers a bad token in plain text.
    let error = server_error::<rpc::ListRooms>(&respond(
        401,
        Some("text/plain; charset=utf-8"),
        b"invalid token: eyJ..., error: go-jose/go-jose/jwt: validation failed, token is expired (exp)",
    ));
    assert_eq!(error.status, 401);
    assert_eq!(error.code, TwirpCode::Unauthenticated);
    assert!(!error.is_twirp);
    assert!(error.message.starts_with("invalid token"));
    assert!(error.to_string().contains("check the api key and secret"));

    // The server echoes the rejected token; it never reaches the error.
    let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJkZXZrZXkifQ.osPoV6ETb-ZarUszb4ttqaMSU4ss8mNKOsyYOCU0GD0";
    let echoed = format!("invalid token: {token}, error: token signature is invalid");
    let error =
        server_error::<rpc::ListRooms>(&respond(401, Some("text/plain"), echoed.as_bytes()));
    assert_eq!(
        error.message,
        "invalid token: <redacted token>, error: token signature is invalid"
    );
    let twirp = format!(r#"{{"code":"unauthenticated","msg":"bad {token}"}}"#);
    let error = server_error::<rpc::ListRooms>(&respond(401, None, twirp.as_bytes()));
    assert_eq!(error.message, "bad <redacted token>");
    // Ordinary text that merely starts like a token is kept.
    let error = server_error::<rpc::ListRooms>(&respond(500, None, b"eyJust a word. Or two"));
    assert_eq!(error.message, "eyJust a word. Or two");

    let error = server_error::<rpc::ListEgress>(&respond(
        503,
        Some("text/plain"),
        b"upstream unavailable\n",
    ));
    assert_eq!(
        (error.status, error.code.clone()),
        (503, TwirpCode::Unavailable)
    );
    assert_eq!(error.message, "upstream unavailable");
    assert!(error.is_retryable());

    let html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let error = server_error::<rpc::ListRooms>(&respond(502, Some("text/html"), html));
    assert_eq!(error.status, 502);
    assert!(error.message.contains("502 Bad Gateway"));
    assert!(error.is_retryable());

    let error = server_error::<rpc::ListRooms>(&respond(500, None, b""));
    assert_eq!(
        (error.status, error.code.clone(), error.message.as_str()),
        (500, TwirpCode::Unknown, "")
    );

    let huge = vec![b'x'; 100_000];
    let error = server_error::<rpc::ListRooms>(&respond(500, None, &huge));
    assert!(error.message.len() <= 1024 + '…'.len_utf8());

    let invalid_utf8 = [0xff, 0xfe, b'o', b'k'];
    let error = server_error::<rpc::ListRooms>(&respond(500, None, &invalid_utf8));
    assert!(error.message.ends_with("ok"));
}

#[test]
fn unknown_rpcs_and_unknown_codes_say_what_they_are() {
    let error = server_error::<rpc::DialWhatsAppCall>(&respond(
        404,
        Some("text/plain; charset=utf-8"),
        b"404 page not found\n",
    ));
    assert!(error.is_unknown_rpc());
    assert!(error.to_string().contains("may be older than this sdk"));

    let bad_route = br#"{"code":"bad_route","msg":"no handler for path \"/twirp/livekit.SIP/CreateSIPTrunk\""}"#;
    let error = server_error::<rpc::ListRooms>(&respond(404, Some("application/json"), bad_route));
    assert!(error.is_unknown_rpc());

    let future = br#"{"code":"quota_exceeded","msg":"slow down"}"#;
    let error = server_error::<rpc::ListRooms>(&respond(429, Some("application/json"), future));
    assert_eq!(error.code, TwirpCode::Other("quota_exceeded".into()));
    assert_eq!(error.code.as_str(), "quota_exceeded");
}

#[test]
fn sip_failures_expose_the_sip_status() {
    let body = br#"{"code":"unavailable","msg":"sip call failed","meta":{"sip_status_code":"486","sip_status":"Busy Here","error_details":"callee busy"}}"#;
    let error =
        server_error::<rpc::CreateSIPParticipant>(&respond(503, Some("application/json"), body));
    assert_eq!(error.sip_status_code(), Some(486));
    assert_eq!(error.sip_status(), Some("Busy Here"));
    assert_eq!(error.meta["error_details"], "callee busy");
    assert!(error.to_string().contains("(sip 486 Busy Here)"));
}

#[test]
fn retry_after_is_kept() {
    let response = http::Response::builder()
        .status(503)
        .header("retry-after", "7")
        .body(br#"{"code":"unavailable","msg":"draining"}"#.to_vec())
        .unwrap();
    let error = server_error::<rpc::ListRooms>(&response);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    let unparseable = http::Response::builder()
        .status(503)
        .header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")
        .body(Vec::new())
        .unwrap();
    assert_eq!(
        server_error::<rpc::ListRooms>(&unparseable).retry_after,
        None
    );
}

#[test]
fn error_predicates() {
    let not_found = Error::from(server_error::<rpc::DeleteRoom>(&respond(
        404,
        None,
        br#"{"code":"not_found","msg":"x"}"#,
    )));
    assert!(not_found.is_not_found());
    assert!(!not_found.is_retryable());
    assert_eq!(not_found.status(), Some(404));
    assert!(not_found.server().is_some());
    // A 200 whose body is not the message: a decode error, which has no error status.
    let garbled = parse::<rpc::ListRooms>(&respond(200, None, b"\xff\xff")).unwrap_err();
    assert!(matches!(garbled, Error::Decode(_)), "{garbled:?}");
    assert_eq!(garbled.status(), None);
    assert!(garbled.server().is_none());
}

/// Configuration and build failures are variants to branch on, with the messages they had.
#[test]
fn configuration_and_build_errors_are_typed() {
    use livekit_core::{BaseUrl, BuildError, ConfigError, PresignedToken};

    match BaseUrl::parse(" ftp://example.test ") {
        Err(Error::Config(ConfigError::Url { url, reason })) => {
            assert_eq!(url, "ftp://example.test");
            assert_eq!(reason, "the scheme must be http, https, ws or wss");
        }
        other => panic!("expected a url error, got {other:?}"),
    }
    let error = BaseUrl::parse("https://user:pw@example.test").unwrap_err();
    assert_eq!(
        error.to_string(),
        "configuration error: invalid server url \"https://user:pw@example.test\": \
         credentials belong in the api key and secret, not the url"
    );
    match PresignedToken::new("  ") {
        Err(Error::Config(ConfigError::Token(message))) => {
            assert_eq!(message, "the pre-signed token is empty");
        }
        other => panic!("expected a token error, got {other:?}"),
    }
    let mut options = livekit_core::ClientOptions::default();
    options.service_token_ttl = Duration::from_secs(60);
    let credentials = Credentials::new("devkey", "secret").unwrap();
    let base = BaseUrl::parse("http://127.0.0.1:7880").unwrap();
    match Client::with_auth(base, livekit_core::Auth::Credentials(credentials), options) {
        Err(Error::Config(ConfigError::Option(message))) => {
            assert!(
                message.starts_with("service tokens must live at least 120 s"),
                "{message}"
            );
        }
        other => panic!("expected an option error, got {other:?}"),
    }

    // A request id no header can carry is refused while building, naming the header.
    let context = livekit_core::CallContext::new(1_800_000_000, "bad\nid");
    match client().build_request::<rpc::ListRooms>(&Default::default(), &context) {
        Err(Error::Build(BuildError::Header(header))) => assert_eq!(header, "request id"),
        other => panic!("expected a header error, got {other:?}"),
    }
    assert_eq!(
        BuildError::Header("request id").to_string(),
        "the request id is not a valid header value"
    );
}

#[test]
fn deeply_nested_error_bodies_are_read_as_text_without_overflow() {
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let body = format!(r#"{{"code":"internal","msg":"boom","meta":{{"a":{nested}}}}}"#);
    let error =
        server_error::<rpc::ListRooms>(&respond(500, Some("application/json"), body.as_bytes()));
    assert_eq!(error.status, 500);
    assert!(
        !error.is_twirp,
        "json too deep to read is not a twirp error"
    );
    assert_eq!(
        error.code,
        TwirpCode::Unknown,
        "what twirp infers from a bare 500"
    );
    assert!(
        error.message.starts_with(r#"{"code":"internal""#),
        "{}",
        error.message
    );
    assert!(
        error.message.len() <= 1024 + '…'.len_utf8(),
        "{}",
        error.message.len()
    );
    // A 200 whose body is deeply nested protobuf groups is a decode error, not a crash.
    let groups: Vec<u8> = std::iter::repeat_n(0x0b_u8, depth).collect();
    assert!(matches!(
        parse::<rpc::ListRooms>(&respond(200, None, &groups)),
        Err(Error::Decode(_))
    ));
}

#[test]
fn a_large_error_body_keeps_one_kib_of_text() {
    let page = format!("<html>{}</html>", "é".repeat(1 << 20));
    let error = server_error::<rpc::ListRooms>(&respond(502, Some("text/html"), page.as_bytes()));
    assert_eq!(error.status, 502);
    assert!(error.message.len() <= 1024 + '…'.len_utf8());
    assert!(error.message.ends_with('…'));
    assert!(error.message.starts_with("<html>é"));
}

/// A failed `PerformRpc` carries the participant's RPC error, parsed from the bodies
/// livekit-server v1.13.5 sends (captured against a real participant of the e2e tier).
#[test]
fn a_failed_perform_rpc_carries_the_rpc_error() {
    use livekit_core::RpcErrorCode;

    let cases: [(u16, &[u8], u32, RpcErrorCode, &str); 3] = [
        (
            400,
            br#"{"code":"invalid_argument","msg":"twirp error unknown: RpcError 1400: Method not supported at destination"}"#,
            1400,
            RpcErrorCode::UnsupportedMethod,
            "Method not supported at destination",
        ),
        (
            500,
            br#"{"code":"internal","msg":"twirp error unknown: RpcError 42: the method failed on purpose: data!"}"#,
            42,
            RpcErrorCode::Custom(42),
            "the method failed on purpose: data!",
        ),
        (
            408,
            br#"{"code":"canceled","msg":"twirp error unknown: RpcError 1502: Response timeout"}"#,
            1502,
            RpcErrorCode::ResponseTimeout,
            "Response timeout",
        ),
    ];
    for (status, body, number, code, message) in cases {
        let error =
            server_error::<rpc::PerformRpc>(&respond(status, Some("application/json"), body));
        assert_eq!(error.status, status);
        let rpc_error = error.rpc_error().unwrap_or_else(|| panic!("{error}"));
        assert_eq!(rpc_error.code, code);
        assert_eq!(rpc_error.code.code(), number);
        assert_eq!(RpcErrorCode::from_code(number), code);
        assert_eq!(rpc_error.message, message);
        // The server's message is kept whole.
        assert!(error.message.ends_with(message), "{}", error.message);
    }
    let timeout = RpcErrorCode::ResponseTimeout;
    assert_eq!(timeout.name(), Some("response timeout"));
    assert_eq!(RpcErrorCode::Custom(42).name(), None);

    // Not an RPC error: the server's own failure, or another RPC's message.
    let unavailable = server_error::<rpc::PerformRpc>(&respond(
        503,
        Some("application/json"),
        br#"{"code":"unavailable","msg":"twirp error unknown: no response from servers"}"#,
    ));
    assert_eq!(unavailable.rpc_error(), None);
    let other_rpc = server_error::<rpc::SendData>(&respond(
        400,
        Some("application/json"),
        br#"{"code":"invalid_argument","msg":"RpcError 1400: not this one"}"#,
    ));
    assert_eq!(other_rpc.rpc_error(), None);
    let no_code = server_error::<rpc::PerformRpc>(&respond(
        500,
        Some("application/json"),
        br#"{"code":"internal","msg":"RpcError : nothing"}"#,
    ));
    assert_eq!(no_code.rpc_error(), None);
}
