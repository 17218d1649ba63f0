//! Two livekit-server nodes sharing one redis, over ureq: the shared suite of
//! `livekit-core/tests/cluster_suite`, run with `--ignored` by the cluster phase of
//! `cargo xtask e2e` (a step of `cargo xtask ci`), which starts the nodes and a live
//! participant's network namespace.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]
// The live-participant harness is the end-to-end suite's; this suite uses part of it.
#![allow(dead_code)]

type Api = livekit_ureq::LiveKitApi;

const TRANSPORT: &str = "ureq";

macro_rules! call {
    ($call:expr) => {
        $call
    };
}

macro_rules! cluster_test {
    ($name:ident $body:block) => {
        #[test]
        #[ignore = "needs a two-node LiveKit cluster: run by cargo xtask e2e"]
        fn $name() $body
    };
}

include!("../../livekit-core/tests/cluster_suite/mod.rs");
