//! `LiveKitApi`, written once for every transport: its constructors, its https check and its
//! service accessors over a transport of this test's own.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::sync::Mutex;
use std::time::Duration;

use livekit_core::{
    BlockingApi, BlockingTransport, ConfigError, DefaultTransport, Error, LiveKitApi,
    SystemEnvironment, TransportError,
};
use livekit_proto::{ListRoomsResponse, Message as _, Room};

/// Answers every request with one room and records the URIs it was sent to.
#[derive(Debug, Default)]
struct Canned {
    sent: Mutex<Vec<String>>,
}

impl BlockingTransport for Canned {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        _timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.sent.lock().unwrap().push(request.uri().to_string());
        let body = ListRoomsResponse {
            rooms: vec![Room {
                name: "canned".into(),
                ..Room::default()
            }],
        };
        Ok(http::Response::new(body.encode_to_vec()))
    }

    fn sleep(&self, _duration: Duration) {}
}

impl DefaultTransport for Canned {
    const CRATE: &'static str = "a test transport";

    fn default_transport() -> Result<Self, Error> {
        Ok(Self::default())
    }

    /// As a transport built without a TLS feature.
    fn supports_https() -> bool {
        false
    }
}

type Api = LiveKitApi<BlockingApi<Canned, SystemEnvironment>>;

#[test]
fn constructors_and_services_work_over_any_transport() {
    let api = Api::new("ws://127.0.0.1:7880/", "devkey", "secret").unwrap();
    assert_eq!(api.client().base_url().to_string(), "http://127.0.0.1:7880");
    let rooms = api.room().list_rooms(Default::default()).unwrap();
    assert_eq!(rooms.rooms[0].name, "canned");
    let sent = api.executor().transport().sent.lock().unwrap().clone();
    assert_eq!(
        sent,
        ["http://127.0.0.1:7880/twirp/livekit.RoomService/ListRooms"]
    );

    let presigned = Api::with_token("http://127.0.0.1:7880", "a.pre.signed").unwrap();
    presigned.room().list_rooms(Default::default()).unwrap();
}

#[test]
fn https_on_a_transport_without_tls_is_a_configuration_error_naming_the_crate() {
    match Api::new("wss://example.test", "devkey", "secret") {
        Err(Error::Config(ConfigError::Tls(message))) => {
            assert_eq!(
                message,
                "https://example.test is https but a test transport was built without a TLS \
                 feature (enable `rustls`)"
            );
        }
        other => panic!("expected a tls configuration error, got {other:?}"),
    }
    match Api::new("http://127.0.0.1:7880", "", "secret") {
        Err(Error::Config(ConfigError::Credentials(_))) => {}
        other => panic!("expected a credentials error, got {other:?}"),
    }
}
