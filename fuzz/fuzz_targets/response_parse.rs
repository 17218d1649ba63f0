//! The core client's response parsing on any status, headers and body, for a few RPCs and
//! the region list: never a panic, the status never lost, messages bounded, tokens redacted.
//!
//! Input, HTTP-like: `<status> <rpc>` on the first line, `name: value` header lines, an
//! empty line, then the body. Anything that does not parse that way is a 200 body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use livekit_auth::Credentials;
use livekit_core::{Client, Error, rpc};
use livekit_proto::Message;

const SECRET: &str = "fuzz-secret-that-must-never-be-printed";
/// A token the "server" echoes back; no error may show it.
const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJBUElmdXp6In0.c2lnbmF0dXJl";

struct Input<'a> {
    status: u16,
    rpc: u8,
    headers: Vec<(&'a str, &'a [u8])>,
    body: &'a [u8],
}

fn split(data: &[u8]) -> Input<'_> {
    let whole = Input {
        status: 200,
        rpc: 0,
        headers: Vec::new(),
        body: data,
    };
    let Some(end) = data.windows(2).position(|pair| pair == b"\n\n") else {
        return whole;
    };
    let Ok(head) = std::str::from_utf8(&data[..end]) else {
        return whole;
    };
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let Some(status) = first.next().and_then(|status| status.parse::<u16>().ok()) else {
        return whole;
    };
    let rpc = first
        .next()
        .and_then(|rpc| rpc.parse::<u8>().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim().as_bytes()))
        .collect();
    Input {
        status,
        rpc,
        headers,
        body: &data[end + 2..],
    }
}

fuzz_target!(|data: &[u8]| {
    let input = split(data);
    let mut builder = http::Response::builder().status(input.status);
    for (name, value) in &input.headers {
        builder = builder.header(*name, *value);
    }
    // Statuses outside 100..=999 and malformed headers cannot reach the core: `http`
    // refuses to build such a response, as any HTTP library would.
    let Ok(response) = builder.body(input.body.to_vec()) else {
        return;
    };
    let client = Client::new(
        "http://127.0.0.1:7880",
        Credentials::new("APIfuzz", SECRET).expect("valid credentials"),
    )
    .expect("valid client");
    match input.rpc % 6 {
        0 => check::<rpc::CreateRoom>(&client, &response),
        1 => check::<rpc::ListRooms>(&client, &response),
        2 => check::<rpc::DeleteRoom>(&client, &response),
        3 => check::<rpc::CreateSIPParticipant>(&client, &response),
        4 => check::<rpc::ListEgress>(&client, &response),
        _ => {
            if let Err(error) = client.parse_regions(&response) {
                check_error(&error, &response);
            }
        }
    }
});

fn check<R: rpc::Rpc>(client: &Client, response: &http::Response<Vec<u8>>)
where
    R::Response: PartialEq,
{
    match client.parse_response::<R, _>(response, "req-fuzz") {
        Ok(message) => {
            assert_eq!(response.status(), 200, "a message from a non-200 answer");
            let encoded = message.encode_to_vec();
            let decoded = R::Response::decode(encoded.as_slice()).expect("our encoding decodes");
            assert_eq!(encoded, decoded.encode_to_vec(), "protobuf is not stable");
        }
        Err(error) => check_error(&error, response),
    }
}

fn check_error(error: &Error, response: &http::Response<Vec<u8>>) {
    let status = response.status().as_u16();
    let text = format!("{error} {error:?}");
    assert!(!text.contains(SECRET), "an error shows the secret");
    assert!(!text.contains(TOKEN), "an error shows a token: {text}");
    match error {
        Error::Server(server) => {
            assert_eq!(server.status, status, "the status was lost");
            assert_ne!(status, 200, "a server error from a 200");
            if !server.is_twirp {
                // A proxy's page is cut to 1 KiB (plus the ellipsis).
                assert!(
                    server.message.len() <= 1024 + '…'.len_utf8(),
                    "{}",
                    server.message.len()
                );
            }
        }
        Error::Decode(decode) => {
            assert_eq!(status, 200, "a decode error from a non-200");
            assert_eq!(
                decode.body,
                response.body().as_slice(),
                "the body was not kept"
            );
        }
        other => panic!("a response became {other:?}"),
    }
}
