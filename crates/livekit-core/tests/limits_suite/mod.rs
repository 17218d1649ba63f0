// Transport limits against local sockets that misbehave on purpose: a server that sends its
// headers and then goes silent, and one whose body is larger than the cap. Shared by the
// hyper and ureq test suites (`tests/limits.rs` in each), like `e2e_suite`; the including
// file defines `Api`, `Transport`, `call!` and `limits_test!`.
//
// These are transport tests, not server tests: the peer is a plain `TcpListener` on an
// ephemeral loopback port, so no LiveKit server is needed and nothing collides.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use livekit_auth::Credentials;
use livekit_core::{CallOptions, Client, Error, TransportErrorKind};

/// Accepts connections on a fresh loopback port and answers each with `answer`, counting
/// them. Returns the base URL and the counter.
fn misbehaving_server(
    answer: impl Fn(&mut std::net::TcpStream) + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || {
                let mut request = [0u8; 16 * 1024];
                let _ = stream.read(&mut request);
                answer(&mut stream);
            });
        }
    });
    (url, connections)
}

/// A status line and headers promising a body, a few bytes of it, then silence for a
/// minute: long past any budget below, so only a working deadline ends the call.
fn headers_then_silence(stream: &mut std::net::TcpStream) {
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/protobuf\r\ncontent-length: 1000\r\n\r\n\x0a\x02",
    );
    let _ = stream.flush();
    std::thread::sleep(Duration::from_secs(60));
}

fn client(url: &str) -> Client {
    Client::new(url, Credentials::new("devkey", "secret").unwrap()).unwrap()
}

fn expect_transport(error: &Error, kind: TransportErrorKind) {
    match error {
        Error::Transport(transport) => assert_eq!(transport.kind, kind, "{error}"),
        other => panic!("expected a {kind:?} transport error, got {other:?}"),
    }
}

limits_test!(headers_then_silence_hits_the_attempt_timeout {
    let (url, connections) = misbehaving_server(headers_then_silence);
    let api = Api::from_parts(client(&url), Transport::new_for_test()).unwrap();
    let options = CallOptions::default()
        .with_timeout(Duration::from_millis(300))
        .with_max_attempts(2);
    let error = call!(api.room().with_options(options).list_rooms(Default::default())).unwrap_err();
    expect_transport(&error, TransportErrorKind::Timeout);
    // A timeout may be retried for a safe call: both attempts were made.
    assert_eq!(connections.load(Ordering::SeqCst), 2);
});

limits_test!(headers_then_silence_hits_the_overall_deadline {
    let (url, connections) = misbehaving_server(headers_then_silence);
    let api = Api::from_parts(client(&url), Transport::new_for_test()).unwrap();
    // The per-attempt budget (10 s by default) is cut to what the deadline leaves.
    let options = CallOptions::default()
        .with_deadline(Duration::from_millis(400))
        .with_max_attempts(5);
    let error = call!(api.room().with_options(options).list_rooms(Default::default())).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Transport(transport) if transport.kind == TransportErrorKind::Timeout
        ) || matches!(error, Error::DeadlineExceeded { .. }),
        "{error:?}"
    );
    // No retry fits in what is left of the deadline after the first attempt used it all.
    assert_eq!(connections.load(Ordering::SeqCst), 1);
});

limits_test!(a_body_larger_than_the_cap_is_refused_and_not_retried {
    for chunked in [false, true] {
        let (url, connections) = misbehaving_server(move |stream| {
            let size = 64 * 1024;
            let head = if chunked {
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_owned()
            } else {
                format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n")
            };
            let _ = stream.write_all(head.as_bytes());
            let body = vec![b'x'; size];
            if chunked {
                for chunk in body.chunks(4096) {
                    let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
                    let _ = stream.write_all(chunk);
                    let _ = stream.write_all(b"\r\n");
                }
                let _ = stream.write_all(b"0\r\n\r\n");
            } else {
                let _ = stream.write_all(&body);
            }
        });
        let transport = Transport::new_for_test().with_max_response_bytes(16 * 1024);
        let api = Api::from_parts(client(&url), transport).unwrap();
        let error = call!(api
            .room()
            .with_options(CallOptions::default().with_max_attempts(3))
            .list_rooms(Default::default()))
        .unwrap_err();
        expect_transport(&error, TransportErrorKind::BodyTooLarge);
        assert_eq!(connections.load(Ordering::SeqCst), 1, "chunked: {chunked}");
    }
});

limits_test!(a_body_at_the_cap_is_read_whole {
    let (url, _) = misbehaving_server(|stream| {
        let body = "e".repeat(1024);
        let _ = stream.write_all(
            format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    });
    let transport = Transport::new_for_test().with_max_response_bytes(1024);
    let api = Api::from_parts(client(&url), transport).unwrap();
    let error = call!(api
        .room()
        .with_options(CallOptions::default().with_max_attempts(1))
        .list_rooms(Default::default()))
    .unwrap_err();
    let server = error.server().unwrap_or_else(|| panic!("expected a server error, got {error:?}"));
    assert_eq!(server.status, 404);
    assert_eq!(server.message, "e".repeat(1024));
});
