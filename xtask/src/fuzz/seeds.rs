//! `cargo xtask fuzz seeds`: regenerates `fuzz/seeds/` from the repository's real vectors.

use std::fs;
use std::path::Path;

use super::fuzz_dir;
use crate::util::{Result, workspace_root};

/// The message types of the `view_decode` target, by the selector byte that starts its
/// input: the order of `MESSAGES` in `fuzz/fuzz_targets/view_decode.rs`.
const VIEW_DECODE_MESSAGES: &[&str] = &[
    ".livekit.ListParticipantsResponse",
    ".livekit.ParticipantInfo",
    ".livekit.Room",
    ".livekit.WebhookEvent",
    ".livekit.EgressInfo",
    ".livekit.SIPOutboundTrunkInfo",
    ".livekit.IngressInfo",
    ".livekit.ListRoomsResponse",
    ".livekit.AgentDispatch",
    ".livekit.CreateSIPParticipantRequest",
    ".livekit.MetricsBatch",
    ".livekit.SIPCallInfo",
];

/// Regenerates `fuzz/seeds/` from the repository's real vectors: the peer SDK tokens, the
/// Python SDK's captured replies and request bodies, the Node SDK's captured exchanges (from
/// `shared/reference/` beside the repository, when present) and the server's own webhooks
/// (`fuzz/seeds/server_webhooks.json`, captured from the real server); and, for
/// `view_decode`, an encoding of each of its messages that sets every field.
pub(super) fn write_seeds() -> Result {
    let root = workspace_root();
    let mut seeds = Seeds::default();

    let peer = read_json(&root.join("crates/livekit-auth/tests/fixtures/peer_tokens.json"))?;
    for token in array(&peer, "tokens") {
        if let Some(jwt) = token["token"].as_str() {
            seeds.add("token_verify", jwt.as_bytes());
        }
    }

    let calls = read_json(&root.join("crates/livekit-core/tests/fixtures/python_calls.json"))?;
    for call in array(&calls, "calls") {
        let reply = &call["reply"];
        let status = reply["status"].as_u64().unwrap_or(200);
        let content_type = reply["content_type"].as_str().unwrap_or("");
        let body = reply["body"].as_str().unwrap_or("");
        for rpc in 0..6 {
            seeds.add(
                "response_parse",
                format!("{status} {rpc}\ncontent-type: {content_type}\n\n{body}").as_bytes(),
            );
        }
    }
    let requests =
        read_json(&root.join("crates/livekit-proto/tests/fixtures/python_captures.json"))?;
    for (index, request) in array(&requests, "requests").enumerate() {
        // Real protobuf bodies, as 200 answers: most decode as some response message.
        if let Some(bytes) = request["body_hex"].as_str().and_then(hex) {
            let mut seed = b"200 0\ncontent-type: application/protobuf\n\n".to_vec();
            seed.extend_from_slice(&bytes);
            seeds.add("response_parse", &seed);
            seeds.add("webhook_protojson", &bytes);
            // As its own type when `view_decode` has it; otherwise spread over the types (a
            // body of strings and varints at low field numbers decodes as most messages).
            let own = request["request_type"].as_str().and_then(|name| {
                VIEW_DECODE_MESSAGES
                    .iter()
                    .position(|message| message.trim_start_matches('.') == name)
            });
            let selector = own.unwrap_or(index % VIEW_DECODE_MESSAGES.len());
            seeds.add("view_decode", &view_decode_seed(selector, &bytes));
        }
    }
    let samples = crate::codegen::message_samples(VIEW_DECODE_MESSAGES)?;
    for (selector, sample) in samples.iter().enumerate() {
        seeds.add("view_decode", &view_decode_seed(selector, sample));
    }

    let reference = root.join("../shared/reference");
    for file in [
        "node-livekit-server-sdk-2.19.2.captures.json",
        "python-livekit-api-1.2.2.captures.json",
    ] {
        let path = reference.join(file);
        if !path.is_file() {
            eprintln!("skipping {} (not present)", path.display());
            continue;
        }
        let captures = read_json(&path)?;
        let steps = array(&captures, "steps").chain(array(&captures, "calls"));
        for step in steps {
            for request in step["requests"].as_array().into_iter().flatten() {
                for header in request["headers"].as_array().into_iter().flatten() {
                    let (Some(name), Some(value)) = (header[0].as_str(), header[1].as_str()) else {
                        continue;
                    };
                    if name.eq_ignore_ascii_case("authorization") {
                        let token = value.strip_prefix("Bearer ").unwrap_or(value);
                        seeds.add("token_verify", token.as_bytes());
                    } else if name.eq_ignore_ascii_case("host") {
                        seeds.add("url_normalise", format!("http://{value}").as_bytes());
                    }
                }
                let reply = &request["reply"];
                if let Some(status) = reply["status"].as_u64() {
                    let mut head = format!("{status} 1\n");
                    for (name, value) in reply["headers"].as_object().into_iter().flatten() {
                        head.push_str(&format!("{name}: {}\n", value.as_str().unwrap_or("")));
                    }
                    let body = reply["body"].as_str().unwrap_or("");
                    seeds.add("response_parse", format!("{head}\n{body}").as_bytes());
                }
            }
            if let Some(host) = step["host"].as_str() {
                seeds.add("url_normalise", host.as_bytes());
            }
        }
    }

    let webhooks = fuzz_dir().join("seeds/server_webhooks.json");
    let webhooks = read_json(&webhooks)?;
    for webhook in array(&webhooks, "webhooks") {
        let authorization = webhook["authorization"].as_str().unwrap_or("");
        let body = webhook["body"].as_str().unwrap_or("");
        seeds.add(
            "webhook_receive",
            format!("{authorization}\n{body}").as_bytes(),
        );
        seeds.add("webhook_protojson", body.as_bytes());
        seeds.add("token_verify", authorization.as_bytes());
    }

    // The URL shapes the clients document: schemes, sub-paths, IPv6, Cloud hosts.
    for url in [
        "http://127.0.0.1:7880",
        "ws://localhost:7880/",
        "wss://project.livekit.cloud",
        "https://example.com/lk/base//",
        "http://[::1]:7880",
        "https://cloud-api.livekit.io",
        "  HTTPS://Example.COM/a%20b ",
    ] {
        seeds.add("url_normalise", url.as_bytes());
    }
    seeds.write()
}

/// A `view_decode` input: the selector byte of the message type, then the buffer.
fn view_decode_seed(selector: usize, buf: &[u8]) -> Vec<u8> {
    let selector = u8::try_from(selector).expect("fewer than 256 message types");
    [&[selector][..], buf].concat()
}

/// Seed files by target, deduplicated, named by content hash so reruns are stable.
#[derive(Default)]
struct Seeds(std::collections::BTreeMap<&'static str, std::collections::BTreeSet<Vec<u8>>>);

impl Seeds {
    fn add(&mut self, target: &'static str, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.0.entry(target).or_default().insert(bytes.to_vec());
        }
    }

    fn write(self) -> Result {
        for (target, inputs) in self.0 {
            let dir = fuzz_dir().join("seeds").join(target);
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir)
                .map_err(|error| format!("creating {}: {error}", dir.display()))?;
            for input in &inputs {
                let path = dir.join(format!("{:016x}", fnv1a(input)));
                fs::write(&path, input)
                    .map_err(|error| format!("writing {}: {error}", path.display()))?;
            }
            eprintln!("{target}: {} seeds in {}", inputs.len(), dir.display());
        }
        Ok(())
    }
}

/// A stable 64-bit content hash for seed file names.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        fs::read_to_string(path).map_err(|error| format!("reading {}: {error}", path.display()))?;
    serde_json::from_str(&text).map_err(|error| format!("parsing {}: {error}", path.display()))
}

fn array<'a>(
    value: &'a serde_json::Value,
    key: &str,
) -> impl Iterator<Item = &'a serde_json::Value> {
    value[key].as_array().into_iter().flatten()
}

fn hex(text: &str) -> Option<Vec<u8>> {
    text.len()
        .is_multiple_of(2)
        .then(|| {
            (0..text.len())
                .step_by(2)
                .map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}
