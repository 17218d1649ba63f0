//! [`LiveKitApi`], the one entry point of the transport crates, written once for every
//! transport: `livekit_hyper::LiveKitApi` and `livekit_ureq::LiveKitApi` are this type over
//! their executor, and those crates add only their transport.

use livekit_auth::Credentials;

use crate::rpc::Rpc;
use crate::{
    AgentDispatchClient, AsyncApi, BlockingApi, BlockingTransport, CallOptions, Client,
    ClientOptions, ConfigError, ConnectorClient, EgressClient, Environment, Error, Execute,
    IngressClient, ResponseBody, RoomClient, Services as _, SipClient, SystemEnvironment,
    Transport,
};

/// A transport that [`LiveKitApi`]'s constructors can make on their own.
pub trait DefaultTransport: Sized {
    /// The crate that provides it, for messages: `livekit-hyper`.
    const CRATE: &'static str;

    /// The transport with its default settings.
    fn default_transport() -> Result<Self, Error>;

    /// Whether this build of the transport can reach `https` URLs (a TLS feature is on).
    fn supports_https() -> bool;
}

/// An executor that [`LiveKitApi`] can be built on: [`AsyncApi`] over a [`Transport`], or
/// [`BlockingApi`] over a [`BlockingTransport`], on the system clock. Sealed.
pub trait Assemble: Execute + Sized + sealed::Sealed {
    /// The transport it runs on.
    type Transport: DefaultTransport;

    /// The executor of `client` over `transport`.
    fn assemble(client: Client, transport: Self::Transport) -> Self;

    /// Its sans-IO client.
    fn client(&self) -> &Client;
}

mod sealed {
    pub trait Sealed {}
}

impl<T: Transport + DefaultTransport> sealed::Sealed for AsyncApi<T, SystemEnvironment> {}

impl<T: Transport + DefaultTransport> Assemble for AsyncApi<T, SystemEnvironment> {
    type Transport = T;

    fn assemble(client: Client, transport: T) -> Self {
        Self::new(client, transport, SystemEnvironment::default())
    }

    fn client(&self) -> &Client {
        Self::client(self)
    }
}

impl<T: BlockingTransport + DefaultTransport> sealed::Sealed for BlockingApi<T, SystemEnvironment> {}

impl<T: BlockingTransport + DefaultTransport> Assemble for BlockingApi<T, SystemEnvironment> {
    type Transport = T;

    fn assemble(client: Client, transport: T) -> Self {
        Self::new(client, transport, SystemEnvironment::default())
    }

    fn client(&self) -> &Client {
        Self::client(self)
    }
}

/// The LiveKit server API: one entry point, cheap to clone (clones share the transport's
/// connection pool and the service-token cache). `A` is the executor, async or blocking;
/// use it through a transport crate's alias, `livekit_hyper::LiveKitApi` or
/// `livekit_ureq::LiveKitApi`.
#[derive(Debug, Clone)]
pub struct LiveKitApi<A> {
    inner: A,
}

impl<A: Assemble> LiveKitApi<A> {
    /// A client for the server at `url` (`http`, `https`, `ws` or `wss`) with an API key and
    /// secret; it signs a short-lived, least-grant token per kind of call.
    pub fn new(url: &str, api_key: &str, api_secret: &str) -> Result<Self, Error> {
        let credentials =
            Credentials::new(api_key, api_secret).map_err(ConfigError::Credentials)?;
        Self::from_client(Client::new(url, credentials)?)
    }

    /// A client that sends a pre-signed `token` verbatim; it must carry every grant the
    /// calls need.
    pub fn with_token(url: &str, token: &str) -> Result<Self, Error> {
        Self::from_client(Client::with_token(url, token)?)
    }

    /// A client from `LIVEKIT_URL` and `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET` (or
    /// `LIVEKIT_TOKEN`).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_client(crate::client_from_env(ClientOptions::default())?)
    }

    /// A client from a configured core client, on the default transport.
    pub fn from_client(client: Client) -> Result<Self, Error> {
        Self::from_parts(client, A::Transport::default_transport()?)
    }

    /// A client from a configured core client and transport.
    pub fn from_parts(client: Client, transport: A::Transport) -> Result<Self, Error> {
        if client.base_url().is_https() && !A::Transport::supports_https() {
            return Err(ConfigError::Tls(format!(
                "{} is https but {} was built without a TLS feature (enable `rustls`)",
                client.base_url(),
                A::Transport::CRATE,
            ))
            .into());
        }
        Ok(Self {
            inner: A::assemble(client, transport),
        })
    }

    /// The sans-IO client (base URL, options).
    pub fn client(&self) -> &Client {
        self.inner.client()
    }

    /// The executor the service clients run on.
    pub fn executor(&self) -> &A {
        &self.inner
    }

    /// `RoomService`.
    pub fn room(&self) -> RoomClient<'_, A> {
        self.inner.room()
    }

    /// `Egress`.
    pub fn egress(&self) -> EgressClient<'_, A> {
        self.inner.egress()
    }

    /// `Ingress`.
    pub fn ingress(&self) -> IngressClient<'_, A> {
        self.inner.ingress()
    }

    /// `SIP`.
    pub fn sip(&self) -> SipClient<'_, A> {
        self.inner.sip()
    }

    /// `AgentDispatchService`.
    pub fn agent_dispatch(&self) -> AgentDispatchClient<'_, A> {
        self.inner.agent_dispatch()
    }

    /// `Connector` (LiveKit Cloud).
    pub fn connector(&self) -> ConnectorClient<'_, A> {
        self.inner.connector()
    }
}

impl<T: Transport, E: Environment> LiveKitApi<AsyncApi<T, E>> {
    /// One call of RPC `R` (a marker type of [`rpc`](crate::rpc)) that keeps the successful
    /// response's body undecoded, to read as a view (`livekit_proto::view`, feature `view`)
    /// whose strings borrow from it: the cheapest way to read a large listing. Retries,
    /// timeouts and errors are those of any call.
    pub async fn call_body<R: Rpc>(
        &self,
        request: R::Request,
        options: &CallOptions,
    ) -> Result<ResponseBody<R>, Error> {
        self.inner.call_body::<R>(request, options).await
    }
}

impl<T: BlockingTransport, E: Environment> LiveKitApi<BlockingApi<T, E>> {
    /// One call of RPC `R` (a marker type of [`rpc`](crate::rpc)) that keeps the successful
    /// response's body undecoded, to read as a view (`livekit_proto::view`, feature `view`)
    /// whose strings borrow from it: the cheapest way to read a large listing. Retries,
    /// timeouts and errors are those of any call.
    pub fn call_body<R: Rpc>(
        &self,
        request: R::Request,
        options: &CallOptions,
    ) -> Result<ResponseBody<R>, Error> {
        self.inner.call_body::<R>(request, options)
    }
}
