//! `cargo xtask interop [--write-fixtures]`: our tokens against the reference SDKs, both ways.
//!
//! Installs Python `livekit-api` and Node `livekit-server-sdk` at pinned versions in a scratch
//! folder outside the repository (`$LIVEKIT_RS_CACHE/interop`, by default
//! `~/.cache/livekit-rs/interop`), skipping the install when the pinned version is already
//! there. Then, for every case in `xtask/interop/cases.json` and each peer:
//!
//! - `<peer> verifies`: the `livekit` CLI mints the case, the peer's `TokenVerifier` checks it
//!   and reports the claims it decoded;
//! - `<peer> mints`: the peer's `AccessToken` mints the case, `livekit token verify` checks it.
//!
//! Both sides are normalized the same way (defaults and empties dropped, documented SDK
//! defaults applied to the expectation) and compared claim by claim. A claim a peer has no API
//! for is left out for that peer and said so, never written behind the SDK's back. One more
//! check per peer and direction signs with another secret and expects a rejection.
//!
//! `--write-fixtures` also has each peer mint every case with fixture credentials and writes
//! `crates/livekit-auth/tests/fixtures/peer_tokens.json`, which the `peer_tokens` test
//! verifies with an injected clock.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::util::{Result, cargo, run, workspace_root};

const PYTHON_PACKAGE: &str = "livekit-api";
const PYTHON_VERSION: &str = "1.2.2";
const NODE_PACKAGE: &str = "livekit-server-sdk";
const NODE_VERSION: &str = "2.19.2";

/// The cases, each a token payload (camelCase, as `livekit token create --claims` takes it).
const CASES: &str = include_str!("../interop/cases.json");
const FIXTURES: &str = "crates/livekit-auth/tests/fixtures/peer_tokens.json";

/// The SDKs' default time to live when a case gives none: 6 hours, as ours.
const DEFAULT_TTL: u64 = 6 * 3600;

const API_KEY: &str = "APIinterop";
const API_SECRET: &str = "interop-secret-shared-by-every-peer-0001";
/// Same key, different secret: every verifier must refuse what this signs.
const OTHER_SECRET: &str = "another-secret-under-the-same-api-key-02";

/// Video flags whose absence means something (the server's default), so `false` is kept.
const TRI_STATE_FLAGS: &[&str] = &[
    "video.canPublish",
    "video.canSubscribe",
    "video.canPublishData",
    "video.canUpdateOwnMetadata",
    "video.canManageAgentSession",
    "video.canSubscribeMetrics",
];

pub(crate) fn run_interop(args: &[String]) -> Result {
    let write_fixtures = match args {
        [] => false,
        [flag] if flag == "--write-fixtures" => true,
        _ => return Err("usage: cargo xtask interop [--write-fixtures]".to_owned()),
    };
    let started = unix_now();
    let cache = crate::util::cache_dir()?.join("interop");
    println!("interop: scratch folder {}", cache.display());
    let python = ensure_python(&cache.join("venv"))?;
    let node_dir = ensure_node(&cache.join("node"))?;
    println!("interop: building the livekit CLI");
    run(cargo().args(["build", "--quiet", "--package", "livekit-cli"]))?;
    let setup = Setup {
        python,
        node_dir,
        cli: cli_path(),
        started,
    };
    let cases = load_cases()?;

    let mut report = Report::default();
    for peer in [Peer::Python, Peer::Node] {
        peer_verifies(&setup, peer, &cases, &mut report)?;
        peer_mints(&setup, peer, &cases, &mut report)?;
    }
    if write_fixtures && report.failed == 0 {
        write_peer_fixtures(&setup, &cases, &mut report)?;
    }
    println!(
        "interop: {} checks passed, {} failed",
        report.passed, report.failed
    );
    if report.failed > 0 {
        return Err(format!("interop: {} checks failed", report.failed));
    }
    Ok(())
}

/// What the checks need: the peers' interpreters and our CLI.
struct Setup {
    python: PathBuf,
    node_dir: PathBuf,
    cli: PathBuf,
    /// Unix time the run started; tokens minted during it have `nbf` from here on.
    started: u64,
}

struct Case {
    name: String,
    ttl: Option<u64>,
    claims: Map<String, Value>,
}

impl Case {
    fn ttl(&self) -> u64 {
        self.ttl.unwrap_or(DEFAULT_TTL)
    }

    /// A mint request for a peer script; without `ttl` the SDK's own default applies.
    fn mint_request(&self, api_key: &str, api_secret: &str) -> Value {
        let mut request =
            json!({ "apiKey": api_key, "apiSecret": api_secret, "claims": self.claims });
        if let Some(ttl) = self.ttl {
            request["ttl"] = json!(ttl);
        }
        request
    }
}

#[derive(Default)]
struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    fn record(&mut self, label: &str, problems: &[String]) {
        if problems.is_empty() {
            self.passed += 1;
            println!("interop: {label}: ok");
        } else {
            self.failed += 1;
            for problem in problems {
                println!("interop: {label}: {problem}");
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Peer {
    Python,
    Node,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// The peer mints, we verify.
    PeerMints,
    /// We mint, the peer verifies.
    PeerVerifies,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Node => "node",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Self::Python => PYTHON_PACKAGE,
            Self::Node => NODE_PACKAGE,
        }
    }

    fn version(self) -> &'static str {
        match self {
            Self::Python => PYTHON_VERSION,
            Self::Node => NODE_VERSION,
        }
    }

    /// Runs the peer script's `operation` over `requests` and returns one result per request.
    fn call(self, setup: &Setup, operation: &str, requests: &[Value]) -> Result<Vec<Value>> {
        let mut command = match self {
            Self::Python => {
                let mut command = Command::new(&setup.python);
                command.arg(workspace_root().join("xtask/interop/peer.py"));
                command
            }
            Self::Node => {
                let mut command = Command::new("node");
                command.arg(setup.node_dir.join("peer.mjs"));
                command
            }
        };
        command.arg(operation);
        let input = Value::Array(requests.to_vec()).to_string();
        let output = run_with_input(&mut command, &input)?;
        let label = format!("{} peer {operation}", self.name());
        if !output.status.success() {
            return Err(format!(
                "{label} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let results: Vec<Value> = serde_json::from_slice(&output.stdout)
            .map_err(|error| format!("{label} printed no JSON array: {error}"))?;
        if results.len() != requests.len() {
            return Err(format!(
                "{label} answered {} of {} requests",
                results.len(),
                requests.len()
            ));
        }
        Ok(results)
    }

    /// The claims this peer is expected to see or write for `case`, before normalizing.
    ///
    /// Python's `VideoGrants` defaults `can_publish`, `can_subscribe` and `can_publish_data`
    /// to true: its minter writes them with every video grant, and its verifier builds a
    /// `VideoGrants` for every token, video claim or not. Node leaves them unset.
    fn expected_claims(self, case: &Case, unsupported: &[String], direction: Direction) -> Value {
        let mut claims = case.claims.clone();
        for claim in unsupported {
            claims.remove(claim);
        }
        if self == Self::Python
            && (direction == Direction::PeerVerifies || claims.contains_key("video"))
        {
            let video = claims.entry("video").or_insert_with(|| json!({}));
            if let Some(video) = video.as_object_mut() {
                for flag in ["canPublish", "canSubscribe", "canPublishData"] {
                    video.entry(flag).or_insert(Value::Bool(true));
                }
            }
        }
        Value::Object(claims)
    }
}

/// We mint every case; the peer verifies and reports what it decoded.
fn peer_verifies(setup: &Setup, peer: Peer, cases: &[Case], report: &mut Report) -> Result {
    let mut tokens = Vec::new();
    let mut requests = Vec::new();
    for case in cases {
        let token = our_mint(setup, case, API_SECRET);
        if let Ok(token) = &token {
            requests.push(json!({ "apiKey": API_KEY, "apiSecret": API_SECRET, "token": token }));
        }
        tokens.push(token);
    }
    let forged = our_mint(setup, &cases[0], OTHER_SECRET)?;
    requests.push(json!({ "apiKey": API_KEY, "apiSecret": API_SECRET, "token": forged }));
    let mut results = peer.call(setup, "verify", &requests)?.into_iter();

    for (case, token) in cases.iter().zip(tokens) {
        let label = format!("{} verifies case {}", peer.name(), case.name);
        if let Err(error) = token {
            report.record(&label, &[format!("our mint failed: {error}")]);
            continue;
        }
        let result = results.next().unwrap_or_default();
        if let Some(reason) = result.get("rejected") {
            report.record(&label, &[format!("rejected our token: {reason}")]);
            continue;
        }
        let unsupported = string_list(&result["unsupported"]);
        for claim in &unsupported {
            println!(
                "interop: {label}: skipped claim {claim} ({} {} TokenVerifier does not decode it)",
                peer.package(),
                peer.version()
            );
        }
        let expected = peer.expected_claims(case, &unsupported, Direction::PeerVerifies);
        let mut problems = Vec::new();
        // We mint with one clock reading, so exp is exactly nbf + ttl.
        check_registered(setup, &result, case.ttl(), 0, &mut problems);
        compare_claims(&expected, &result["claims"], &mut problems);
        report.record(&label, &problems);
    }

    let label = format!("{} verifies case wrong_secret", peer.name());
    let result = results.next().unwrap_or_default();
    let problems = match result.get("rejected") {
        Some(_) => Vec::new(),
        None => vec!["accepted a token signed with another secret".to_owned()],
    };
    report.record(&label, &problems);
    Ok(())
}

/// The peer mints every case; we verify and compare what we decoded.
fn peer_mints(setup: &Setup, peer: Peer, cases: &[Case], report: &mut Report) -> Result {
    let mut requests: Vec<Value> = cases
        .iter()
        .map(|case| case.mint_request(API_KEY, API_SECRET))
        .collect();
    requests.push(cases[0].mint_request(API_KEY, OTHER_SECRET));
    let results = peer.call(setup, "mint", &requests)?;

    for (case, minted) in cases.iter().zip(&results) {
        let label = format!("{} mints case {}", peer.name(), case.name);
        let unsupported = string_list(&minted["unsupported"]);
        for claim in &unsupported {
            println!(
                "interop: {label}: skipped claim {claim} ({} {} has no API to set it)",
                peer.package(),
                peer.version()
            );
        }
        let token = minted["token"].as_str().unwrap_or_default();
        let mut problems = Vec::new();
        match our_verify(setup, token, None)? {
            Err(error) => problems.push(format!("we rejected the peer's token: {error}")),
            Ok(decoded) => {
                // Both SDKs read the clock twice (for nbf and for exp), a second apart at worst.
                check_registered(setup, &decoded, case.ttl(), 1, &mut problems);
                for claim in ["nbf", "exp"] {
                    if decoded[claim] != minted[claim] {
                        problems.push(differs(claim, &minted[claim], &decoded[claim]));
                    }
                }
                let mut claims = decoded;
                if let Some(claims) = claims.as_object_mut() {
                    for claim in ["iss", "nbf", "exp"] {
                        claims.remove(claim);
                    }
                }
                let expected = peer.expected_claims(case, &unsupported, Direction::PeerMints);
                compare_claims(&expected, &claims, &mut problems);
            }
        }
        report.record(&label, &problems);
    }

    let label = format!("{} mints case wrong_secret", peer.name());
    let token = results[cases.len()]["token"].as_str().unwrap_or_default();
    let problems = match our_verify(setup, token, None)? {
        Err(_) => Vec::new(),
        Ok(_) => vec!["we accepted a token signed with another secret".to_owned()],
    };
    report.record(&label, &problems);
    Ok(())
}

/// Checks `iss`, `nbf` and `exp` as read from a token minted during this run.
fn check_registered(
    setup: &Setup,
    decoded: &Value,
    ttl: u64,
    slack: u64,
    problems: &mut Vec<String>,
) {
    if decoded["iss"] != API_KEY {
        problems.push(differs("iss", &json!(API_KEY), &decoded["iss"]));
    }
    let (Some(nbf), Some(exp)) = (decoded["nbf"].as_u64(), decoded["exp"].as_u64()) else {
        problems.push(format!(
            "claims nbf and exp must be integers, got {} and {}",
            decoded["nbf"], decoded["exp"]
        ));
        return;
    };
    let now = unix_now();
    if nbf < setup.started || nbf > now + 1 {
        problems.push(format!(
            "claim nbf differs: expected a time between {} and {now}, got {nbf}",
            setup.started
        ));
    }
    let lived = exp.saturating_sub(nbf);
    if lived.abs_diff(ttl) > slack {
        problems.push(format!(
            "claim exp differs: expected nbf + {ttl} = {}, got {exp} (nbf + {lived})",
            nbf + ttl
        ));
    }
}

/// Compares normalized claims and describes every difference.
fn compare_claims(expected: &Value, actual: &Value, problems: &mut Vec<String>) {
    let expected = normalize(expected, "").unwrap_or_else(|| json!({}));
    let actual = normalize(actual, "").unwrap_or_else(|| json!({}));
    diff(&expected, &actual, "", problems);
}

/// Drops what means "unset" so equal claims compare equal however a minter spelled them:
/// `null`, `""`, `false` (except for the tri-state video flags), empty lists and objects.
/// Inside `roomConfig` (protojson) zeros and the zero enum value are defaults too: protobuf-es
/// writes every default, Python's `MessageToDict` none.
fn normalize(value: &Value, path: &str) -> Option<Value> {
    let in_room_config = path.starts_with("roomConfig");
    match value {
        Value::Null => None,
        Value::Bool(false) if !TRI_STATE_FLAGS.contains(&path) => None,
        Value::String(text) if text.is_empty() => None,
        Value::String(text) if in_room_config && text == "JRP_ON_FAILURE" => None,
        Value::Number(number) if in_room_config && number.as_f64() == Some(0.0) => None,
        Value::Array(items) => {
            let items: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    normalize(item, &format!("{path}[{index}]")).unwrap_or_else(|| json!({}))
                })
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(fields) => {
            let fields: Map<String, Value> = fields
                .iter()
                .filter_map(|(key, item)| {
                    let child = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    normalize(item, &child).map(|item| (key.clone(), item))
                })
                .collect();
            (!fields.is_empty()).then_some(Value::Object(fields))
        }
        other => Some(other.clone()),
    }
}

fn diff(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            let mut keys: Vec<&String> = expected.keys().chain(actual.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let missing = Value::Null;
                diff(
                    expected.get(key).unwrap_or(&missing),
                    actual.get(key).unwrap_or(&missing),
                    &child,
                    problems,
                );
            }
        }
        (Value::Array(expected_items), Value::Array(actual_items))
            if expected_items.len() == actual_items.len() =>
        {
            for (index, (expected, actual)) in expected_items.iter().zip(actual_items).enumerate() {
                diff(expected, actual, &format!("{path}[{index}]"), problems);
            }
        }
        _ if expected == actual => {}
        _ => problems.push(differs(path, expected, actual)),
    }
}

fn differs(claim: &str, expected: &Value, actual: &Value) -> String {
    let show = |value: &Value| match value {
        Value::Null => "(absent)".to_owned(),
        other => other.to_string(),
    };
    format!(
        "claim {claim} differs: expected {}, got {}",
        show(expected),
        show(actual)
    )
}

/// Mints `case` with our CLI at the current time.
fn our_mint(setup: &Setup, case: &Case, api_secret: &str) -> Result<String> {
    let mut command = Command::new(&setup.cli);
    command
        .args(["token", "create", "--claims"])
        .arg(Value::Object(case.claims.clone()).to_string())
        .env("LIVEKIT_API_KEY", API_KEY)
        .env("LIVEKIT_API_SECRET", api_secret);
    if let Some(ttl) = case.ttl {
        command.arg("--ttl").arg(ttl.to_string());
    }
    let output = run_with_input(&mut command, "")?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Verifies `token` with our CLI: the decoded claims, or the one-line reason it was refused.
/// Fails only when the CLI itself misbehaves.
fn our_verify(
    setup: &Setup,
    token: &str,
    credentials: Option<(&str, &str)>,
) -> Result<core::result::Result<Value, String>> {
    let (api_key, api_secret) = credentials.unwrap_or((API_KEY, API_SECRET));
    let output = run_with_input(
        Command::new(&setup.cli)
            .args(["token", "verify", "-"])
            .env("LIVEKIT_API_KEY", api_key)
            .env("LIVEKIT_API_SECRET", api_secret),
        token,
    )?;
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    match output.status.code() {
        Some(0) => serde_json::from_slice(&output.stdout)
            .map(Ok)
            .map_err(|error| format!("`livekit token verify` printed no JSON: {error}")),
        Some(1) => Ok(Err(stderr)),
        _ => Err(format!(
            "`livekit token verify` failed ({}): {stderr}",
            output.status
        )),
    }
}

/// Every peer mints every case with fixture credentials; the tokens, the clock they were
/// minted at and the claims they must carry go to the `peer_tokens` test's fixture.
fn write_peer_fixtures(setup: &Setup, cases: &[Case], report: &mut Report) -> Result {
    let mut tokens = Vec::new();
    for peer in [Peer::Python, Peer::Node] {
        let (api_key, api_secret) = match peer {
            Peer::Python => ("APIpythonFixture", "python-livekit-api-fixture-secret-0001"),
            Peer::Node => ("APInodeFixture", "node-livekit-server-sdk-fixture-secret-1"),
        };
        let requests: Vec<Value> = cases
            .iter()
            .map(|case| case.mint_request(api_key, api_secret))
            .collect();
        let batch = peer.call(setup, "mint", &requests)?;
        for ((case, request), minted) in cases.iter().zip(&requests).zip(batch) {
            let minted = mint_exact_ttl(setup, peer, case, request, minted)?;
            let label = format!("{} fixture case {}", peer.name(), case.name);
            let unsupported = string_list(&minted["unsupported"]);
            let expected = peer.expected_claims(case, &unsupported, Direction::PeerMints);
            let expected = normalize(&expected, "").unwrap_or_else(|| json!({}));
            let token = minted["token"].as_str().unwrap_or_default();
            let minted_at = minted["nbf"].as_u64().unwrap_or_default();
            // The fixture is only written if we verify it, at the clock it was minted at.
            let mut problems = Vec::new();
            let checked = our_verify(setup, token, Some((api_key, api_secret)))?;
            match checked {
                Err(error) => problems.push(format!("we rejected the peer's token: {error}")),
                Ok(mut decoded) => {
                    if let Some(claims) = decoded.as_object_mut() {
                        for claim in ["iss", "nbf", "exp"] {
                            claims.remove(claim);
                        }
                    }
                    compare_claims(&expected, &decoded, &mut problems);
                }
            }
            report.record(&label, &problems);
            tokens.push(json!({
                "peer": peer.name(),
                "package": peer.package(),
                "peer_version": peer.version(),
                "case": case.name,
                "api_key": api_key,
                "api_secret": api_secret,
                "minted_at": minted_at,
                "ttl": case.ttl(),
                "token": token,
                "unsupported": unsupported,
                "claims": expected,
            }));
        }
    }
    if report.failed > 0 {
        return Ok(());
    }
    let fixture = json!({
        "generated_by": "cargo xtask interop --write-fixtures",
        "tokens": tokens,
    });
    let path = workspace_root().join(FIXTURES);
    let parent = path.parent().unwrap_or(&path);
    std::fs::create_dir_all(parent)
        .map_err(|error| format!("creating {}: {error}", parent.display()))?;
    let text = serde_json::to_string_pretty(&fixture).map_err(|error| error.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|error| format!("writing {}: {error}", path.display()))?;
    println!("interop: wrote {} tokens to {FIXTURES}", cases.len() * 2);
    Ok(())
}

/// Re-mints until `exp - nbf` is exactly the ttl: the SDKs read the clock twice, and the
/// fixture test expects expiry at `minted_at + ttl`.
fn mint_exact_ttl(
    setup: &Setup,
    peer: Peer,
    case: &Case,
    request: &Value,
    mut minted: Value,
) -> Result<Value> {
    for _ in 0..5 {
        let nbf = minted["nbf"].as_u64().unwrap_or_default();
        let exp = minted["exp"].as_u64().unwrap_or_default();
        if exp.checked_sub(nbf) == Some(case.ttl()) {
            return Ok(minted);
        }
        minted = peer
            .call(setup, "mint", core::slice::from_ref(request))?
            .remove(0);
    }
    Err(format!(
        "{} kept minting case {} with exp - nbf other than {}",
        peer.name(),
        case.name,
        case.ttl()
    ))
}

fn load_cases() -> Result<Vec<Case>> {
    let cases: Vec<Value> = serde_json::from_str(CASES)
        .map_err(|error| format!("xtask/interop/cases.json: {error}"))?;
    cases
        .into_iter()
        .map(|case| {
            let name = case["name"].as_str().unwrap_or_default().to_owned();
            let claims = case["claims"].as_object().cloned();
            match (name.is_empty(), claims) {
                (false, Some(claims)) => Ok(Case {
                    name,
                    ttl: case["ttl"].as_u64(),
                    claims,
                }),
                _ => Err(format!("xtask/interop/cases.json: malformed case {case}")),
            }
        })
        .collect()
}

/// A virtualenv with the pinned `livekit-api`; returns its interpreter.
fn ensure_python(venv: &Path) -> Result<PathBuf> {
    let python = venv.join("bin/python");
    let installed = || {
        let output = Command::new(&python)
            .args([
                "-c",
                &format!("import importlib.metadata as m; print(m.version('{PYTHON_PACKAGE}'))"),
            ])
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    if installed().as_deref() == Some(PYTHON_VERSION) {
        println!(
            "interop: {PYTHON_PACKAGE} {PYTHON_VERSION} already installed in {}",
            venv.display()
        );
        return Ok(python);
    }
    println!(
        "interop: installing {PYTHON_PACKAGE} {PYTHON_VERSION} in a fresh virtualenv at {}",
        venv.display()
    );
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(venv))
    .map_err(|error| format!("{error} (on Debian, `apt-get install python3-venv`)"))?;
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("{PYTHON_PACKAGE}=={PYTHON_VERSION}"),
    ]))?;
    match installed() {
        Some(version) if version == PYTHON_VERSION => Ok(python),
        other => Err(format!(
            "{PYTHON_PACKAGE} {PYTHON_VERSION} is not importable after installing (found {other:?})"
        )),
    }
}

/// An npm folder with the pinned `livekit-server-sdk` and our peer script beside it.
fn ensure_node(dir: &Path) -> Result<PathBuf> {
    let manifest = dir
        .join("node_modules")
        .join(NODE_PACKAGE)
        .join("package.json");
    let installed = || -> Option<String> {
        let text = std::fs::read_to_string(&manifest).ok()?;
        let manifest: Value = serde_json::from_str(&text).ok()?;
        manifest["version"].as_str().map(str::to_owned)
    };
    if installed().as_deref() == Some(NODE_VERSION) {
        println!(
            "interop: {NODE_PACKAGE} {NODE_VERSION} already installed in {}",
            dir.display()
        );
    } else {
        println!(
            "interop: installing {NODE_PACKAGE} {NODE_VERSION} in {}",
            dir.display()
        );
        std::fs::create_dir_all(dir)
            .map_err(|error| format!("creating {}: {error}", dir.display()))?;
        let package = json!({
            "name": "livekit-rs-interop",
            "private": true,
            "dependencies": { NODE_PACKAGE: NODE_VERSION },
        });
        let package_path = dir.join("package.json");
        std::fs::write(&package_path, format!("{package:#}\n"))
            .map_err(|error| format!("writing {}: {error}", package_path.display()))?;
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir))?;
        if installed().as_deref() != Some(NODE_VERSION) {
            return Err(format!(
                "{NODE_PACKAGE} {NODE_VERSION} is not in {} after npm install",
                dir.display()
            ));
        }
    }
    // The script must sit beside node_modules for its import to resolve.
    let source = workspace_root().join("xtask/interop/peer.mjs");
    let script = dir.join("peer.mjs");
    std::fs::copy(&source, &script).map_err(|error| {
        format!(
            "copying {} to {}: {error}",
            source.display(),
            script.display()
        )
    })?;
    Ok(dir.to_path_buf())
}

/// The `livekit` binary `cargo build -p livekit-cli` just built.
fn cli_path() -> PathBuf {
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        // cargo() runs in the workspace root, so a relative target dir is relative to it.
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    target
        .join("debug")
        .join(format!("livekit{}", std::env::consts::EXE_SUFFIX))
}

fn run_with_input(command: &mut Command, input: &str) -> Result<Output> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("could not start `{program}`: {error}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|error| format!("writing to `{program}`: {error}"))?;
    }
    child
        .wait_with_output()
        .map_err(|error| format!("waiting for `{program}`: {error}"))
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
