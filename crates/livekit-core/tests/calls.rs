//! Whole calls over scripted transports: retries, backoff, unsafe RPCs, deadlines, region
//! failover, and the typed clients on both the blocking and the async path.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use livekit_auth::Credentials;
use livekit_core::rpc;
use livekit_core::{
    AsyncApi, BlockingApi, BlockingTransport, Call, CallOptions, Client, Clock, Environment, Error,
    Services, Step, Transport, TransportError, TransportErrorKind,
};
use livekit_proto::{self as proto, Message as _};

/// A fixed environment: the clock advances only through the transport's sleeps.
#[derive(Debug, Default)]
struct ScriptedTime {
    now: Mutex<Duration>,
}

impl Environment for &ScriptedTime {
    fn unix_now(&self) -> u64 {
        1_800_000_000 + self.now.lock().unwrap().as_secs()
    }
    fn monotonic(&self) -> Duration {
        *self.now.lock().unwrap()
    }
    fn random(&self) -> u64 {
        u64::MAX / 2
    }
}

type Outcome = Result<http::Response<Vec<u8>>, TransportError>;

/// Answers requests from a script and records what was sent and slept.
struct Scripted<'t> {
    time: &'t ScriptedTime,
    answers: Mutex<VecDeque<Outcome>>,
    sent: Mutex<Vec<(http::Request<Vec<u8>>, Duration)>>,
    slept: Mutex<Vec<Duration>>,
}

impl<'t> Scripted<'t> {
    fn new(time: &'t ScriptedTime, answers: Vec<Outcome>) -> Self {
        Self {
            time,
            answers: Mutex::new(answers.into()),
            sent: Mutex::new(Vec::new()),
            slept: Mutex::new(Vec::new()),
        }
    }

    fn answer(&self, request: http::Request<Vec<u8>>, timeout: Duration) -> Outcome {
        self.sent.lock().unwrap().push((request, timeout));
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("the script ran out of answers")
    }

    fn urls(&self) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .map(|(request, _)| request.uri().to_string())
            .collect()
    }
}

impl BlockingTransport for Scripted<'_> {
    fn send(&self, request: http::Request<Vec<u8>>, timeout: Duration) -> Outcome {
        self.answer(request, timeout)
    }
    fn sleep(&self, duration: Duration) {
        self.slept.lock().unwrap().push(duration);
        *self.time.now.lock().unwrap() += duration;
    }
}

impl Transport for Scripted<'_> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> impl Future<Output = Outcome> + Send {
        std::future::ready(self.answer(request, timeout))
    }
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        BlockingTransport::sleep(self, duration);
        std::future::ready(())
    }
}

fn ok(message: &impl livekit_proto::Message) -> Outcome {
    Ok(http::Response::builder()
        .status(200)
        .body(message.encode_to_vec())
        .unwrap())
}

fn status(code: u16, body: &str) -> Outcome {
    Ok(http::Response::builder()
        .status(code)
        .body(body.as_bytes().to_vec())
        .unwrap())
}

fn refused() -> Outcome {
    Err(TransportError::new(
        TransportErrorKind::Connect,
        "http://127.0.0.1:7880",
        "connection refused",
    ))
}

fn reset() -> Outcome {
    Err(TransportError::new(
        TransportErrorKind::Io,
        "http://127.0.0.1:7880",
        "connection reset",
    ))
}

fn client(url: &str) -> Client {
    Client::new(url, Credentials::new("devkey", "secret").unwrap()).unwrap()
}

/// Polls a future that never waits (the scripted transport answers at once).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the scripted future should be ready"),
    }
}

fn rooms(names: &[&str]) -> proto::ListRoomsResponse {
    proto::ListRoomsResponse {
        rooms: names
            .iter()
            .map(|name| proto::Room {
                name: (*name).into(),
                ..Default::default()
            })
            .collect(),
    }
}

#[test]
fn a_safe_rpc_is_retried_on_503_with_backoff_and_the_same_request_id() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![
            status(503, r#"{"code":"unavailable","msg":"draining"}"#),
            reset(),
            ok(&rooms(&["a"])),
        ],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    let response = api.room().list_rooms(Default::default()).unwrap();
    assert_eq!(response.rooms[0].name, "a");

    let sent = api.transport().sent.lock().unwrap();
    assert_eq!(sent.len(), 3);
    let ids: Vec<_> = sent
        .iter()
        .map(|(request, _)| request.headers()["x-livekit-request-id"].clone())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one request id per call"
    );
    assert_eq!(
        sent[0].1,
        Duration::from_secs(10),
        "the default attempt budget"
    );
    // Backoff doubles from 200 ms, scaled by jitter (0.5 here gives 75%).
    assert_eq!(
        *api.transport().slept.lock().unwrap(),
        [Duration::from_millis(150), Duration::from_millis(300)]
    );
}

/// A call that keeps its body retries as any call does, and the body reads back as the
/// message; a body that is not protobuf is the same decode error, when it is read.
#[cfg(feature = "view")]
#[test]
fn a_kept_body_is_retried_like_any_call_and_read_as_a_view() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![
            status(503, r#"{"code":"unavailable","msg":"draining"}"#),
            ok(&rooms(&["a", "b"])),
            Ok(http::Response::builder()
                .status(200)
                .body(b"\x0a\x05ab".to_vec())
                .unwrap()),
            status(
                404,
                r#"{"code":"not_found","msg":"requested room does not exist"}"#,
            ),
        ],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    let options = CallOptions::default();
    let body = api
        .call_body::<rpc::ListRooms>(Default::default(), &options)
        .unwrap();
    assert_eq!(api.transport().sent.lock().unwrap().len(), 2);
    let view = body.view().unwrap();
    let names: Vec<&str> = view.rooms.iter().map(|room| room.name).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(body.message().unwrap(), view.to_message());
    assert_eq!(body.as_bytes(), rooms(&["a", "b"]).encode_to_vec());

    // Truncated protobuf: the call succeeds (the body came), reading it fails as a
    // decoding call would, with the bytes kept.
    let truncated = api
        .call_body::<rpc::ListRooms>(Default::default(), &options)
        .unwrap();
    for error in [
        truncated.view().unwrap_err(),
        truncated.message().unwrap_err(),
    ] {
        match error {
            Error::Decode(error) => {
                assert_eq!(error.rpc, "RoomService/ListRooms");
                assert_eq!(error.body, b"\x0a\x05ab");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }
    let error = api
        .call_body::<rpc::DeleteRoom>(Default::default(), &options)
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[test]
fn attempts_are_bounded_and_the_last_error_is_returned() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![
            status(502, "bad gateway"),
            status(502, "bad gateway"),
            status(504, "gateway timeout"),
        ],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    let error = api.room().list_rooms(Default::default()).unwrap_err();
    assert_eq!(error.status(), Some(504));
    assert_eq!(api.transport().sent.lock().unwrap().len(), 3);
}

#[test]
fn client_errors_are_never_retried() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![status(400, r#"{"code":"invalid_argument","msg":"bad"}"#)],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    let error = api.room().list_rooms(Default::default()).unwrap_err();
    assert_eq!(error.server().unwrap().message, "bad");
    assert_eq!(api.transport().sent.lock().unwrap().len(), 1);
}

#[test]
fn a_permission_error_names_the_grant_the_call_needs() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![
            status(
                401,
                r#"{"code":"unauthenticated","msg":"permissions denied"}"#,
            ),
            status(
                401,
                "invalid token: <redacted>, error: go-jose/go-jose: error in cryptographic primitive",
            ),
        ],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    let request = || proto::ListParticipantsRequest { room: "r1".into() };
    let error = api.room().list_participants(request()).unwrap_err();
    let server = error.server().unwrap();
    assert!(server.is_permission_denied());
    assert_eq!(
        server.needed_grant,
        Some(rpc::RequiredGrant::RoomAdmin { room: "r1".into() })
    );
    let message = error.to_string();
    assert!(
        message.contains(
            r#"the token lacks the grant this call needs: video.roomAdmin for room "r1""#
        ),
        "{message}"
    );
    assert!(!message.contains("check the api key"), "{message}");

    // A token that does not verify is not a missing grant: that says to check the keys.
    let error = api.room().list_participants(request()).unwrap_err();
    assert!(!error.server().unwrap().is_permission_denied());
    assert!(
        error.to_string().contains("check the api key and secret"),
        "{error}"
    );
}

#[test]
fn a_sip_dial_is_never_sent_twice_once_it_may_have_reached_the_server() {
    for first in [status(503, r#"{"code":"unavailable","msg":"x"}"#), reset()] {
        let time = ScriptedTime::default();
        let transport = Scripted::new(
            &time,
            vec![first, ok(&proto::SipParticipantInfo::default())],
        );
        let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
        let result = api.sip().create_sip_participant(Default::default());
        assert!(result.is_err());
        assert_eq!(
            api.transport().sent.lock().unwrap().len(),
            1,
            "sent exactly once"
        );
    }
}

#[test]
fn an_unsafe_rpc_is_retried_when_the_connection_was_refused() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![refused(), ok(&proto::SendDataResponse::default())],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    api.room()
        .send_data(proto::SendDataRequest {
            room: "r".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(api.transport().sent.lock().unwrap().len(), 2);
}

#[test]
fn an_unsafe_rpc_is_retried_when_the_caller_opts_in() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![reset(), ok(&proto::SendDataResponse::default())],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    api.room()
        .with_options(CallOptions::default().with_retry_unsafe(true))
        .send_data(Default::default())
        .unwrap();
    assert_eq!(api.transport().sent.lock().unwrap().len(), 2);
}

#[test]
fn dialing_budgets_follow_the_ring_window() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![
            ok(&proto::SipParticipantInfo::default()),
            ok(&proto::SipParticipantInfo::default()),
            ok(&proto::well_known::Empty::default()),
        ],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    api.sip()
        .create_sip_participant(proto::CreateSipParticipantRequest {
            wait_until_answered: true,
            ringing_timeout: Some(proto::well_known::Duration {
                seconds: 45,
                nanos: 0,
            }),
            ..Default::default()
        })
        .unwrap();
    api.sip()
        .create_sip_participant(proto::CreateSipParticipantRequest {
            wait_until_answered: true,
            ..Default::default()
        })
        .unwrap();
    api.sip()
        .transfer_sip_participant(proto::TransferSipParticipantRequest {
            room_name: "r".into(),
            ..Default::default()
        })
        .unwrap();
    let sent = api.transport().sent.lock().unwrap();
    assert_eq!(sent[0].1, Duration::from_secs(47));
    assert_eq!(sent[1].1, Duration::from_secs(32));
    // The default ring window is pinned on the request, so the budget cannot drift.
    let pinned = proto::CreateSipParticipantRequest::decode(sent[1].0.body().as_slice()).unwrap();
    assert_eq!(pinned.ringing_timeout.unwrap().seconds, 30);
    assert_eq!(sent[2].1, Duration::from_secs(32));
}

/// `TransferSIPParticipant` answers `TransferSIPParticipantResponse` from protocol v1.51 on;
/// older servers (livekit-server v1.13.5) answer `google.protobuf.Empty`, an empty body, which
/// reads as the default response.
#[test]
fn a_transfer_answer_is_read_from_new_and_old_servers() {
    let time = ScriptedTime::default();
    let answered = proto::TransferSipParticipantResponse {
        transfer_id: "ST_transfer".into(),
        status: proto::SipTransferStatus::StsTransferSuccessful as i32,
        reason: proto::SipTransferReason::StrCompleted as i32,
        sip_status: Some(proto::SipStatus {
            code: proto::SipStatusCode::SipStatusOk as i32,
            status: "OK".into(),
        }),
    };
    let transport = Scripted::new(
        &time,
        vec![ok(&answered), ok(&proto::well_known::Empty::default())],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    let transfer = || {
        api.sip()
            .transfer_sip_participant(proto::TransferSipParticipantRequest {
                room_name: "r".into(),
                participant_identity: "phone".into(),
                transfer_to: "tel:+15550199".into(),
                ..Default::default()
            })
            .unwrap()
    };
    assert_eq!(transfer(), answered);
    assert_eq!(transfer(), proto::TransferSipParticipantResponse::default());
}

#[test]
fn rpc_budgets_follow_the_response_window() {
    let time = ScriptedTime::default();
    let response = proto::PerformRpcResponse::default();
    let transport = Scripted::new(&time, vec![ok(&response), ok(&response), ok(&response)]);
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    api.room()
        .perform_rpc(proto::PerformRpcRequest {
            room: "r".into(),
            response_timeout_ms: 30_000,
            ..Default::default()
        })
        .unwrap();
    api.room()
        .perform_rpc(proto::PerformRpcRequest {
            room: "r".into(),
            ..Default::default()
        })
        .unwrap();
    // A caller's longer budget wins.
    api.room()
        .with_options(CallOptions::default().with_timeout(Duration::from_secs(60)))
        .perform_rpc(proto::PerformRpcRequest {
            room: "r".into(),
            response_timeout_ms: 1_000,
            ..Default::default()
        })
        .unwrap();
    let sent = api.transport().sent.lock().unwrap();
    assert_eq!(sent[0].1, Duration::from_secs(32));
    assert_eq!(sent[1].1, Duration::from_secs(12));
    // The server's default window is pinned on the request, so the budget cannot drift.
    let pinned = proto::PerformRpcRequest::decode(sent[1].0.body().as_slice()).unwrap();
    assert_eq!(pinned.response_timeout_ms, 10_000);
    assert_eq!(sent[2].1, Duration::from_secs(60));
}

#[test]
fn the_deadline_bounds_the_whole_call() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![
            status(503, "busy"),
            status(503, "busy"),
            status(503, "busy"),
        ],
    );
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    let error = api
        .room()
        .with_options(
            CallOptions::default()
                .with_deadline(Duration::from_millis(400))
                .with_timeout(Duration::from_secs(30)),
        )
        .list_rooms(Default::default())
        .unwrap_err();
    let sent = api.transport().sent.lock().unwrap();
    // The first attempt gets the whole deadline as its budget, never more.
    assert_eq!(sent[0].1, Duration::from_millis(400));
    // 150 ms of backoff fit; the next 300 ms would cross the deadline.
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].1, Duration::from_millis(250));
    assert_eq!(error.status(), Some(503));
}

#[test]
fn retry_after_stretches_the_delay() {
    let time = ScriptedTime::default();
    let busy = Ok(http::Response::builder()
        .status(503)
        .header("retry-after", "2")
        .body(Vec::new())
        .unwrap());
    let transport = Scripted::new(&time, vec![busy, ok(&rooms(&[]))]);
    let api = BlockingApi::new(client("http://127.0.0.1:7880"), transport, &time);
    api.room().list_rooms(Default::default()).unwrap();
    assert_eq!(
        *api.transport().slept.lock().unwrap(),
        [Duration::from_secs(2)]
    );
}

#[test]
fn cloud_hosts_fail_over_to_other_regions() {
    let time = ScriptedTime::default();
    let regions = Ok(http::Response::builder()
        .status(200)
        .header("cache-control", "max-age=60")
        .body(
            br#"{"regions":[{"region":"r0","url":"https://project.livekit.cloud","distance":"0"},
                {"region":"r1","url":"wss://r1.example.test","distance":"100"},
                {"region":"r2","url":"https://r2.example.test","distance":"200"}]}"#
                .to_vec(),
        )
        .unwrap());
    let transport = Scripted::new(
        &time,
        vec![
            status(502, r#"{"code":"unavailable","msg":"A down"}"#),
            regions,
            status(503, r#"{"code":"unavailable","msg":"B down"}"#),
            ok(&rooms(&["from-C"])),
        ],
    );
    let api = BlockingApi::new(client("wss://project.livekit.cloud/base"), transport, &time);
    let response = api.room().list_rooms(Default::default()).unwrap();
    assert_eq!(response.rooms[0].name, "from-C");
    assert_eq!(
        api.transport().urls(),
        [
            "https://project.livekit.cloud/base/twirp/livekit.RoomService/ListRooms",
            "https://project.livekit.cloud/settings/regions",
            "https://r1.example.test/twirp/livekit.RoomService/ListRooms",
            "https://r2.example.test/twirp/livekit.RoomService/ListRooms",
        ]
    );
    let sent = api.transport().sent.lock().unwrap();
    assert_eq!(sent[1].0.method(), http::Method::GET);
    assert!(sent[1].0.headers().contains_key("authorization"));
}

#[test]
fn self_hosted_servers_retry_the_same_host_and_never_ask_for_regions() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(&time, vec![status(503, "x"), ok(&rooms(&[]))]);
    let api = BlockingApi::new(client("https://livekit.example.com"), transport, &time);
    api.room().list_rooms(Default::default()).unwrap();
    assert_eq!(
        api.transport().urls(),
        [
            "https://livekit.example.com/twirp/livekit.RoomService/ListRooms",
            "https://livekit.example.com/twirp/livekit.RoomService/ListRooms",
        ]
    );
}

#[test]
fn the_async_path_runs_the_same_machine() {
    let time = ScriptedTime::default();
    let transport = Scripted::new(
        &time,
        vec![
            status(503, r#"{"code":"unavailable","msg":"x"}"#),
            ok(&proto::ListAgentDispatchResponse {
                agent_dispatches: vec![proto::AgentDispatch {
                    id: "AD_1".into(),
                    agent_name: "helper".into(),
                    room: "r".into(),
                    ..Default::default()
                }],
            }),
            ok(&proto::ListAgentDispatchResponse::default()),
        ],
    );
    let api = AsyncApi::new(client("http://127.0.0.1:7880"), transport, &time);
    let dispatch = ready(api.agent_dispatch().get_dispatch("AD_1", "r")).unwrap();
    assert_eq!(dispatch.unwrap().agent_name, "helper");
    let missing = ready(api.agent_dispatch().get_dispatch("AD_2", "r")).unwrap();
    assert!(missing.is_none());
    assert_eq!(api.transport().sent.lock().unwrap().len(), 3);
}

/// Found by the call-machine property test: region discovery took its fixed 2 s budget even
/// when the call's deadline had less left, so a failing Cloud call could outlive its
/// deadline. The lookup now gets what is left, and is skipped when nothing is.
#[test]
fn region_discovery_fits_in_what_the_deadline_leaves() {
    let client = client("https://project.livekit.cloud");
    let options = CallOptions::default().with_deadline(Duration::from_secs(1));
    let clock = |elapsed: Duration| Clock::new(1_800_000_000, elapsed, elapsed, 0.5);
    let mut call = Call::<rpc::ListRooms>::new(&client, Default::default(), &options, "r".into());
    let Step::Send { timeout, .. } = call.step(clock(Duration::ZERO)) else {
        panic!("expected the first attempt");
    };
    assert_eq!(timeout, Duration::from_secs(1));
    call.on_response(reset());
    match call.step(clock(Duration::from_millis(700))) {
        Step::Send { request, timeout } => {
            assert_eq!(request.uri().path(), "/settings/regions");
            assert_eq!(timeout, Duration::from_millis(300));
        }
        other => panic!("expected region discovery, got {other:?}"),
    }

    // With the deadline spent, no lookup is sent and the call ends with its error.
    let mut call = Call::<rpc::ListRooms>::new(&client, Default::default(), &options, "r".into());
    assert!(matches!(
        call.step(clock(Duration::ZERO)),
        Step::Send { .. }
    ));
    call.on_response(reset());
    assert!(matches!(
        call.step(clock(Duration::from_secs(1))),
        Step::Done
    ));
    assert!(matches!(call.finish(), Err(Error::Transport(_))));
}
