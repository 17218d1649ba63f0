//! ListRooms over hyper against the real server and a fixed-response loopback server:
//! calls per second, p50/p99 latency and client CPU per call, sequential and with 64
//! concurrent callers. Prints one JSON object. Run through `cargo xtask bench`, which starts
//! both servers and passes `LIVEKIT_BENCH_URL` and `LIVEKIT_BENCH_FIXED_URL`.
#![allow(
    missing_docs,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::time::{Duration, Instant};

use livekit_hyper::LiveKitApi;

#[path = "../../livekit-core/benches/support/stats.rs"]
mod stats;

async fn run(api: &LiveKitApi, callers: usize, calls_per_caller: usize) -> stats::Run {
    let cpu_before = stats::process_cpu();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(calls_per_caller);
            for _ in 0..calls_per_caller {
                let call = Instant::now();
                api.room()
                    .list_rooms(Default::default())
                    .await
                    .expect("ListRooms succeeds");
                latencies.push(call.elapsed());
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("caller"));
    }
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut fields = Vec::new();
    runtime.block_on(async {
        for (target, variable) in [
            ("server", "LIVEKIT_BENCH_URL"),
            ("fixed", "LIVEKIT_BENCH_FIXED_URL"),
        ] {
            let url = std::env::var(variable).unwrap_or_else(|_| {
                panic!("{variable} must be set: run through cargo xtask bench")
            });
            let api = LiveKitApi::new(&url, "devkey", "secret").expect("client");
            run(&api, 1, 100).await; // warm the pool and the token cache
            let sequential = run(&api, 1, calls).await;
            let concurrent = run(&api, 64, calls / 64).await;
            fields.push(sequential.json(&format!("hyper_{target}_sequential")));
            fields.push(concurrent.json(&format!("hyper_{target}_64_callers")));
        }
    });
    println!("{{{}}}", fields.join(","));
}
