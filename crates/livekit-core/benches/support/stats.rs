// Figures of a batch of timed calls, shared by the transport benches (included by path).

use std::time::Duration;

/// User and system CPU time of the process.
#[derive(Clone, Copy)]
pub(crate) struct Cpu {
    user: Duration,
    system: Duration,
}

impl std::ops::Sub for Cpu {
    type Output = Self;

    fn sub(self, earlier: Self) -> Self {
        Self {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

/// Latencies of one batch, its wall time and the process CPU it used.
pub(crate) struct Run {
    latencies: Vec<Duration>,
    wall: Duration,
    cpu: Cpu,
}

impl Run {
    pub(crate) fn new(mut latencies: Vec<Duration>, wall: Duration, cpu: Cpu) -> Self {
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

    /// Calls per second, p50 and p99 latency, and the process's user (SDK and HTTP library)
    /// and system (kernel TCP, both ends of loopback) CPU per call.
    pub(crate) fn json(&self, prefix: &str) -> String {
        let calls = self.latencies.len().max(1) as f64;
        format!(
            "\"{prefix}_calls_per_s\":{:.0},\"{prefix}_p50_us\":{:.0},\"{prefix}_p99_us\":{:.0},\
             \"{prefix}_user_cpu_us_per_call\":{:.1},\"{prefix}_system_cpu_us_per_call\":{:.1}",
            calls / self.wall.as_secs_f64(),
            self.percentile(0.50).as_secs_f64() * 1e6,
            self.percentile(0.99).as_secs_f64() * 1e6,
            self.cpu.user.as_secs_f64() * 1e6 / calls,
            self.cpu.system.as_secs_f64() * 1e6 / calls,
        )
    }
}

/// User and system CPU time of this process so far, from `/proc/self/stat`.
pub(crate) fn process_cpu() -> Cpu {
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
    let ticks = |index: usize| Duration::from_millis(fields.get(index).copied().unwrap_or(0) * 10);
    Cpu {
        user: ticks(0),
        system: ticks(1),
    }
}
