//! The connection pool closes idle connections by itself, without another request.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::time::Duration;

use livekit_core::Transport as _;
use livekit_hyper::HyperTransport;

/// Serves one keep-alive response on one connection, then reports whether the client
/// closed that connection before the server gave up waiting.
fn one_response_server(listener: TcpListener) -> std::thread::JoinHandle<bool> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        // Generous: the wait is for the client's idle timer (here 100 ms), not a measurement.
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
            line.clear();
        }
        writer
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .unwrap();
        let mut rest = Vec::new();
        // EOF means the client closed the connection; a timeout means it kept it open.
        matches!(reader.read_to_end(&mut rest), Ok(0))
    })
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/twirp/x", listener.local_addr().unwrap());
    let server = one_response_server(listener);

    let transport = HyperTransport::new()
        .unwrap()
        .with_pool_idle_timeout(Duration::from_millis(100));
    let request = http::Request::post(url).body(Vec::new()).unwrap();
    let response = transport
        .send(request, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(response.body(), b"ok");

    // The transport stays alive and makes no further request: only the pool's idle timer
    // can close the connection.
    let closed = tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
    assert!(closed, "the idle connection was never closed");
    drop(transport);
}
