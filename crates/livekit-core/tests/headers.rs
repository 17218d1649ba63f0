//! Custom headers for gateways: the client's on every request, a call's on that call only
//! (replacing the client's of the same name), never one the client sets itself, and never a
//! value in `Debug` output.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use http::header::{HeaderName, HeaderValue};
use livekit_auth::Credentials;
use livekit_core::{
    BlockingApi, BuildError, CallContext, CallOptions, Client, ClientOptions, ConfigError,
    Environment, Error, FnTransport, Services as _, rpc,
};
use livekit_proto::Message as _;

const GATEWAY_KEY: &str = "gw-key-5d1e9b7c";

fn name(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

fn value(value: &'static str) -> HeaderValue {
    HeaderValue::from_static(value)
}

fn client(options: ClientOptions) -> Result<Client, Error> {
    Client::new(
        "https://lk.example.com",
        Credentials::new("key", "secret").unwrap(),
    )?
    .with_options(options)
}

fn gateway_options() -> ClientOptions {
    ClientOptions::default()
        .with_header(name("x-gateway-key"), value(GATEWAY_KEY))
        .with_header(name("x-route"), value("blue"))
}

fn values(request: &http::Request<Vec<u8>>, header: &str) -> Vec<String> {
    request
        .headers()
        .get_all(header)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

#[test]
fn client_headers_go_on_every_request_and_a_calls_replace_those_of_the_same_name() {
    let client = client(gateway_options()).unwrap();
    let request = livekit_proto::ListRoomsRequest::default();

    let plain = client
        .build_request::<rpc::ListRooms>(&request, &CallContext::new(1_800_000_000, "r1"))
        .unwrap();
    assert_eq!(values(&plain, "x-gateway-key"), [GATEWAY_KEY]);
    assert_eq!(values(&plain, "x-route"), ["blue"]);
    assert!(plain.headers()["x-gateway-key"].is_sensitive());
    assert!(values(&plain, "authorization")[0].starts_with("Bearer "));

    let call = CallOptions::default()
        .with_header(name("x-route"), value("green"))
        .with_header(name("x-trace"), value("t-1"));
    let context = CallContext::new(1_800_000_000, "r2").with_headers(&call.headers);
    let overridden = client
        .build_request::<rpc::ListRooms>(&request, &context)
        .unwrap();
    assert_eq!(values(&overridden, "x-gateway-key"), [GATEWAY_KEY]);
    assert_eq!(values(&overridden, "x-route"), ["green"]);
    assert_eq!(values(&overridden, "x-trace"), ["t-1"]);
    assert_eq!(values(&overridden, "x-livekit-request-id"), ["r2"]);
}

#[test]
fn a_client_header_the_client_sets_itself_is_a_configuration_error() {
    for reserved in [
        "authorization",
        "content-type",
        "user-agent",
        "x-livekit-request-id",
    ] {
        let options = ClientOptions::default().with_header(name(reserved), value("x"));
        match client(options) {
            Err(Error::Config(ConfigError::Option(message))) => {
                assert!(message.contains("custom header"), "{message}")
            }
            other => panic!("{reserved}: {other:?}"),
        }
    }
}

#[test]
fn a_call_header_the_client_sets_itself_fails_the_call_before_anything_is_sent() {
    let client = client(ClientOptions::default()).unwrap();
    let call = CallOptions::default().with_header(name("authorization"), value("Bearer forged"));
    let context = CallContext::new(1_800_000_000, "r").with_headers(&call.headers);
    let error = client
        .build_request::<rpc::ListRooms>(&Default::default(), &context)
        .unwrap_err();
    assert!(
        matches!(&error, Error::Build(BuildError::ReservedHeader(header)) if header == "authorization"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "cannot build request: the authorization header is set by the client; a custom header \
         cannot replace it"
    );
}

struct Fixed;

impl Environment for Fixed {
    fn unix_now(&self) -> u64 {
        1_800_000_000
    }
    fn monotonic(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
    fn random(&self) -> u64 {
        7
    }
}

#[test]
fn call_options_headers_reach_the_transport_on_every_attempt() {
    let seen = std::sync::Mutex::new(Vec::new());
    let transport = FnTransport::new(|request: http::Request<Vec<u8>>, _timeout| {
        seen.lock().unwrap().push(values(&request, "x-trace"));
        let status = if seen.lock().unwrap().len() == 1 {
            503
        } else {
            200
        };
        let body = livekit_proto::ListRoomsResponse::default().encode_to_vec();
        Ok(http::Response::builder().status(status).body(body).unwrap())
    });
    let api = BlockingApi::new(client(gateway_options()).unwrap(), transport, Fixed);
    let options = CallOptions::default().with_header(name("x-trace"), value("t-9"));
    api.room()
        .with_options(options)
        .list_rooms(Default::default())
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), [["t-9"], ["t-9"]]);
}

#[test]
fn debug_output_names_custom_headers_but_never_shows_their_values() {
    let options = gateway_options();
    let call = CallOptions::default().with_header(name("x-call-secret"), value("call-secret-77"));
    let context = CallContext::new(1, "r").with_headers(&call.headers);
    let client = client(options.clone()).unwrap();
    for debug in [
        format!("{options:?}"),
        format!("{call:?}"),
        format!("{context:?}"),
        format!("{client:?}"),
    ] {
        assert!(debug.contains("x-"), "{debug}");
        assert!(!debug.contains(GATEWAY_KEY), "{debug}");
        assert!(!debug.contains("call-secret-77"), "{debug}");
    }
}
