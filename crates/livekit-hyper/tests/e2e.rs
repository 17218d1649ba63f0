//! End to end against a real LiveKit server, over hyper: the shared suite of
//! `livekit-core/tests/e2e_suite`. `cargo xtask e2e` (a step of `cargo xtask ci`) runs it
//! with `--ignored` against a server and real participants in a network namespace of its
//! own. By hand, all but the live-participant tests: `cargo xtask server start`, then
//! `LIVEKIT_E2E_URL=http://127.0.0.1:7880 cargo test -p livekit-hyper --test e2e -- --ignored`.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

type Api = livekit_hyper::LiveKitApi;

const WEBHOOK_PORT: u16 = 7897;

const TRANSPORT: &str = "hyper";

/// The transport the edge tests configure, through its public builder.
type Transport = livekit_hyper::HyperTransport;

/// What nginx logs for this transport's calls over TLS.
const PROTOCOL: &str = "HTTP/2.0";

fn build_transport(options: &EdgeOptions) -> Result<Transport, livekit_core::Error> {
    let mut builder = Transport::builder();
    if options.ca {
        #[cfg(feature = "rustls")]
        {
            builder = builder.root_certificates_pem(&ca_pem())?;
        }
        #[cfg(not(feature = "rustls"))]
        panic!("the TLS tests need the rustls feature");
    }
    match &options.proxy {
        ProxyChoice::Environment => {}
        ProxyChoice::Direct => builder = builder.without_proxy(),
        ProxyChoice::Explicit { url, no_proxy } => {
            builder = builder.proxy(url)?;
            if let Some(hosts) = no_proxy {
                builder = builder.no_proxy(hosts);
            }
        }
    }
    builder.build()
}

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

e2e_test!(concurrent_calls_share_one_http2_connection {
    let api = edge_api(
        &edge_var("LIVEKIT_E2E_HTTPS_URL"),
        &EdgeOptions::trusting_the_ca().direct(),
        Default::default(),
    )
    .unwrap();
    let tag = unique("h2");
    // The first call opens the connection and learns, by ALPN, that it speaks HTTP/2.
    api.room()
        .with_options(tagged(&tag))
        .list_rooms(Default::default())
        .await
        .unwrap();
    const CONCURRENT: usize = 16;
    let calls: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let api = api.clone();
            let options = tagged(&tag);
            tokio::spawn(async move {
                api.room()
                    .with_options(options)
                    .list_rooms(Default::default())
                    .await
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let logged = nginx_log(&tag, CONCURRENT + 1);
    assert_eq!(logged.len(), CONCURRENT + 1, "{logged:?}");
    assert!(logged.iter().all(|request| request.protocol == "HTTP/2.0"), "{logged:?}");
    let connections: std::collections::BTreeSet<u64> =
        logged.iter().map(|request| request.connection).collect();
    assert_eq!(connections.len(), 1, "{logged:?}");
});
