//! A progress line on standard error for calls that wait (SIP dials, egress starts).

use std::io::{IsTerminal as _, Write as _};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `call` while a line `{label} ... {n}s` is refreshed in place on standard error
/// every second, then replaced by a final line saying how it ended. Nothing is drawn when
/// standard error is not a terminal, so scripts and logs see no control characters.
pub(crate) fn with_progress<T, E>(
    label: &str,
    call: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    if !std::io::stderr().is_terminal() {
        return call();
    }
    let started = Instant::now();
    let (done, finished) = mpsc::channel::<()>();
    let result = std::thread::scope(|scope| {
        scope.spawn(move || {
            draw(&waiting_line(label, Duration::ZERO));
            // The channel wakes the thread at once when the call ends; until then it
            // redraws once a second.
            while let Err(mpsc::RecvTimeoutError::Timeout) =
                finished.recv_timeout(Duration::from_secs(1))
            {
                draw(&waiting_line(label, started.elapsed()));
            }
        });
        let result = call();
        // The receiver lives until the thread ends; a failed send only means it already did.
        let _ = done.send(());
        result
    });
    draw(&final_line(label, result.is_ok(), started.elapsed()));
    eprintln!();
    result
}

/// Overwrites the current line of standard error.
fn draw(line: &str) {
    let mut stderr = std::io::stderr().lock();
    // Progress is decoration: a failed write must not fail the command.
    let _ = write!(stderr, "\r\x1b[2K{line}");
    let _ = stderr.flush();
}

fn waiting_line(label: &str, elapsed: Duration) -> String {
    format!("{label} ... {}s", elapsed.as_secs())
}

fn final_line(label: &str, succeeded: bool, elapsed: Duration) -> String {
    let outcome = if succeeded { "done" } else { "failed" };
    format!("{label} ... {outcome} after {}s", elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{final_line, waiting_line, with_progress};

    #[test]
    fn lines_name_the_wait_and_whole_seconds() {
        assert_eq!(
            waiting_line("dialing +15550100 via ST_x", Duration::from_millis(4_900)),
            "dialing +15550100 via ST_x ... 4s"
        );
        assert_eq!(
            final_line("starting egress", false, Duration::from_secs(21)),
            "starting egress ... failed after 21s"
        );
        assert_eq!(
            final_line("starting egress", true, Duration::from_secs(2)),
            "starting egress ... done after 2s"
        );
    }

    #[test]
    fn the_call_result_is_passed_through() {
        assert_eq!(with_progress("x", || Ok::<_, ()>(7)), Ok(7));
        assert_eq!(with_progress("x", || Err::<(), _>("no")), Err("no"));
    }
}
