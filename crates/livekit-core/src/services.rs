//! Typed service clients: one method per RPC, generated from the protocol's RPC table, plus
//! the conveniences users of the reference SDK rely on. Written once against [`Execute`],
//! so async and blocking transports share every line.

use livekit_proto as proto;

use crate::rpc::{self, Rpc};
use crate::{CallOptions, Error, Execute};

macro_rules! service_client {
    ($(#[$meta:meta])* $name:ident, $service:literal) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name<'a, E> {
            api: &'a E,
            options: CallOptions,
        }

        impl<E> Clone for $name<'_, E> {
            fn clone(&self) -> Self {
                Self {
                    api: self.api,
                    options: self.options.clone(),
                }
            }
        }

        impl<'a, E: Execute> $name<'a, E> {
            #[doc = concat!("The ", $service, " client of `api`.")]
            pub fn new(api: &'a E) -> Self {
                Self {
                    api,
                    options: CallOptions::default(),
                }
            }

            /// The same client with these per-call options (timeout, deadline, retries, headers).
            pub fn with_options(mut self, options: CallOptions) -> Self {
                self.options = options;
                self
            }

            /// Calls any RPC of the service through this client's options.
            fn call<R: Rpc>(&self, request: R::Request) -> E::Output<'a, Result<R::Response, Error>> {
                self.api.execute::<R>(request, self.options.clone())
            }
        }
    };
}

service_client!(
    /// `RoomService`: rooms, participants, data, RPC.
    RoomClient, "RoomService"
);
service_client!(
    /// `Egress`: recording and streaming.
    EgressClient, "Egress"
);
service_client!(
    /// `Ingress`: RTMP, WHIP and URL inputs.
    IngressClient, "Ingress"
);
service_client!(
    /// `SIP`: trunks, dispatch rules, calls and transfers.
    SipClient, "SIP"
);
service_client!(
    /// `AgentDispatchService`: explicit agent dispatch.
    AgentDispatchClient, "AgentDispatchService"
);
service_client!(
    /// `Connector`: WhatsApp and Twilio calls (LiveKit Cloud).
    ConnectorClient, "Connector"
);

/// The client type of a service, by the service's proto name.
macro_rules! client_of {
    (RoomService) => { RoomClient<'a, E> };
    (Egress) => { EgressClient<'a, E> };
    (Ingress) => { IngressClient<'a, E> };
    (SIP) => { SipClient<'a, E> };
    (AgentDispatchService) => { AgentDispatchClient<'a, E> };
    (Connector) => { ConnectorClient<'a, E> };
}

/// One method per RPC, on its service's client.
macro_rules! rpc_methods {
    ($(($service:ident, $method:ident, $function:ident, $request:path, $response:path)),* $(,)?) => {
        $(
            impl<'a, E: Execute> client_of!($service) {
                #[doc = concat!(
                    "Calls `", stringify!($service), "/", stringify!($method), "` (see [`rpc::",
                    stringify!($method), "`] for its grant and retry policy)."
                )]
                pub fn $function(&self, request: $request) -> E::Output<'a, Result<$response, Error>> {
                    self.call::<rpc::$method>(request)
                }
            }
        )*
    };
}

proto::for_each_rpc!(rpc_methods);

impl<'a, E: Execute> AgentDispatchClient<'a, E> {
    /// One dispatch of a room by id, or `None` when there is no such dispatch.
    pub fn get_dispatch(
        &self,
        dispatch_id: &str,
        room: &str,
    ) -> E::Output<'a, Result<Option<proto::AgentDispatch>, Error>> {
        let output = self.list_dispatch(proto::ListAgentDispatchRequest {
            dispatch_id: dispatch_id.to_owned(),
            room: room.to_owned(),
        });
        E::map(output, |result| {
            result.map(|response| response.agent_dispatches.into_iter().next())
        })
    }
}

impl<'a, E: Execute> SipClient<'a, E> {
    /// Updates some fields of an inbound trunk, leaving the rest as they are; list fields
    /// take a [`ListUpdate`](proto::ListUpdate) (set, add, remove, clear).
    pub fn update_sip_inbound_trunk_fields(
        &self,
        sip_trunk_id: &str,
        update: proto::SipInboundTrunkUpdate,
    ) -> E::Output<'a, Result<proto::SipInboundTrunkInfo, Error>> {
        self.update_sip_inbound_trunk(proto::UpdateSipInboundTrunkRequest {
            sip_trunk_id: sip_trunk_id.to_owned(),
            action: Some(proto::update_sip_inbound_trunk_request::Action::Update(
                update,
            )),
        })
    }

    /// Replaces an inbound trunk wholesale.
    pub fn replace_sip_inbound_trunk(
        &self,
        sip_trunk_id: &str,
        trunk: proto::SipInboundTrunkInfo,
    ) -> E::Output<'a, Result<proto::SipInboundTrunkInfo, Error>> {
        self.update_sip_inbound_trunk(proto::UpdateSipInboundTrunkRequest {
            sip_trunk_id: sip_trunk_id.to_owned(),
            action: Some(proto::update_sip_inbound_trunk_request::Action::Replace(
                trunk,
            )),
        })
    }

    /// Updates some fields of an outbound trunk, leaving the rest as they are.
    pub fn update_sip_outbound_trunk_fields(
        &self,
        sip_trunk_id: &str,
        update: proto::SipOutboundTrunkUpdate,
    ) -> E::Output<'a, Result<proto::SipOutboundTrunkInfo, Error>> {
        self.update_sip_outbound_trunk(proto::UpdateSipOutboundTrunkRequest {
            sip_trunk_id: sip_trunk_id.to_owned(),
            action: Some(proto::update_sip_outbound_trunk_request::Action::Update(
                update,
            )),
        })
    }

    /// Replaces an outbound trunk wholesale.
    pub fn replace_sip_outbound_trunk(
        &self,
        sip_trunk_id: &str,
        trunk: proto::SipOutboundTrunkInfo,
    ) -> E::Output<'a, Result<proto::SipOutboundTrunkInfo, Error>> {
        self.update_sip_outbound_trunk(proto::UpdateSipOutboundTrunkRequest {
            sip_trunk_id: sip_trunk_id.to_owned(),
            action: Some(proto::update_sip_outbound_trunk_request::Action::Replace(
                trunk,
            )),
        })
    }

    /// Updates some fields of a dispatch rule, leaving the rest as they are.
    pub fn update_sip_dispatch_rule_fields(
        &self,
        sip_dispatch_rule_id: &str,
        update: proto::SipDispatchRuleUpdate,
    ) -> E::Output<'a, Result<proto::SipDispatchRuleInfo, Error>> {
        self.update_sip_dispatch_rule(proto::UpdateSipDispatchRuleRequest {
            sip_dispatch_rule_id: sip_dispatch_rule_id.to_owned(),
            action: Some(proto::update_sip_dispatch_rule_request::Action::Update(
                update,
            )),
        })
    }

    /// Replaces a dispatch rule wholesale.
    pub fn replace_sip_dispatch_rule(
        &self,
        sip_dispatch_rule_id: &str,
        rule: proto::SipDispatchRuleInfo,
    ) -> E::Output<'a, Result<proto::SipDispatchRuleInfo, Error>> {
        self.update_sip_dispatch_rule(proto::UpdateSipDispatchRuleRequest {
            sip_dispatch_rule_id: sip_dispatch_rule_id.to_owned(),
            action: Some(proto::update_sip_dispatch_rule_request::Action::Replace(
                rule,
            )),
        })
    }
}

/// A [`ListUpdate`](proto::ListUpdate) that replaces the list with `values`.
pub fn list_set<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> proto::ListUpdate {
    proto::ListUpdate {
        set: values.into_iter().map(Into::into).collect(),
        ..proto::ListUpdate::default()
    }
}

/// A [`ListUpdate`](proto::ListUpdate) that adds `values` to the list.
pub fn list_add<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> proto::ListUpdate {
    proto::ListUpdate {
        add: values.into_iter().map(Into::into).collect(),
        ..proto::ListUpdate::default()
    }
}

/// A [`ListUpdate`](proto::ListUpdate) that removes `values` from the list.
pub fn list_remove<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> proto::ListUpdate {
    proto::ListUpdate {
        remove: values.into_iter().map(Into::into).collect(),
        ..proto::ListUpdate::default()
    }
}

/// Accessors on an API handle: `api.room()`, `api.sip()`, ...
pub trait Services: Execute + Sized {
    /// The `RoomService` client.
    fn room(&self) -> RoomClient<'_, Self> {
        RoomClient::new(self)
    }
    /// The `Egress` client.
    fn egress(&self) -> EgressClient<'_, Self> {
        EgressClient::new(self)
    }
    /// The `Ingress` client.
    fn ingress(&self) -> IngressClient<'_, Self> {
        IngressClient::new(self)
    }
    /// The `SIP` client.
    fn sip(&self) -> SipClient<'_, Self> {
        SipClient::new(self)
    }
    /// The `AgentDispatchService` client.
    fn agent_dispatch(&self) -> AgentDispatchClient<'_, Self> {
        AgentDispatchClient::new(self)
    }
    /// The `Connector` client.
    fn connector(&self) -> ConnectorClient<'_, Self> {
        ConnectorClient::new(self)
    }
}

impl<E: Execute> Services for E {}
