//! Transport limits over hyper: a server that stalls after its headers meets the deadline,
//! and a body over the cap is refused. The shared suite is in
//! `livekit-core/tests/limits_suite`.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use livekit_hyper::{HyperTransport as Transport, LiveKitApi as Api};

trait NewForTest {
    fn new_for_test() -> Self;
}

impl NewForTest for Transport {
    fn new_for_test() -> Self {
        Self::new().unwrap()
    }
}

macro_rules! call {
    ($call:expr) => {
        $call.await
    };
}

macro_rules! limits_test {
    ($name:ident $body:block) => {
        #[tokio::test]
        async fn $name() $body
    };
}

include!("../../livekit-core/tests/limits_suite/mod.rs");
