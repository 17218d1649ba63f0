//! `cargo xtask bench`: runs every benchmark binary and prints their figures as one JSON
//! object.
//!
//! Each bench (`harness = false`) prints one JSON object on its last stdout line; this
//! merges them. Figures, never assertions: nothing here fails on a slow number.

use std::process::Stdio;

use crate::util::{Result, cargo, workspace_root};

/// `(package, bench target)` pairs, run in this order when their file exists.
const BENCHES: &[(&str, &str)] = &[
    ("livekit-auth", "auth"),
    ("livekit-proto", "proto"),
    ("livekit-core", "core"),
    ("livekit-ureq", "transport"),
    ("livekit-hyper", "transport"),
];

/// Ports of the servers the transport benches call.
const BENCH_PORT: u16 = 7892;
const BENCH_REDIS_PORT: u16 = 16392;

pub(crate) fn run(args: &[String]) -> Result {
    if let Some(extra) = args.first() {
        return Err(format!("bench takes no arguments, got `{extra}`"));
    }
    // The transport benches call the real server and a fixed-response loopback server, both
    // outside their process so its CPU figures are the client's alone.
    crate::server::build(crate::server::DEFAULT_VERSION)?;
    let server = crate::server::start(&crate::server::StartOptions {
        port: BENCH_PORT,
        redis_port: BENCH_REDIS_PORT,
        ..crate::server::StartOptions::default()
    })?;
    let fixed = fixed_response_server()?;
    let outcome = run_benches(&server.url(), &fixed);
    let stopped = server.stop();
    outcome.and(stopped)
}

fn run_benches(server_url: &str, fixed_url: &str) -> Result {
    let required = required_features()?;
    let mut members = Vec::new();
    for (package, bench) in BENCHES {
        let source = workspace_root().join(format!("crates/{package}/benches/{bench}.rs"));
        if !source.is_file() {
            continue;
        }
        let mut args = vec!["bench", "--quiet", "--package", package, "--bench", bench];
        let features = required
            .get(&((*package).to_owned(), (*bench).to_owned()))
            .map(|features| features.join(","))
            .unwrap_or_default();
        if !features.is_empty() {
            args.extend(["--features", &features]);
        }
        eprintln!("$ cargo {}", args.join(" "));
        let output = cargo()
            .args(&args)
            .env("LIVEKIT_BENCH_URL", server_url)
            .env("LIVEKIT_BENCH_FIXED_URL", fixed_url)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|error| format!("could not run cargo bench: {error}"))?;
        if !output.status.success() {
            return Err(format!(
                "bench {package}/{bench} failed ({})",
                output.status
            ));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .rev()
            .map(str::trim)
            .find(|line| line.starts_with('{') && line.ends_with('}'))
            .ok_or_else(|| format!("bench {package}/{bench} printed no JSON object"))?;
        let inner = line[1..line.len() - 1].trim();
        if !inner.is_empty() {
            members.push(inner.to_owned());
        }
    }
    println!("{{{}}}", members.join(","));
    Ok(())
}

/// The `required-features` of every bench target of the workspace, by `(package, bench)`,
/// from `cargo metadata`: a bench is run with the features it declares it needs.
fn required_features() -> Result<std::collections::HashMap<(String, String), Vec<String>>> {
    let output = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("could not run cargo metadata: {error}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed ({})", output.status));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("cargo metadata printed no JSON: {error}"))?;
    let mut required = std::collections::HashMap::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default();
        for target in package["targets"].as_array().into_iter().flatten() {
            let is_bench = target["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bench"));
            if !is_bench {
                continue;
            }
            let features = target["required-features"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|feature| feature.as_str().map(str::to_owned))
                .collect();
            let bench = target["name"].as_str().unwrap_or_default().to_owned();
            required.insert((name.to_owned(), bench), features);
        }
    }
    Ok(required)
}

/// A minimal HTTP/1.1 keep-alive server on loopback that answers every request with the
/// same valid `ListRoomsResponse`, to see the client's own overhead. Returns its URL; it
/// lives until xtask exits.
fn fixed_response_server() -> Result<String> {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    // ListRoomsResponse { rooms: [Room { name: "bench" }] }: field 1 (7 bytes) holding
    // field 2 (5 bytes) "bench".
    const BODY: &[u8] = b"\x0a\x07\x12\x05bench";
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|error| format!("cannot start the fixed-response server: {error}"))?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|error| error.to_string())?
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(mut writer) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    let mut length = 0usize;
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => {
                                if let Some((name, value)) = line.split_once(':')
                                    && name.eq_ignore_ascii_case("content-length")
                                {
                                    length = value.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/protobuf\r\ncontent-length: {}\r\n\r\n",
                        BODY.len()
                    );
                    if writer.write_all(head.as_bytes()).is_err() || writer.write_all(BODY).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::{BENCHES, required_features};

    /// Every bench `cargo xtask bench` runs exists, and what it requires is found (the proto
    /// bench needs `view`, which is off by default: without it `cargo bench` refuses to run).
    #[test]
    fn benches_are_run_with_the_features_they_require() {
        let required = required_features().expect("cargo metadata runs");
        for (package, bench) in BENCHES {
            assert!(
                required.contains_key(&((*package).to_owned(), (*bench).to_owned())),
                "{package} has no bench target {bench}"
            );
        }
        let proto = &required[&("livekit-proto".to_owned(), "proto".to_owned())];
        assert!(proto.iter().any(|feature| feature == "view"), "{proto:?}");
    }
}
