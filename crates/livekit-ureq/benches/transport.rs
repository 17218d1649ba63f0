//! ListRooms over ureq against the real server and a fixed-response loopback server:
//! calls per second, p50/p99 latency and client CPU per call, sequential and with 8 threads.
//! Prints one JSON object. Run through `cargo xtask bench`, which starts both servers and
//! passes `LIVEKIT_BENCH_URL` and `LIVEKIT_BENCH_FIXED_URL`.
#![allow(
    missing_docs,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::time::{Duration, Instant};

use livekit_ureq::LiveKitApi;

#[path = "../../livekit-core/benches/support/stats.rs"]
mod stats;

fn run(api: &LiveKitApi, threads: usize, calls_per_thread: usize) -> stats::Run {
    let cpu_before = stats::process_cpu();
    let started = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    (0..calls_per_thread)
                        .map(|_| {
                            let call = Instant::now();
                            api.room()
                                .list_rooms(Default::default())
                                .expect("ListRooms succeeds");
                            call.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("worker"))
            .collect()
    });
    stats::Run::new(
        latencies,
        started.elapsed(),
        stats::process_cpu() - cpu_before,
    )
}

fn main() {
    let calls: usize = std::env::var("LIVEKIT_BENCH_CALLS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(2_000);
    let mut fields = Vec::new();
    for (target, variable) in [
        ("server", "LIVEKIT_BENCH_URL"),
        ("fixed", "LIVEKIT_BENCH_FIXED_URL"),
    ] {
        let url = std::env::var(variable)
            .unwrap_or_else(|_| panic!("{variable} must be set: run through cargo xtask bench"));
        let api = LiveKitApi::new(&url, "devkey", "secret").expect("client");
        run(&api, 1, 100); // warm the pool and the token cache
        let sequential = run(&api, 1, calls);
        let parallel = run(&api, 8, calls / 8);
        fields.push(sequential.json(&format!("ureq_{target}_sequential")));
        fields.push(parallel.json(&format!("ureq_{target}_8_threads")));
    }
    println!("{{{}}}", fields.join(","));
}
