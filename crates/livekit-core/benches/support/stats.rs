// Figures of a batch of timed calls, shared by the transport benches (included by path).

use std::time::Duration;

/// Latencies of one batch, its wall time and the process CPU it used.
pub(crate) struct Run {
    latencies: Vec<Duration>,
    wall: Duration,
    cpu: Duration,
}

impl Run {
    pub(crate) fn new(mut latencies: Vec<Duration>, wall: Duration, cpu: Duration) -> Self {
        latencies.sort_unstable();
        Self {
            latencies,
            wall,
            cpu,
        }
    }

    fn percentile(&self, fraction: f64) -> Duration {
        let last = self.latencies.len().saturating_sub(1);
        let index = ((last as f64) * fraction).round() as usize;
        self.latencies.get(index).copied().unwrap_or_default()
    }

    /// `"<prefix>_calls_per_s":..,"<prefix>_p50_us":..,"<prefix>_p99_us":..,"<prefix>_cpu_us_per_call":..`
    pub(crate) fn json(&self, prefix: &str) -> String {
        let calls = self.latencies.len().max(1) as f64;
        format!(
            "\"{prefix}_calls_per_s\":{:.0},\"{prefix}_p50_us\":{:.0},\"{prefix}_p99_us\":{:.0},\"{prefix}_cpu_us_per_call\":{:.1}",
            calls / self.wall.as_secs_f64(),
            self.percentile(0.50).as_secs_f64() * 1e6,
            self.percentile(0.99).as_secs_f64() * 1e6,
            self.cpu.as_secs_f64() * 1e6 / calls,
        )
    }
}

/// User plus system CPU time of this process so far, from `/proc/self/stat`.
pub(crate) fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesized command name; utime and stime are the 12th and 13th.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|field| field.parse().ok())
        .collect();
    // Linux reports clock ticks of 1/100 s (USER_HZ).
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}
