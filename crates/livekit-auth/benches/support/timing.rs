// Timing for the single-core benches (included by path by the auth and core benches).
//
// Operations run in interleaved batches of 1,000, so that frequency changes and a noisy
// neighbour hit all of them alike. Each rate is reported twice: from the fastest batch (the
// operation's own cost; on a shared virtual machine noise only ever slows a batch down) and
// as the mean over all batches.

use std::time::{Duration, Instant};

const BATCH: u32 = 1_000;

/// An operation's rate per second: from its fastest batch, and over all batches.
pub(crate) struct Rate {
    pub(crate) best: f64,
    pub(crate) mean: f64,
}

/// The time budget of one measurement: `BENCH_MILLIS`, or 1.5 s.
pub(crate) fn budget() -> Duration {
    Duration::from_millis(
        std::env::var("BENCH_MILLIS")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(1_500),
    )
}

/// Runs `operations` in interleaved batches for about `budget` each, after a warm-up.
pub(crate) fn measure(budget: Duration, operations: &mut [&mut dyn FnMut()]) -> Vec<Rate> {
    for operation in operations.iter_mut() {
        for _ in 0..BATCH {
            operation();
        }
    }
    let count = operations.len();
    let mut total = vec![Duration::ZERO; count];
    let mut fastest = vec![Duration::MAX; count];
    let mut batches = 0u32;
    while total.iter().sum::<Duration>() < budget * count as u32 {
        for (index, operation) in operations.iter_mut().enumerate() {
            let started = Instant::now();
            for _ in 0..BATCH {
                operation();
            }
            let elapsed = started.elapsed();
            total[index] += elapsed;
            fastest[index] = fastest[index].min(elapsed);
        }
        batches += 1;
    }
    (0..count)
        .map(|index| Rate {
            best: f64::from(BATCH) / fastest[index].as_secs_f64(),
            mean: f64::from(batches * BATCH) / total[index].as_secs_f64(),
        })
        .collect()
}
