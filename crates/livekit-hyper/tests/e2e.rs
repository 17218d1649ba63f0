//! End to end against a real LiveKit server, over hyper: the shared suite of
//! `livekit-core/tests/e2e_suite`. `cargo xtask e2e` (a step of `cargo xtask ci`) runs it
//! with `--ignored` against a server and real participants in a network namespace of its
//! own. By hand, all but the live-participant tests: `cargo xtask server start`, then
//! `LIVEKIT_E2E_URL=http://127.0.0.1:7880 cargo test -p livekit-hyper --test e2e -- --ignored`.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

type Api = livekit_hyper::LiveKitApi;

const WEBHOOK_PORT: u16 = 7897;

const TRANSPORT: &str = "hyper";

macro_rules! call {
    ($call:expr) => {
        $call.await
    };
}

macro_rules! e2e_test {
    ($name:ident $body:block) => {
        #[tokio::test]
        #[ignore = "needs a LiveKit server: run by cargo xtask ci"]
        async fn $name() {
            record_tracing();
            $body
            assert_nothing_secret_traced();
        }
    };
}

include!("../../livekit-core/tests/e2e_suite/mod.rs");
