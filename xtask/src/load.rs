//! `cargo xtask load [--calls N] [--async-callers N] [--blocking-threads N] [--faults]`:
//! the load generator (`examples/load`) against the real LiveKit server, with Redis, on
//! ports of its own; with `--faults`, then the fault runs: the server killed and restarted
//! during the load, and Redis stopped under a short mix. Prints one JSON object with every
//! run's summary and fails when any run fails its criteria. The server is stopped
//! afterwards, whatever the outcome.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::server::{RunningServer, StartOptions};
use crate::util::{Result, cargo, run};

/// Ports of the server the load runs call.
const LOAD_PORT: u16 = 7920;
const LOAD_REDIS_PORT: u16 = 16420;

/// The restart run: how long it lasts, when the server is killed, and how long it stays
/// down before it is started again.
const RESTART_RUN: Duration = Duration::from_secs(15);
const KILL_AFTER: Duration = Duration::from_secs(4);
const DOWN_FOR: Duration = Duration::from_secs(2);

const USAGE: &str =
    "usage: cargo xtask load [--calls N] [--async-callers N] [--blocking-threads N] [--faults]";

struct Options {
    calls: u64,
    async_callers: u64,
    blocking_threads: u64,
    faults: bool,
}

pub(crate) fn run_load(args: &[String]) -> Result {
    let mut options = Options {
        calls: 20_000,
        async_callers: 64,
        blocking_threads: 8,
        faults: false,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut number = || -> Result<u64> {
            let value = args
                .next()
                .ok_or_else(|| format!("`{flag}` needs a value\n{USAGE}"))?;
            value
                .parse()
                .map_err(|_| format!("`{value}` is not a number\n{USAGE}"))
        };
        match flag.as_str() {
            "--calls" => options.calls = number()?,
            "--async-callers" => options.async_callers = number()?,
            "--blocking-threads" => options.blocking_threads = number()?,
            "--faults" => options.faults = true,
            other => return Err(format!("unknown `load` argument `{other}`\n{USAGE}")),
        }
    }
    crate::server::build(crate::server::DEFAULT_VERSION)?;
    // Built before the server starts, so no compile time lands inside a fault window.
    run(cargo().args(["build", "--release", "--quiet", "--package", "load"]))?;
    let mut server = crate::server::start(&StartOptions {
        port: LOAD_PORT,
        redis_port: LOAD_REDIS_PORT,
        ..StartOptions::default()
    })?;
    let outcome = run_all(&mut server, &options);
    let stopped = server.stop();
    let (summary, passed) = outcome?;
    println!("{summary}");
    stopped?;
    if passed {
        Ok(())
    } else {
        Err("a load run failed its criteria (see `checks` in the summary)".into())
    }
}

fn run_all(server: &mut RunningServer, options: &Options) -> Result<(Value, bool)> {
    let mut summary = serde_json::Map::new();
    let mut passed = true;
    let common = [
        "--async-callers".to_owned(),
        options.async_callers.to_string(),
        "--blocking-threads".to_owned(),
        options.blocking_threads.to_string(),
    ];

    eprintln!("\nload: {} calls per transport", options.calls);
    let mut args = vec!["--calls".to_owned(), options.calls.to_string()];
    args.extend(common.iter().cloned());
    let (load, ok) = finish(spawn_load(server, &args)?)?;
    passed &= ok;
    summary.insert("load".into(), load);
    if !options.faults {
        return Ok((Value::Object(summary), passed));
    }

    let (restart, ok) = restart_run(server, &common)?;
    passed &= ok;
    summary.insert("restart".into(), restart);

    let (redis_down, ok) = redis_down_run(server)?;
    passed &= ok;
    summary.insert("redis_down".into(), redis_down);
    Ok((Value::Object(summary), passed))
}

/// The server killed (SIGKILL) a few seconds into a load run on both transports, and
/// started again on the same port, with the same Redis, two seconds later.
fn restart_run(server: &mut RunningServer, common: &[String]) -> Result<(Value, bool)> {
    eprintln!(
        "\nload: server restart: {} s of load, SIGKILL after {} s, restart {} s later",
        RESTART_RUN.as_secs(),
        KILL_AFTER.as_secs(),
        DOWN_FOR.as_secs()
    );
    let mut args = vec![
        "--duration".to_owned(),
        RESTART_RUN.as_secs().to_string(),
        "--expect".to_owned(),
        "restart".to_owned(),
    ];
    args.extend(common.iter().cloned());
    let child = spawn_load(server, &args)?;
    let started = Instant::now();
    std::thread::sleep(KILL_AFTER);
    let killed_at = started.elapsed();
    server.kill_livekit()?;
    eprintln!("load: killed livekit-server");
    std::thread::sleep(DOWN_FOR);
    let restarting_at = started.elapsed();
    server.restart_livekit()?;
    let ready_at = started.elapsed();
    eprintln!(
        "load: livekit-server ready again after {:.1} s down",
        (ready_at - killed_at).as_secs_f64()
    );
    let (mut summary, ok) = finish(child)?;
    summary["fault"] = json!({
        "killed_at_s": round(killed_at),
        "restart_started_at_s": round(restarting_at),
        "ready_again_at_s": round(ready_at),
        "times_from": "the start of the load process, within a few ms of its first call",
    });
    Ok((summary, ok))
}

/// Redis stopped under a short mix; then Redis (and the server, if it died) started
/// again and a short clean run proves the server works again.
fn redis_down_run(server: &mut RunningServer) -> Result<(Value, bool)> {
    eprintln!("\nload: redis stopped, a short mix");
    server.stop_redis()?;
    // Some calls hang until their deadline without Redis: few calls, a shorter deadline.
    let args = [
        "--calls",
        "52",
        "--async-callers",
        "2",
        "--blocking-threads",
        "2",
        "--deadline-ms",
        "3000",
        "--expect",
        "redis-down",
        "--idle-ms",
        "0",
    ]
    .map(str::to_owned);
    let outcome = spawn_load(server, &args).and_then(finish);
    let server_survived = server.livekit_running();
    let exit = server.reap_livekit();
    if let Some(status) = &exit {
        eprintln!(
            "load: livekit-server died while redis was down ({status}); see {}",
            server.log_path("livekit-server").display()
        );
    }
    server.start_redis()?;
    if !server_survived {
        server.restart_livekit()?;
    }
    let (mut summary, mut ok) = outcome?;
    summary["server_survived"] = json!(server_survived);
    summary["server_exit"] = json!(exit);
    ok &= server_survived;

    // The server's Redis client reconnects a few seconds after Redis answers again: the
    // run shows when calls work again.
    eprintln!("\nload: redis back, a short run until calls work again");
    let args = [
        "--duration",
        "8",
        "--async-callers",
        "4",
        "--blocking-threads",
        "2",
        "--expect",
        "recovery",
    ]
    .map(str::to_owned);
    let (recovery, recovered) = finish(spawn_load(server, &args)?)?;
    summary["after_redis_back"] = recovery;
    Ok((summary, ok && recovered))
}

/// Starts the load binary with `args` (plus `--json`) against `server`, once it has
/// started making calls.
fn spawn_load(server: &RunningServer, args: &[String]) -> Result<Child> {
    let mut command = cargo();
    command
        .args(["run", "--release", "--quiet", "--package", "load", "--"])
        .args(args)
        .arg("--json")
        .envs(server.env())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    eprintln!(
        "$ cargo run --release --package load -- {} --json",
        args.join(" ")
    );
    let mut child = command
        .spawn()
        .map_err(|error| format!("could not run the load binary: {error}"))?;
    // Its stderr is passed on; the first line it prints means the calls have started.
    let stderr = child
        .stderr
        .take()
        .ok_or("no stderr from the load binary")?;
    let (started, wait) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr)
            .lines()
            .map_while(std::io::Result::ok)
        {
            eprintln!("{line}");
            if line.starts_with("load: calls started") {
                let _ = started.send(());
            }
        }
    });
    // Its sender is dropped when the process closes stderr: no start line then.
    let _ = wait.recv_timeout(Duration::from_secs(120));
    Ok(child)
}

/// Waits for the load binary and returns its JSON summary and whether it passed.
fn finish(child: Child) -> Result<(Value, bool)> {
    let output = child
        .wait_with_output()
        .map_err(|error| format!("could not wait for the load binary: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .ok_or_else(|| format!("the load binary printed no summary ({})", output.status))?;
    let summary: Value = serde_json::from_str(line)
        .map_err(|error| format!("the load binary's summary is not JSON: {error}"))?;
    let passed = output.status.success() && summary["passed"] == true;
    eprintln!(
        "load: {} ({})",
        if passed { "passed" } else { "FAILED" },
        output.status
    );
    Ok((summary, passed))
}

fn round(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10.0).round() / 10.0
}
