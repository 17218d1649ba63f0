//! The proxy tunnel against a scripted proxy on loopback: what the transport asks for, and
//! the proxy's refusal kept in the error, with the credentials never shown.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use livekit_hyper::{Client, Error, HyperTransport, LiveKitApi, TransportErrorKind};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PASSWORD: &str = "proxy-password-77e1";

/// A proxy that reads one request head, answers `answer` and closes; returns the head.
async fn scripted_proxy(answer: &'static str) -> (u16, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0_u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap() == 0 {
                break;
            }
            head.push(byte[0]);
        }
        stream.write_all(answer.as_bytes()).await.unwrap();
        String::from_utf8(head).unwrap()
    });
    (port, served)
}

fn api(server: &str, proxy_port: u16) -> LiveKitApi {
    let transport = HyperTransport::builder()
        .proxy(&format!("http://user:{PASSWORD}@127.0.0.1:{proxy_port}"))
        .unwrap()
        .build()
        .unwrap();
    let credentials = livekit_hyper::auth::Credentials::new("key", "secret").unwrap();
    LiveKitApi::from_parts(Client::new(server, credentials).unwrap(), transport).unwrap()
}

#[tokio::test]
async fn a_refused_tunnel_keeps_the_proxys_status_line_and_hides_the_credentials() {
    let (port, served) =
        scripted_proxy("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n").await;
    // The proxy resolves the name: the client never looks it up.
    let api = api("https://livekit.invalid", port);
    let error = api
        .room()
        .with_options(livekit_hyper::CallOptions::default().with_max_attempts(1))
        .list_rooms(Default::default())
        .await
        .unwrap_err();
    let head = served.await.unwrap();
    assert!(
        head.starts_with("CONNECT livekit.invalid:443 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains("Host: livekit.invalid:443\r\n"), "{head}");
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
    assert!(
        shown.contains("the proxy refused the tunnel: HTTP/1.1 403 Forbidden"),
        "{shown}"
    );
    assert!(!shown.contains(PASSWORD), "{shown}");
}

#[tokio::test]
async fn a_plain_http_server_is_reached_through_the_tunnel_on_port_80() {
    let (port, served) = scripted_proxy("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await;
    let api = api("http://livekit.invalid", port);
    let error = api
        .room()
        .with_options(livekit_hyper::CallOptions::default().with_max_attempts(1))
        .list_rooms(Default::default())
        .await
        .unwrap_err();
    let head = served.await.unwrap();
    assert!(
        head.starts_with("CONNECT livekit.invalid:80 HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(
        error
            .to_string()
            .contains("407 Proxy Authentication Required"),
        "{error}"
    );
}
