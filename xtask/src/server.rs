//! `cargo xtask server`: builds, starts and stops the real LiveKit server on loopback, for the
//! end-to-end tests and for people.
//!
//! - `build`: `go install github.com/livekit/livekit-server/cmd/server@v1.13.5` with
//!   `CGO_ENABLED=0`, into a cache outside the repository:
//!   `${LIVEKIT_RS_CACHE:-$HOME/.cache/livekit-rs}/server/v1.13.5/livekit-server`.
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

/// The LiveKit server release the end-to-end tests run against.
pub(crate) const VERSION: &str = "v1.13.5";
/// The Go package `go install` builds; its binary is called `server`.
const PACKAGE: &str = "github.com/livekit/livekit-server/cmd/server";
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
  build     go install livekit-server into the cache (skipped when already built)
  start [--port 7880] [--redis-port 16379] [--no-redis] [--webhook URL]... [--keys KEY:SECRET]
        [--cluster-node a|b] [--foreground]
            start redis-server and livekit-server on 127.0.0.1, wait until ready;
            --cluster-node: a node of a two-node cluster, a starting the redis, b (on another
            --port, the same --redis-port) using it
  stop [--port 7880]
            stop both (SIGTERM, SIGKILL after 10 s); idempotent
  status [--port 7880]";

/// What to start; `Default` is the test setup: dev keys, default ports, no webhook.
#[derive(Clone)]
pub(crate) struct StartOptions {
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
        "build" if rest.is_empty() => build().map(drop),
        "start" => start_command(rest),
        "stop" => stop_command(parse_port_only(rest)?),
        "status" => status_command(parse_port_only(rest)?),
        _ => Err(USAGE.to_owned()),
    }
}

/// Builds the server when the cache lacks it, and returns the binary's path.
pub(crate) fn build() -> Result<PathBuf> {
    let dir = cache_dir()?.join("server").join(VERSION);
    let binary = dir.join("livekit-server");
    if binary.is_file() {
        eprintln!(
            "server: livekit-server {VERSION} already built: {}",
            binary.display()
        );
        return Ok(binary);
    }
    // `go install` writes `server` into GOBIN; a private GOBIN and a rename make the cached
    // binary appear whole or not at all.
    let gobin = dir.join(".gobin");
    fs::create_dir_all(&gobin)
        .map_err(|error| format!("could not create {}: {error}", gobin.display()))?;
    let started = Instant::now();
    eprintln!("server: building livekit-server {VERSION} (several minutes the first time)");
    crate::util::run(
        Command::new("go")
            .args(["install", &format!("{PACKAGE}@{VERSION}")])
            .env("CGO_ENABLED", "0")
            .env("GOBIN", &gobin)
            // Outside any module, so the workspace cannot influence the build.
            .current_dir(&dir),
    )
    .map_err(|error| format!("{error} (is Go installed and on PATH?)"))?;
    fs::rename(gobin.join("server"), &binary).map_err(|error| {
        format!(
            "could not move the built server to {}: {error}",
            binary.display()
        )
    })?;
    let _ = fs::remove_dir(&gobin);
    eprintln!(
        "server: built livekit-server {VERSION} in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        binary.display()
    );
    Ok(binary)
}

/// Starts redis (unless told not to) and the server (building it first if needed) and waits
/// until it is ready.
pub(crate) fn start(options: &StartOptions) -> Result<RunningServer> {
    let binary = build()?;
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
        "server: livekit-server {VERSION} ready at {} in {:.1} s (logs: {})",
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
    use super::{CLUSTER_NODES, StartOptions, config_yaml};

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
}
