// Real WebRTC participants for the end-to-end tests: the Go program of `xtask/participant`
// (LiveKit's own Go SDK), which `cargo xtask e2e` builds and names in
// LIVEKIT_E2E_PARTICIPANT_BIN. It joins a room, optionally publishes a silent Opus track,
// answers the RPC methods "echo", "slow" (after 5 s) and "fail" (application error 42), and
// reports what it sees as JSON lines, read here as events.
//
// The file that includes this one defines `url()`, `key()`, `secret()` and `unix_now()`.
//
// Participants run only inside the tier's own network namespace (loopback and a veth pair,
// see xtask/src/netns.rs), so their WebRTC traffic can reach no interface of the machine: a
// test started anywhere else fails before spawning one.

/// How long a participant may take to show an expected event before the test fails.
const EVENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// A participant process, joined to a room. Dropping it kills the process.
struct Participant {
    identity: String,
    /// Its participant sid, from its "connected" event.
    sid: String,
    /// The sid of its published microphone track, when it publishes one.
    track: Option<String>,
    child: std::process::Child,
    /// Its standard input: closing it makes the participant leave.
    stdin: Option<std::process::ChildStdin>,
    events: std::sync::mpsc::Receiver<serde_json::Value>,
    /// Events received and not yet matched by `wait_for`.
    unmatched: std::collections::VecDeque<serde_json::Value>,
    /// Every event received, for `assert_never` and for failure messages.
    history: Vec<serde_json::Value>,
    /// Its standard error: the SDK's and pion's logs.
    log: std::path::PathBuf,
    /// Its join token, kept to redact it from the log a failure prints.
    token: String,
}

impl Participant {
    /// Joins `room` as `identity` (allowed to publish, subscribe and send data), publishing a
    /// silent microphone track when `publish_audio`; returns once it is connected (and the
    /// track published).
    fn join(room: &str, identity: &str, publish_audio: bool) -> Self {
        assert_network_is_isolated();
        let binary = std::env::var("LIVEKIT_E2E_PARTICIPANT_BIN").expect(
            "LIVEKIT_E2E_PARTICIPANT_BIN must name the test participant (cargo xtask e2e builds it)",
        );
        let credentials = livekit_auth::Credentials::new(key(), secret()).unwrap();
        let token = livekit_auth::AccessToken::new()
            .with_identity(identity)
            .with_video_grants(livekit_auth::VideoGrants {
                room_join: true,
                room: room.to_owned(),
                can_publish: Some(true),
                can_subscribe: Some(true),
                can_publish_data: Some(true),
                ..livekit_auth::VideoGrants::default()
            })
            .sign(&credentials, unix_now())
            .unwrap();
        let log = std::env::temp_dir().join(format!("livekit-e2e-{room}-{identity}.log"));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut command = std::process::Command::new(binary);
        if publish_audio {
            command.arg("-publish-audio");
        }
        let mut child = command
            .args(["-max-seconds", "120"])
            .env("LIVEKIT_URL", url().replacen("http", "ws", 1))
            // In its environment, not its arguments, where any process could read it.
            .env("LIVEKIT_TOKEN", token.as_str())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("the test participant starts");
        let stdout = child.stdout.take().unwrap();
        let (sender, events) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let event = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({ "event": "unparsed", "line": line }));
                if sender.send(event).is_err() {
                    return;
                }
            }
        });
        let mut participant = Self {
            identity: identity.to_owned(),
            sid: String::new(),
            track: None,
            stdin: child.stdin.take(),
            child,
            events,
            unmatched: Default::default(),
            history: Vec::new(),
            log,
            token,
        };
        let connected = participant.wait_for("connected", |event| event["event"] == "connected");
        participant.sid = connected["sid"].as_str().unwrap_or_default().to_owned();
        assert!(participant.sid.starts_with("PA_"), "{connected}");
        if publish_audio {
            let published =
                participant.wait_for("its track published", |event| event["event"] == "track_published");
            participant.track = published["track"].as_str().map(str::to_owned);
        }
        participant
    }

    /// The sid of its published track.
    fn track_sid(&self) -> String {
        self.track.clone().expect("the participant publishes a track")
    }

    /// The first event, received or still to come, that `matches`, which no earlier call has
    /// returned. Fails the test after [`EVENT_TIMEOUT`], or when the participant exits first,
    /// with everything it reported and its log.
    fn wait_for(&mut self, what: &str, matches: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        match self.next_within(EVENT_TIMEOUT, what, matches) {
            Some(event) => event,
            None => self.fail(&format!("no {what} within {} s", EVENT_TIMEOUT.as_secs())),
        }
    }

    /// As [`wait_for`](Self::wait_for), but `None` once `timeout` passes.
    fn next_within(
        &mut self,
        timeout: std::time::Duration,
        what: &str,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        if let Some(index) = self.unmatched.iter().position(&matches) {
            return self.unmatched.remove(index);
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.history.push(event.clone());
                    if matches(&event) {
                        return Some(event);
                    }
                    self.unmatched.push_back(event);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return None,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    self.fail(&format!("it exited ({status:?}) before {what}"))
                }
            }
        }
    }

    /// Whether a probe (a data packet with a topic `probe-*`) has arrived within 250 ms.
    /// A participant's data channel opens a moment after it has joined, and data the server
    /// sends before that is lost: tests that send data or RPCs first probe until one arrives.
    fn probe_arrived(&mut self) -> bool {
        let is_probe = |event: &serde_json::Value| {
            event["event"] == "data"
                && event["topic"].as_str().is_some_and(|topic| topic.starts_with("probe-"))
        };
        self.next_within(std::time::Duration::from_millis(250), "a probe", is_probe)
            .is_some()
    }

    /// Fails the test if any event received so far `matches`.
    fn assert_never(&mut self, what: &str, matches: impl Fn(&serde_json::Value) -> bool) {
        while let Ok(event) = self.events.try_recv() {
            self.history.push(event.clone());
            self.unmatched.push_back(event);
        }
        if let Some(event) = self.history.iter().find(|event| matches(event)) {
            let event = event.to_string();
            self.fail(&format!("{what}: {event}"));
        }
    }

    /// Waits for it to exit on its own (after the server disconnected it, say).
    fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + EVENT_TIMEOUT;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.fail("it did not exit")
    }

    /// Leaves the room (closing its standard input) and waits for it to exit.
    fn leave(mut self) {
        drop(self.stdin.take());
        self.wait_for("its leaving", |event| event["event"] == "left");
        let status = self.wait_for_exit();
        assert!(status.success(), "{status}");
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .replace(&self.token, "<redacted token>");
        let tail: Vec<&str> = log.lines().rev().take(60).collect();
        let reported: Vec<String> = self.history.iter().map(ToString::to_string).collect();
        panic!(
            "participant {}: {why}\n--- it reported:\n{}\n--- the end of its log ({}):\n{}",
            self.identity,
            reported.join("\n"),
            self.log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        );
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The payload of a "data" event, as bytes.
fn data_payload(event: &serde_json::Value) -> Vec<u8> {
    let hex = event["payload_hex"].as_str().unwrap_or_default();
    (0..hex.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&hex[index..index + 2], 16).unwrap())
        .collect()
}

/// Participants run only where nothing but loopback and the tier's veth pair exists: the
/// network namespace `cargo xtask e2e` makes. Anywhere else WebRTC would gather candidates on
/// the machine's own interfaces.
fn assert_network_is_isolated() {
    let table = std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
    let interfaces: Vec<&str> = table
        .lines()
        .skip(2)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, _)| name.trim())
        .collect();
    assert!(
        !interfaces.is_empty() && interfaces.iter().all(|name| ["lo", "lkv0", "lkv1"].contains(name)),
        "participants run only inside the end-to-end tier's network namespace (cargo xtask e2e); \
         this one has the interfaces {interfaces:?}"
    );
}
