//! `cargo xtask server`: builds, starts and stops the real LiveKit server on loopback, for the
//! end-to-end tests and for people.
//!
//! - `build [--version vX.Y.Z]`: livekit-server [`DEFAULT_VERSION`] unless told otherwise (at
//!   least [`OLDEST_VERSION`]), built with `CGO_ENABLED=0` into a cache outside the repository:
//!   `${LIVEKIT_RS_CACHE:-$HOME/.cache/livekit-rs}/server/<version>/livekit-server`. A release
//!   whose `go.mod` has no `replace` is `go install`ed as published. Releases from v1.13.6 on
//!   replace pion's `webrtc`, `dtls` and `ice` with LiveKit forks that the Go module proxy
//!   does not serve (only their git repositories do), so `go install` refuses them and a
//!   module-proxy-only machine cannot fetch the forks: those are built from the release's
//!   module source with the fork `replace`s dropped (upstream pion at the versions `go.mod`
//!   requires) and the two calls into the forks' WARP handshake removed. WARP is off unless
//!   `enable_warp` is set, which our config never does; `BUILD.txt` beside the binary says
//!   what was changed.
//! - `start`: `redis-server` (no persistence) and `livekit-server --dev`, both on 127.0.0.1,
//!   with the test keys, ICE/TCP off and optional webhook URLs; waits until `GET /` answers 200.
//!   Both run detached unless `--foreground`. The run directory `<cache>/server/run/<port>/`
//!   holds the generated config, the logs and the PID files. `--cluster-node a|b` starts one
//!   node of a two-node cluster (see [`ClusterNode`]): `a` with its redis, `b` (on another
//!   port, with the same `--redis-port`) without, using `a`'s.
//! - `stop`: SIGTERM, then SIGKILL after 10 s, for both; idempotent.
//! - `status`: what runs on a port.
//!
//! Inside xtask, `start` returns a `RunningServer` that stops both processes when dropped.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{Result, cache_dir};

/// The LiveKit server release the end-to-end tier, the benches and the examples run against.
pub(crate) const DEFAULT_VERSION: &str = "v1.13.11";
/// The oldest release the SDK supports (`cargo xtask e2e --server v1.13.5` checks it).
pub(crate) const OLDEST_VERSION: &str = "v1.13.5";
/// The Go module of the server.
const MODULE: &str = "github.com/livekit/livekit-server";
/// The Go package `go install` builds; its binary is called `server`.
const PACKAGE: &str = "github.com/livekit/livekit-server/cmd/server";
/// What a fork-free build removes from `pkg/rtc/transport.go`: the only calls into API that
/// the LiveKit forks of pion add (the WARP handshake, behind the off-by-default
/// `enable_warp`).
const WARP_CALLS: &str = "\t\tse.EnableSped(true)\n\t\tse.EnableSctpSnap(true)\n";
/// LiveKit's own default HTTP port.
pub(crate) const DEFAULT_PORT: u16 = 7880;
/// Not redis's 6379, so a system redis never clashes with ours.
pub(crate) const DEFAULT_REDIS_PORT: u16 = 16379;
/// The key pair `--dev` uses, and the one the tests sign with.
pub(crate) const DEV_API_KEY: &str = "devkey";
/// The secret of [`DEV_API_KEY`].
pub(crate) const DEV_API_SECRET: &str = "secret";
/// ICE/UDP ports, taken per peer connection (not bound up front), so servers can share them.
const ICE_PORT_RANGE: (u16, u16) = (50000, 50100);
/// The server answers 406 "Not Ready" until its first node stats update, about a second in.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const REDIS_READY_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

const USAGE: &str = "usage: cargo xtask server <build | start | stop | status>
  build [--version v1.13.11]
            build livekit-server into the cache (skipped when already built)
  start [--version v1.13.11] [--port 7880] [--redis-port 16379] [--no-redis] [--webhook URL]...
        [--keys KEY:SECRET] [--cluster-node a|b] [--foreground]
            start redis-server and livekit-server on 127.0.0.1, wait until ready;
            --cluster-node: a node of a two-node cluster, a starting the redis, b (on another
            --port, the same --redis-port) using it
  stop [--port 7880]
            stop both (SIGTERM, SIGKILL after 10 s); idempotent
  status [--port 7880]";

/// What to start; `Default` is the test setup: the default version, dev keys, default ports,
/// no webhook.
#[derive(Clone)]
pub(crate) struct StartOptions {
    /// The livekit-server release, `vX.Y.Z` (see [`parse_version`]).
    pub(crate) version: String,
    /// LiveKit's HTTP (API and signalling) port; also names the run directory.
    pub(crate) port: u16,
    /// The port of the private redis.
    pub(crate) redis_port: u16,
    /// Start redis beside the server. Rooms, participants, agent dispatch and webhooks work
    /// without it; SIP, ingress and egress need it.
    pub(crate) redis: bool,
    /// Where the server posts webhooks, signed with `api_key`.
    pub(crate) webhook_urls: Vec<String>,
    /// The only API key the server accepts.
    pub(crate) api_key: String,
    /// The secret of `api_key`.
    pub(crate) api_secret: String,
    /// Put both processes in their own process group so they outlive xtask and a Ctrl-C
    /// aimed at it. Otherwise they share xtask's group: Ctrl-C stops everything.
    pub(crate) detach: bool,
    /// A node of a cluster (see [`ClusterNode`]); `None`: a server on its own.
    pub(crate) cluster: Option<ClusterNode>,
}

/// One node of a cluster of livekit-servers sharing one redis, in which each node places the
/// rooms it creates on itself: every node has a region of its own and the region-aware node
/// selector prefers the nearest region, its own. Routing between nodes (a call to one node
/// about a room on the other) then happens on every call that names the other node's room,
/// rather than by chance as with the default random selector.
#[derive(Clone, Debug)]
pub(crate) struct ClusterNode {
    /// This node's region: a name from [`CLUSTER_REGIONS`].
    pub(crate) region: &'static str,
    /// Whether this node starts the cluster's redis (on `redis_port`), or uses the one the
    /// first node started.
    pub(crate) starts_redis: bool,
    /// Its ICE/UDP port range, apart from the other nodes'.
    pub(crate) ice_port_range: (u16, u16),
}

/// The regions of a cluster's nodes and where they are (latitude, longitude): far apart, so
/// that each node's own region is the nearest to it.
const CLUSTER_REGIONS: [(&str, f64, f64); 2] = [("node-a", 0.0, 0.0), ("node-b", 0.0, 90.0)];

/// The two nodes of a cluster: node A starts the redis, node B uses it.
pub(crate) const CLUSTER_NODES: [ClusterNode; 2] = [
    ClusterNode {
        region: CLUSTER_REGIONS[0].0,
        starts_redis: true,
        ice_port_range: (50200, 50299),
    },
    ClusterNode {
        region: CLUSTER_REGIONS[1].0,
        starts_redis: false,
        ice_port_range: (50300, 50399),
    },
];

impl Default for StartOptions {
    fn default() -> Self {
        Self {
            version: DEFAULT_VERSION.to_owned(),
            port: DEFAULT_PORT,
            redis_port: DEFAULT_REDIS_PORT,
            redis: true,
            webhook_urls: Vec::new(),
            api_key: DEV_API_KEY.to_owned(),
            api_secret: DEV_API_SECRET.to_owned(),
            detach: false,
            cluster: None,
        }
    }
}

/// A LiveKit server and its redis, both running; dropping it stops both.
pub(crate) struct RunningServer {
    version: String,
    port: u16,
    api_key: String,
    api_secret: String,
    run_dir: PathBuf,
    /// The livekit-server binary, to start it again.
    binary: PathBuf,
    /// The redis-server binary and port, when there is a redis.
    redis: Option<(PathBuf, u16)>,
    detach: bool,
    livekit: Option<Child>,
    redis_process: Option<Child>,
}

impl RunningServer {
    /// The server's base URL, `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The livekit-server release it runs.
    pub(crate) fn version(&self) -> &str {
        &self.version
    }

    /// The livekit-server binary it runs.
    pub(crate) fn binary(&self) -> &Path {
        &self.binary
    }

    /// The process id of livekit-server, while it runs.
    pub(crate) fn livekit_pid(&self) -> Option<u32> {
        self.livekit.as_ref().map(Child::id)
    }

    /// The environment the tests read: `LIVEKIT_URL`, `LIVEKIT_API_KEY`, `LIVEKIT_API_SECRET`.
    pub(crate) fn env(&self) -> [(&'static str, String); 3] {
        [
            ("LIVEKIT_URL", self.url()),
            ("LIVEKIT_API_KEY", self.api_key.clone()),
            ("LIVEKIT_API_SECRET", self.api_secret.clone()),
        ]
    }

    /// Stops the server, then redis, and removes the PID files.
    pub(crate) fn stop(mut self) -> Result {
        self.shutdown()
    }

    /// Leaves both processes running (their PID files say where) and forgets them.
    fn release(mut self) {
        self.livekit = None;
        self.redis_process = None;
    }

    /// Kills livekit-server with SIGKILL, as a crash would, and reaps it; redis stays.
    pub(crate) fn kill_livekit(&mut self) -> Result {
        let mut child = self.livekit.take().ok_or("livekit-server is not running")?;
        send_signal(child.id(), "KILL");
        child
            .wait()
            .map_err(|error| format!("could not reap livekit-server: {error}"))?;
        let _ = fs::remove_file(pid_file(&self.run_dir, "livekit-server"));
        Ok(())
    }

    /// Starts livekit-server again with the same configuration (and the same redis) and
    /// waits until it is ready.
    pub(crate) fn restart_livekit(&mut self) -> Result {
        if self.livekit.is_some() {
            return Err("livekit-server is already running".into());
        }
        self.spawn_livekit()
    }

    /// Whether livekit-server still runs (it may have died on its own).
    pub(crate) fn livekit_running(&mut self) -> bool {
        match &mut self.livekit {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Forgets a livekit-server that exited on its own, so it can be restarted.
    pub(crate) fn reap_livekit(&mut self) -> Option<String> {
        let mut child = self.livekit.take()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => {
                self.livekit = Some(child);
                None
            }
        }
    }

    /// Stops redis (SIGTERM), leaving livekit-server running without it.
    pub(crate) fn stop_redis(&mut self) -> Result {
        let mut child = self
            .redis_process
            .take()
            .ok_or("redis-server is not running")?;
        let pid = child.id();
        terminate("redis-server", pid, || {
            !matches!(child.try_wait(), Ok(None))
        })?;
        let _ = child.wait();
        let _ = fs::remove_file(pid_file(&self.run_dir, "redis-server"));
        Ok(())
    }

    /// Starts redis again on its port (empty: it keeps no data) and waits until it answers.
    pub(crate) fn start_redis(&mut self) -> Result {
        if self.redis_process.is_some() {
            return Err("redis-server is already running".into());
        }
        self.spawn_redis()
    }

    /// The path of one of the logs, `livekit-server.log` or `redis-server.log`.
    pub(crate) fn log_path(&self, name: &str) -> PathBuf {
        self.run_dir.join(format!("{name}.log"))
    }

    fn spawn_redis(&mut self) -> Result {
        let Some((binary, port)) = self.redis.clone() else {
            return Ok(());
        };
        let port_text = port.to_string();
        let mut redis = Command::new(binary);
        redis
            .args(["--bind", "127.0.0.1", "--port", &port_text])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.run_dir);
        self.redis_process = Some(spawn(
            &mut redis,
            "redis-server",
            &self.run_dir,
            self.detach,
        )?);
        wait_until_ready(self, "redis-server", REDIS_READY_TIMEOUT, || {
            redis_answers(port)
        })
    }

    fn spawn_livekit(&mut self) -> Result {
        let mut livekit = Command::new(&self.binary);
        livekit
            .args([
                "--dev",
                "--bind",
                "127.0.0.1",
                "--node-ip",
                "127.0.0.1",
                "--config",
            ])
            .arg(self.run_dir.join("livekit.yaml"));
        self.livekit = Some(spawn(
            &mut livekit,
            "livekit-server",
            &self.run_dir,
            self.detach,
        )?);
        let port = self.port;
        wait_until_ready(self, "livekit-server", READY_TIMEOUT, || {
            http_status(port) == Some(200)
        })
    }

    /// The first process found to have exited, with its status.
    fn exited(&mut self) -> Option<String> {
        for (name, child) in [
            ("livekit-server", &mut self.livekit),
            ("redis-server", &mut self.redis_process),
        ] {
            if let Some(child) = child
                && let Ok(Some(status)) = child.try_wait()
            {
                return Some(format!("{name} exited ({status})"));
            }
        }
        None
    }

    fn shutdown(&mut self) -> Result {
        // The server first: it talks to redis until it is gone.
        let mut errors = Vec::new();
        for (name, slot) in [
            ("livekit-server", &mut self.livekit),
            ("redis-server", &mut self.redis_process),
        ] {
            if let Some(mut child) = slot.take() {
                let pid = child.id();
                let outcome = terminate(name, pid, || !matches!(child.try_wait(), Ok(None)));
                if let Err(error) = outcome {
                    errors.push(error);
                }
                // Reap it (a no-op once try_wait saw the exit).
                let _ = child.wait();
                let _ = fs::remove_file(pid_file(&self.run_dir, name));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown() {
            eprintln!("server: {error}");
        }
    }
}

pub(crate) fn run_server(args: &[String]) -> Result {
    let Some((command, rest)) = args.split_first() else {
        return Err(USAGE.to_owned());
    };
    match command.as_str() {
        "build" => match rest {
            [] => build(DEFAULT_VERSION).map(drop),
            [flag, version] if flag == "--version" => build(&parse_version(version)?).map(drop),
            _ => Err(USAGE.to_owned()),
        },
        "start" => start_command(rest),
        "stop" => stop_command(parse_port_only(rest)?),
        "status" => status_command(parse_port_only(rest)?),
        _ => Err(USAGE.to_owned()),
    }
}

/// `version` if it reads `vX.Y.Z` and is not older than [`OLDEST_VERSION`].
pub(crate) fn parse_version(version: &str) -> Result<String> {
    let parsed = version_numbers(version).ok_or_else(|| {
        format!("`{version}` is not a livekit-server release (vX.Y.Z, like {DEFAULT_VERSION})")
    })?;
    let oldest = version_numbers(OLDEST_VERSION).expect("OLDEST_VERSION reads vX.Y.Z");
    if parsed < oldest {
        return Err(format!(
            "livekit-server {version} is older than {OLDEST_VERSION}, the oldest this SDK supports"
        ));
    }
    Ok(version.to_owned())
}

/// `vX.Y.Z` as numbers.
fn version_numbers(version: &str) -> Option<[u32; 3]> {
    let mut parts = version.strip_prefix('v')?.split('.');
    let mut numbers = [0; 3];
    for number in &mut numbers {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        *number = part.parse().ok()?;
    }
    parts.next().is_none().then_some(numbers)
}

/// Builds the server when the cache lacks it, and returns the binary's path.
pub(crate) fn build(version: &str) -> Result<PathBuf> {
    let dir = cache_dir()?.join("server").join(version);
    let binary = dir.join("livekit-server");
    if binary.is_file() {
        eprintln!(
            "server: livekit-server {version} already built: {}",
            binary.display()
        );
        return Ok(binary);
    }
    fs::create_dir_all(&dir)
        .map_err(|error| format!("could not create {}: {error}", dir.display()))?;
    let started = Instant::now();
    eprintln!("server: building livekit-server {version} (several minutes the first time)");
    let source = download_module(version)?;
    let go_mod = fs::read_to_string(source.join("go.mod"))
        .map_err(|error| format!("could not read {}/go.mod: {error}", source.display()))?;
    if go_mod
        .lines()
        .any(|line| line.trim_start().starts_with("replace"))
    {
        build_without_forks(version, &source, &go_mod, &dir, &binary)?;
    } else {
        go_install(version, &dir, &binary)?;
    }
    eprintln!(
        "server: built livekit-server {version} in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        binary.display()
    );
    Ok(binary)
}

/// The server's module source in the Go module cache (read-only), downloaded if needed.
fn download_module(version: &str) -> Result<PathBuf> {
    let output = Command::new("go")
        .args(["mod", "download", "-json", &format!("{MODULE}@{version}")])
        // Outside any module, so no go.mod can influence the download.
        .current_dir(std::env::temp_dir())
        .output()
        .map_err(|error| format!("could not run `go mod download`: {error} (is Go on PATH?)"))?;
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|error| {
        format!(
            "`go mod download {MODULE}@{version}` printed no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })?;
    if let Some(error) = answer.get("Error").and_then(serde_json::Value::as_str) {
        return Err(format!("`go mod download {MODULE}@{version}`: {error}"));
    }
    answer
        .get("Dir")
        .and_then(serde_json::Value::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| format!("`go mod download {MODULE}@{version}` named no directory"))
}

/// `go install` of the published release: only for a `go.mod` without `replace`.
fn go_install(version: &str, dir: &Path, binary: &Path) -> Result {
    // `go install` writes `server` into GOBIN; a private GOBIN and a rename make the cached
    // binary appear whole or not at all.
    let gobin = dir.join(".gobin");
    fs::create_dir_all(&gobin)
        .map_err(|error| format!("could not create {}: {error}", gobin.display()))?;
    crate::util::run(
        Command::new("go")
            .args(["install", &format!("{PACKAGE}@{version}")])
            .env("CGO_ENABLED", "0")
            .env("GOBIN", &gobin)
            // Outside any module, so the workspace cannot influence the build.
            .current_dir(dir),
    )
    .map_err(|error| format!("{error} (is Go installed and on PATH?)"))?;
    fs::rename(gobin.join("server"), binary).map_err(|error| {
        format!(
            "could not move the built server to {}: {error}",
            binary.display()
        )
    })?;
    let _ = fs::remove_dir(&gobin);
    Ok(())
}

/// The release built from a writable copy of its module source, with upstream pion instead of
/// the LiveKit forks its `go.mod` replaces it with (see the module documentation).
fn build_without_forks(
    version: &str,
    source: &Path,
    go_mod: &str,
    dir: &Path,
    binary: &Path,
) -> Result {
    let scratch = dir.join(".source");
    let _ = fs::remove_dir_all(&scratch);
    crate::util::run(Command::new("cp").arg("-R").arg(source).arg(&scratch))?;
    crate::util::run(Command::new("chmod").args(["-R", "u+w"]).arg(&scratch))?;

    let mut dropped = Vec::new();
    let mut kept = String::new();
    for line in go_mod.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["replace", from, "=>", to, _]
                if from.starts_with("github.com/pion/")
                    && to.starts_with("github.com/livekit/") =>
            {
                dropped.push(line.to_owned());
            }
            ["replace", ..] => {
                return Err(format!(
                    "livekit-server {version}: go.mod has a `replace` this build does not know: `{line}`"
                ));
            }
            _ => {
                kept.push_str(line);
                kept.push('\n');
            }
        }
    }
    write_file(&scratch.join("go.mod"), &kept)?;
    let transport = scratch.join("pkg/rtc/transport.go");
    let code = fs::read_to_string(&transport)
        .map_err(|error| format!("could not read {}: {error}", transport.display()))?;
    let warp_removed = code.contains(WARP_CALLS);
    write_file(&transport, &code.replacen(WARP_CALLS, "", 1))?;

    let partial = dir.join(".livekit-server.partial");
    crate::util::run(
        Command::new("go")
            .args(["build", "-mod=mod", "-buildvcs=false", "-o"])
            .arg(&partial)
            .arg("./cmd/server")
            .env("CGO_ENABLED", "0")
            .env_remove("GOFLAGS")
            .current_dir(&scratch),
    )
    .map_err(|error| {
        format!(
            "{error}: livekit-server {version} built with upstream pion instead of LiveKit's forks \
             does not compile; see `build_without_forks` in xtask/src/server.rs"
        )
    })?;
    let note = format!(
        "livekit-server {version}, built by `cargo xtask server build` from the module source of\n\
         {MODULE}@{version} with CGO_ENABLED=0, with these changes:\n\
         - go.mod: dropped (upstream pion at the required versions instead)\n{}\n\
         - pkg/rtc/transport.go: {}\n",
        dropped
            .iter()
            .map(|line| format!("    {line}"))
            .collect::<Vec<_>>()
            .join("\n"),
        match warp_removed {
            true =>
                "removed se.EnableSped(true) and se.EnableSctpSnap(true) (WARP, off unless enable_warp)",
            false => "unchanged",
        }
    );
    write_file(&dir.join("BUILD.txt"), &note)?;
    fs::rename(&partial, binary).map_err(|error| {
        format!(
            "could not move the built server to {}: {error}",
            binary.display()
        )
    })?;
    let _ = fs::remove_dir_all(&scratch);
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result {
    fs::write(path, text).map_err(|error| format!("could not write {}: {error}", path.display()))
}

/// Starts redis (unless told not to) and the server (building it first if needed) and waits
/// until it is ready.
pub(crate) fn start(options: &StartOptions) -> Result<RunningServer> {
    let binary = build(&options.version)?;
    // A cluster's second node uses the redis its first node started.
    let starts_redis = options.redis
        && options
            .cluster
            .as_ref()
            .is_none_or(|node| node.starts_redis);
    let redis_binary = match starts_redis {
        true => Some(find_on_path("redis-server").ok_or(
            "`redis-server` is not on PATH; install it (Debian: `apt-get install -y redis-server`)",
        )?),
        false => None,
    };
    let run_dir = run_dir(options.port)?;
    for name in ["livekit-server", "redis-server"] {
        if let Some(pid) = read_pid(&run_dir, name).filter(|&pid| is_running(pid, name)) {
            return Err(format!(
                "{name} for port {} already runs (pid {pid}); `cargo xtask server stop --port {}` first",
                options.port, options.port
            ));
        }
        let _ = fs::remove_file(pid_file(&run_dir, name));
    }
    for (name, port) in [
        ("livekit-server", Some(options.port)),
        ("redis-server", starts_redis.then_some(options.redis_port)),
    ] {
        let Some(port) = port else { continue };
        TcpListener::bind(("127.0.0.1", port))
            .map_err(|error| format!("port {port} for {name} is not free on 127.0.0.1: {error}"))?;
    }

    let started = Instant::now();
    let mut server = RunningServer {
        version: options.version.clone(),
        port: options.port,
        api_key: options.api_key.clone(),
        api_secret: options.api_secret.clone(),
        run_dir: run_dir.clone(),
        binary,
        redis: redis_binary.map(|binary| (binary, options.redis_port)),
        detach: options.detach,
        livekit: None,
        redis_process: None,
    };
    server.spawn_redis()?;

    let config = run_dir.join("livekit.yaml");
    fs::write(&config, config_yaml(options))
        .map_err(|error| format!("could not write {}: {error}", config.display()))?;
    server.spawn_livekit()?;
    eprintln!(
        "server: livekit-server {} ready at {} in {:.1} s (logs: {})",
        server.version,
        server.url(),
        started.elapsed().as_secs_f64(),
        run_dir.display()
    );
    Ok(server)
}

/// The LiveKit config: what the command-line flags (`--dev --bind 127.0.0.1 --node-ip
/// 127.0.0.1`) cannot say. `node_ip` stays out: v1.13.5 appends `--node-ip` to it and
/// silently drops the resulting "multiple ipv4 addresses" error.
fn config_yaml(options: &StartOptions) -> String {
    let ice_port_range = options
        .cluster
        .as_ref()
        .map_or(ICE_PORT_RANGE, |node| node.ice_port_range);
    let mut yaml = format!(
        "# Written by `cargo xtask server start`, rewritten on every start.
port: {port}
bind_addresses: [\"127.0.0.1\"]
rtc:
  # 0 turns ICE/TCP off.
  tcp_port: 0
  port_range_start: {ice_start}
  port_range_end: {ice_end}
  use_external_ip: false
  enable_loopback_candidate: true
keys:
  {key}: {secret}
logging:
  level: info
",
        port = options.port,
        ice_start = ice_port_range.0,
        ice_end = ice_port_range.1,
        key = yaml_string(&options.api_key),
        secret = yaml_string(&options.api_secret),
    );
    if options.redis {
        yaml.push_str(&format!(
            "redis:\n  address: \"127.0.0.1:{}\"\n",
            options.redis_port
        ));
    }
    if let Some(node) = &options.cluster {
        yaml.push_str(&format!(
            // Both nodes share one machine and so one load average: no load limit, which
            // could make a node prefer the other while their figures straddle it.
            "region: {}\nnode_selector:\n  kind: regionaware\n  sort_by: random\n  \
             sysload_limit: 1000.0\n  regions:\n",
            yaml_string(node.region)
        ));
        for (name, lat, lon) in CLUSTER_REGIONS {
            yaml.push_str(&format!(
                "    - name: {}\n      lat: {lat:.1}\n      lon: {lon:.1}\n",
                yaml_string(name)
            ));
        }
    }
    if !options.webhook_urls.is_empty() {
        yaml.push_str(&format!(
            "webhook:\n  api_key: {}\n  urls:\n",
            yaml_string(&options.api_key)
        ));
        for url in &options.webhook_urls {
            yaml.push_str(&format!("    - {}\n", yaml_string(url)));
        }
    }
    yaml
}

/// A double-quoted YAML scalar.
fn yaml_string(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

fn start_command(args: &[String]) -> Result {
    let mut options = StartOptions {
        detach: true,
        ..StartOptions::default()
    };
    let mut foreground = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("`{arg}` needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--version" => options.version = parse_version(value()?)?,
            "--port" => options.port = parse_port(value()?)?,
            "--redis-port" => options.redis_port = parse_port(value()?)?,
            "--webhook" => options.webhook_urls.push(value()?.clone()),
            "--keys" => {
                let pair = value()?;
                let (key, secret) = pair
                    .split_once(':')
                    .filter(|(key, secret)| !key.is_empty() && !secret.is_empty())
                    .ok_or_else(|| format!("`--keys` takes KEY:SECRET, got `{pair}`"))?;
                options.api_key = key.to_owned();
                options.api_secret = secret.to_owned();
            }
            "--foreground" => foreground = true,
            "--no-redis" => options.redis = false,
            "--cluster-node" => {
                options.cluster = Some(match value()?.as_str() {
                    "a" => CLUSTER_NODES[0].clone(),
                    "b" => CLUSTER_NODES[1].clone(),
                    other => return Err(format!("`--cluster-node` takes a or b, got `{other}`")),
                });
            }
            other => return Err(format!("unknown `start` argument `{other}`\n{USAGE}")),
        }
    }
    options.detach = !foreground;

    let mut server = start(&options)?;
    let env = server.env().map(|(name, value)| format!("{name}={value}"));
    println!("{}", env.join(" "));
    if !foreground {
        eprintln!(
            "server: running in the background; `cargo xtask server stop --port {}` stops it",
            options.port
        );
        server.release();
        return Ok(());
    }

    eprintln!("server: running in the foreground; Ctrl-C or closing stdin (Ctrl-D) stops it");
    let (stdin_closed, closed) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = stdin_closed.send(());
    });
    loop {
        if let Some(exit) = server.exited() {
            drop(server);
            return Err(exit);
        }
        match closed.recv_timeout(Duration::from_millis(200)) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    eprintln!("server: stdin closed, stopping");
    server.stop()
}

fn stop_command(port: u16) -> Result {
    let run_dir = run_dir(port)?;
    let mut errors = Vec::new();
    let mut stopped = false;
    for name in ["livekit-server", "redis-server"] {
        let Some(pid) = read_pid(&run_dir, name) else {
            continue;
        };
        if is_running(pid, name) {
            stopped = true;
            let started = Instant::now();
            match terminate(name, pid, || !is_running(pid, name)) {
                Ok(()) => eprintln!(
                    "server: stopped {name} (pid {pid}) in {:.1} s",
                    started.elapsed().as_secs_f64()
                ),
                Err(error) => errors.push(error),
            }
        }
        let _ = fs::remove_file(pid_file(&run_dir, name));
    }
    if errors.is_empty() {
        if !stopped {
            eprintln!("server: nothing runs for port {port}");
        }
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn status_command(port: u16) -> Result {
    let run_dir = run_dir(port)?;
    for name in ["livekit-server", "redis-server"] {
        match read_pid(&run_dir, name) {
            Some(pid) if is_running(pid, name) => println!("{name}: running (pid {pid})"),
            Some(pid) => println!("{name}: not running (stale pid {pid})"),
            None => println!("{name}: not running"),
        }
    }
    match http_status(port) {
        Some(200) => println!("GET http://127.0.0.1:{port}/: 200, ready"),
        Some(status) => println!("GET http://127.0.0.1:{port}/: {status}, not ready"),
        None => println!("GET http://127.0.0.1:{port}/: no answer"),
    }
    println!("run directory: {}", run_dir.display());
    Ok(())
}

fn parse_port_only(args: &[String]) -> Result<u16> {
    match args {
        [] => Ok(DEFAULT_PORT),
        [flag, port] if flag == "--port" => parse_port(port),
        _ => Err(USAGE.to_owned()),
    }
}

fn parse_port(text: &str) -> Result<u16> {
    text.parse()
        .ok()
        .filter(|&port| port != 0)
        .ok_or_else(|| format!("`{text}` is not a port"))
}

fn run_dir(port: u16) -> Result<PathBuf> {
    let dir = cache_dir()?
        .join("server")
        .join("run")
        .join(port.to_string());
    fs::create_dir_all(&dir)
        .map_err(|error| format!("could not create {}: {error}", dir.display()))?;
    Ok(dir)
}

fn pid_file(run_dir: &Path, name: &str) -> PathBuf {
    run_dir.join(format!("{name}.pid"))
}

fn read_pid(run_dir: &Path, name: &str) -> Option<u32> {
    fs::read_to_string(pid_file(run_dir, name))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Spawns `command` with its output going to `<name>.log` and its PID to `<name>.pid`.
fn spawn(command: &mut Command, name: &str, run_dir: &Path, detach: bool) -> Result<Child> {
    use std::os::unix::process::CommandExt;

    let log_path = run_dir.join(format!("{name}.log"));
    let log = fs::File::create(&log_path)
        .map_err(|error| format!("could not create {}: {error}", log_path.display()))?;
    let log_for_stderr = log
        .try_clone()
        .map_err(|error| format!("could not reopen {}: {error}", log_path.display()))?;
    command
        .current_dir(run_dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_for_stderr);
    if detach {
        command.process_group(0);
    }
    let child = command
        .spawn()
        .map_err(|error| format!("could not start {name}: {error}"))?;
    let pid_path = pid_file(run_dir, name);
    fs::write(&pid_path, format!("{}\n", child.id()))
        .map_err(|error| format!("could not write {}: {error}", pid_path.display()))?;
    Ok(child)
}

/// Polls `ready` until it holds, failing early (with the log's tail) if a process exits.
fn wait_until_ready(
    server: &mut RunningServer,
    name: &str,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result {
    let started = Instant::now();
    loop {
        if ready() {
            return Ok(());
        }
        if let Some(exit) = server.exited() {
            return Err(format!("{exit}\n{}", log_tail(&server.run_dir, name)));
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "{name} not ready after {} s\n{}",
                timeout.as_secs(),
                log_tail(&server.run_dir, name)
            ));
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

fn log_tail(run_dir: &Path, name: &str) -> String {
    let path = run_dir.join(format!("{name}.log"));
    let text = fs::read_to_string(&path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("last lines of {}:\n{tail}", path.display())
}

/// SIGTERM every second, then SIGKILL if the process outlives [`STOP_TIMEOUT`].
///
/// Repeated because livekit-server v1.13.5 ignores a SIGTERM that lands in the 100 ms between
/// answering HTTP and marking itself running; its second signal means "stop without waiting
/// for participants", which suits a test server.
fn terminate(name: &str, pid: u32, mut exited: impl FnMut() -> bool) -> Result {
    let started = Instant::now();
    while !exited() {
        if started.elapsed() > STOP_TIMEOUT {
            break;
        }
        send_signal(pid, "TERM");
        wait_for(Duration::from_secs(1), &mut exited);
    }
    if exited() {
        return Ok(());
    }
    eprintln!(
        "server: {name} (pid {pid}) outlived SIGTERM by {} s, sending SIGKILL",
        STOP_TIMEOUT.as_secs()
    );
    send_signal(pid, "KILL");
    if wait_for(Duration::from_secs(5), &mut exited) {
        Ok(())
    } else {
        Err(format!("{name} (pid {pid}) survived SIGKILL"))
    }
}

fn wait_for(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while !condition() {
        if started.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    true
}

/// `kill -<signal> <pid>`; std has no way to send anything but SIGKILL.
fn send_signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Whether `pid` is alive and still `name` (a PID file can outlive its process and the PID be
/// reused). Where `/proc` exists, zombies count as gone: an orphan waits there for a reaper.
fn is_running(pid: u32, name: &str) -> bool {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    if Path::new("/proc/self").exists() {
        let Ok(stat) = fs::read_to_string(proc.join("stat")) else {
            return false;
        };
        // `pid (comm) state ...`; comm may hold spaces and parentheses.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if state == Some("Z") {
            return false;
        }
        let cmdline = fs::read(proc.join("cmdline")).unwrap_or_default();
        return String::from_utf8_lossy(&cmdline).contains(name);
    }
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The status code of `GET http://127.0.0.1:<port>/`, over plain HTTP/1.0.
fn http_status(port: u16) -> Option<u16> {
    let mut stream = connect(port)?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut response = Vec::new();
    // HTTP/1.0 without keep-alive: the server closes after the body.
    stream.read_to_end(&mut response).ok()?;
    let status_line = String::from_utf8_lossy(&response);
    let mut words = status_line.split_whitespace();
    words
        .next()
        .filter(|version| version.starts_with("HTTP/"))?;
    words.next()?.parse().ok()
}

/// Whether redis on `port` answers `PING` with `+PONG`.
fn redis_answers(port: u16) -> bool {
    let Some(mut stream) = connect(port) else {
        return false;
    };
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.trim_end() == "+PONG"
}

fn connect(port: u16) -> Option<TcpStream> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let stream = TcpStream::connect_timeout(&address, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .ok()?;
    Some(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_node_has_its_region_the_region_aware_selector_and_its_own_ice_ports() {
        let node_b = config_yaml(&StartOptions {
            port: 7931,
            cluster: Some(CLUSTER_NODES[1].clone()),
            ..StartOptions::default()
        });
        for line in [
            "port_range_start: 50300\n",
            "port_range_end: 50399\n",
            "redis:\n  address: \"127.0.0.1:16379\"\n",
            "region: \"node-b\"\n",
            "  kind: regionaware\n",
            "    - name: \"node-a\"\n",
            "    - name: \"node-b\"\n",
        ] {
            assert!(node_b.contains(line), "no {line:?} in\n{node_b}");
        }
        let single = config_yaml(&StartOptions::default());
        assert!(single.contains("port_range_start: 50000\n"), "{single}");
        assert!(!single.contains("region"), "{single}");
        // Node A's ICE ports are apart from node B's and from a single server's.
        let [a, b] = CLUSTER_NODES;
        assert!(a.ice_port_range.1 < b.ice_port_range.0);
        assert!(super::ICE_PORT_RANGE.1 < a.ice_port_range.0);
        assert!(a.starts_redis && !b.starts_redis);
    }

    #[test]
    fn versions_are_releases_not_older_than_the_oldest_supported() {
        assert_eq!(parse_version("v1.13.5"), Ok("v1.13.5".to_owned()));
        assert_eq!(parse_version("v1.13.11"), Ok("v1.13.11".to_owned()));
        assert_eq!(parse_version("v2.0.0"), Ok("v2.0.0".to_owned()));
        // Numerically, not as text: v1.13.11 is newer than v1.13.5.
        assert!(version_numbers("v1.13.11") > version_numbers("v1.13.5"));
        for older in ["v1.13.4", "v1.12.99", "v0.15.0"] {
            let error = parse_version(older).unwrap_err();
            assert!(error.contains("older than v1.13.5"), "{error}");
        }
        for malformed in [
            "1.13.5",
            "v1.13",
            "v1.13.5.1",
            "v1.13.x",
            "v1..5",
            "latest",
            "",
        ] {
            let error = parse_version(malformed).unwrap_err();
            assert!(error.contains("is not a livekit-server release"), "{error}");
        }
    }

    #[test]
    fn the_default_version_is_supported() {
        assert_eq!(
            parse_version(DEFAULT_VERSION).as_deref(),
            Ok(DEFAULT_VERSION)
        );
    }
}
