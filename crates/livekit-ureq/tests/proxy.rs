//! The proxy tunnel against a scripted proxy on loopback: what the transport asks for, and
//! the proxy's refusal kept in the error, with the credentials never shown.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::{Read as _, Write as _};

use livekit_ureq::{CallOptions, Client, Error, LiveKitApi, TransportErrorKind, UreqTransport};

const PASSWORD: &str = "proxy-password-77e1";

/// A proxy that reads one request head, answers `answer` and closes; returns the head.
fn scripted_proxy(answer: &'static str) -> (u16, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0_u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        stream.write_all(answer.as_bytes()).unwrap();
        String::from_utf8(head).unwrap()
    });
    (port, served)
}

#[test]
fn a_refused_tunnel_keeps_the_proxys_status_and_hides_the_credentials() {
    let (port, served) = scripted_proxy("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
    let transport = UreqTransport::builder()
        .proxy(&format!("http://user:{PASSWORD}@127.0.0.1:{port}"))
        .unwrap()
        .build();
    let credentials = livekit_ureq::auth::Credentials::new("key", "secret").unwrap();
    // The proxy resolves the name: the client never looks it up.
    let client = Client::new("https://livekit.invalid", credentials).unwrap();
    let api = LiveKitApi::from_parts(client, transport).unwrap();
    let error = api
        .room()
        .with_options(CallOptions::default().with_max_attempts(1))
        .list_rooms(Default::default())
        .unwrap_err();
    let head = served.join().unwrap();
    assert!(
        head.starts_with("CONNECT livekit.invalid:443 HTTP/1.1\r\n"),
        "{head}"
    );
    // base64("user:proxy-password-77e1")
    assert!(
        head.contains("Proxy-Authorization: Basic dXNlcjpwcm94eS1wYXNzd29yZC03N2Ux\r\n"),
        "{head}"
    );
    match &error {
        Error::Transport(transport) => {
            assert_eq!(transport.kind, TransportErrorKind::Connect, "{error}");
            assert!(!transport.request_sent);
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("403"), "{shown}");
    assert!(!shown.contains(PASSWORD), "{shown}");
}
