//! `livekit sip ...`: trunks, dispatch rules, calls and transfers.
//!
//! Passwords and PINs are never printed: tables show `***`, and `--json` output carries
//! `***` in their place.

use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use livekit_ureq::proto;
use livekit_ureq::{Error, list_set};

use crate::Failure;
use crate::progress::with_progress;
use crate::server::{
    Connection, failure, failure_about, failure_without_service, joined, mask, print_json,
    print_table,
};

#[derive(Debug, Subcommand)]
pub(crate) enum SipCommand {
    /// Create, list, show, update and delete SIP trunks.
    #[command(subcommand)]
    Trunk(TrunkCommand),
    /// Create, list, update and delete SIP dispatch rules.
    #[command(subcommand)]
    DispatchRule(DispatchRuleCommand),
    /// Dial a phone number into a room through an outbound trunk.
    #[command(after_help = "Examples:
  livekit sip call ST_outbound +15550100 my-room --identity phone-1
  livekit sip call ST_outbound +15550100 my-room --wait --ringing-timeout 20s")]
    Call(Box<CallArgs>),
    /// Transfer a SIP participant's call to another number or SIP URI.
    #[command(after_help = "Examples:
  livekit sip transfer my-room phone-1 tel:+15550199
  livekit sip transfer my-room phone-1 sip:desk@pbx.example.com --play-dialtone
  livekit sip transfer my-room phone-1 tel:+15550199 --dialtone us")]
    Transfer {
        /// Room name.
        room: String,
        /// The SIP participant's identity.
        identity: String,
        /// Where to: tel:+1... or sip:user@host.
        transfer_to: String,
        /// Play a dial tone (ETSI's) to the caller while transferring.
        #[arg(long, conflicts_with = "dialtone")]
        play_dialtone: bool,
        /// Play this dial tone to the caller while transferring (a SIP service from before
        /// protocol v1.53.2 plays ETSI's instead).
        #[arg(long, value_enum)]
        dialtone: Option<Dialtone>,
        /// How long the new party may ring: seconds, or a number with s or m.
        #[arg(long, value_parser = crate::duration::parse_duration)]
        ringing_timeout: Option<Duration>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TrunkCommand {
    /// Create an inbound trunk: which numbers and callers LiveKit accepts calls for.
    #[command(after_help = "Examples:
  livekit sip trunk create-inbound --name office --number +15550100
  livekit sip trunk create-inbound --name pbx --number +15550100 --allowed-address 203.0.113.0/24 \\
      --auth-username pbx --auth-password \"$SIP_PASSWORD\"")]
    CreateInbound(Box<InboundArgs>),
    /// Create an outbound trunk: the provider LiveKit dials out through.
    #[command(after_help = "Examples:
  livekit sip trunk create-outbound --name carrier --address sip.carrier.example --number +15550100
  livekit sip trunk create-outbound --name carrier --address sip.carrier.example --number +15550100 \\
      --transport tls --auth-username me --auth-password \"$SIP_PASSWORD\"")]
    CreateOutbound(Box<OutboundArgs>),
    /// List trunks, inbound and outbound.
    #[command(after_help = "Examples:
  livekit sip trunk list
  livekit sip trunk list --outbound --json")]
    List {
        /// Only inbound trunks.
        #[arg(long, conflicts_with = "outbound")]
        inbound: bool,
        /// Only outbound trunks.
        #[arg(long)]
        outbound: bool,
    },
    /// Show one trunk.
    #[command(after_help = "Example:\n  livekit sip trunk get ST_4mKZ9D3aWkq2")]
    Get {
        /// Trunk id.
        id: String,
    },
    /// Change some fields of a trunk; the rest stay as they are.
    #[command(after_help = "Examples:
  livekit sip trunk update ST_4mKZ9D3aWkq2 --name office-2 --number +15550100 --number +15550101
  livekit sip trunk update ST_4mKZ9D3aWkq2 --auth-password \"$NEW_SIP_PASSWORD\"")]
    Update(Box<TrunkUpdateArgs>),
    /// Delete a trunk.
    #[command(after_help = "Example:\n  livekit sip trunk delete ST_4mKZ9D3aWkq2")]
    Delete {
        /// Trunk id.
        id: String,
    },
}

/// `sip trunk create-inbound`.
#[derive(Debug, Args)]
pub(crate) struct InboundArgs {
    /// Trunk name.
    #[arg(long, default_value = "")]
    name: String,
    /// A number this trunk receives calls for (repeatable).
    #[arg(long = "number", value_name = "NUMBER")]
    numbers: Vec<String>,
    /// Accept calls only from this IP or CIDR (repeatable).
    #[arg(long = "allowed-address", value_name = "ADDRESS")]
    allowed_addresses: Vec<String>,
    /// Accept calls only from this caller number (repeatable).
    #[arg(long = "allowed-number", value_name = "NUMBER")]
    allowed_numbers: Vec<String>,
    /// Username callers must authenticate with.
    #[arg(long)]
    auth_username: Option<String>,
    /// Password callers must authenticate with (never printed).
    #[arg(long)]
    auth_password: Option<String>,
    /// Trunk metadata.
    #[arg(long, default_value = "")]
    metadata: String,
    /// The SIP status a caller gets when the ringing timeout passes: a code (486) or a name
    /// (busy-here, SIP_STATUS_BUSY_HERE); unset, the SIP service's default.
    #[arg(long, value_name = "STATUS", value_parser = parse_sip_status)]
    ringing_timeout_status: Option<i32>,
}

/// A SIP status by its code (`486`) or its protocol name, with or without `SIP_STATUS_`, in
/// any case, `-` for `_` (`busy-here`).
fn parse_sip_status(text: &str) -> Result<i32, String> {
    let status = match text.parse::<i32>() {
        Ok(code) => proto::SipStatusCode::try_from(code).ok(),
        Err(_) => {
            let name = text.to_ascii_uppercase().replace('-', "_");
            let name = match name.starts_with("SIP_STATUS_") {
                true => name,
                false => format!("SIP_STATUS_{name}"),
            };
            proto::SipStatusCode::from_str_name(&name)
        }
    };
    status
        .filter(|status| *status != proto::SipStatusCode::SipStatusUnknown)
        .map(|status| status as i32)
        .ok_or_else(|| {
            format!("`{text}` is not a SIP status (486, busy-here, SIP_STATUS_BUSY_HERE, ...)")
        })
}

/// A dial tone (ringback), by the country whose tone it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Dialtone {
    /// ETSI's 425 Hz tone, the one `--play-dialtone` plays.
    Etsi,
    /// By the country of the called number, ETSI's if unknown.
    Auto,
    /// North America's.
    Us,
    /// The United Kingdom's.
    Uk,
    /// Japan's.
    Jp,
    /// Australia's.
    Au,
}

impl Dialtone {
    fn to_proto(self) -> proto::SipDialtone {
        match self {
            Self::Etsi => proto::SipDialtone::Etsi,
            Self::Auto => proto::SipDialtone::Auto,
            Self::Us => proto::SipDialtone::Us,
            Self::Uk => proto::SipDialtone::Uk,
            Self::Jp => proto::SipDialtone::Jp,
            Self::Au => proto::SipDialtone::Au,
        }
    }
}

/// `play_dialtone` and `dialtone` of a call or a transfer. `dialtone` is upstream's
/// replacement for the deprecated `play_dialtone`, but SIP services from before protocol
/// v1.53.2 read only `play_dialtone` (ETSI's tone), and newer ones read `play_dialtone` as
/// ETSI's tone only while `dialtone` is unset. So `--play-dialtone` sends `play_dialtone` alone, and
/// `--dialtone` sends both: the chosen tone where it is known, ETSI's where it is not.
fn dialtone_fields(play_dialtone: bool, dialtone: Option<Dialtone>) -> (bool, i32) {
    match dialtone {
        Some(dialtone) => (true, dialtone.to_proto() as i32),
        None => (play_dialtone, proto::SipDialtone::Disabled as i32),
    }
}

impl InboundArgs {
    fn to_request(&self) -> proto::CreateSipInboundTrunkRequest {
        proto::CreateSipInboundTrunkRequest {
            trunk: Some(proto::SipInboundTrunkInfo {
                name: self.name.clone(),
                metadata: self.metadata.clone(),
                numbers: self.numbers.clone(),
                allowed_addresses: self.allowed_addresses.clone(),
                allowed_numbers: self.allowed_numbers.clone(),
                auth_username: self.auth_username.clone().unwrap_or_default(),
                auth_password: self.auth_password.clone().unwrap_or_default(),
                ringing_timeout_status: self.ringing_timeout_status.unwrap_or_default(),
                ..Default::default()
            }),
        }
    }
}

/// The transport an outbound trunk uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Transport {
    /// Let LiveKit choose.
    Auto,
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS.
    Tls,
}

impl Transport {
    fn to_proto(self) -> proto::SipTransport {
        match self {
            Self::Auto => proto::SipTransport::Auto,
            Self::Udp => proto::SipTransport::Udp,
            Self::Tcp => proto::SipTransport::Tcp,
            Self::Tls => proto::SipTransport::Tls,
        }
    }
}

/// `sip trunk create-outbound`.
#[derive(Debug, Args)]
pub(crate) struct OutboundArgs {
    /// Trunk name.
    #[arg(long, default_value = "")]
    name: String,
    /// The provider's SIP host (and port).
    #[arg(long)]
    address: String,
    /// A number calls are placed from (repeatable).
    #[arg(long = "number", value_name = "NUMBER", required = true)]
    numbers: Vec<String>,
    /// SIP transport.
    #[arg(long, value_enum, default_value = "auto")]
    transport: Transport,
    /// Username for the provider.
    #[arg(long)]
    auth_username: Option<String>,
    /// Password for the provider (never printed).
    #[arg(long)]
    auth_password: Option<String>,
    /// Two-letter country code of the destination, for region routing.
    #[arg(long)]
    destination_country: Option<String>,
    /// Trunk metadata.
    #[arg(long, default_value = "")]
    metadata: String,
}

impl OutboundArgs {
    fn to_request(&self) -> proto::CreateSipOutboundTrunkRequest {
        proto::CreateSipOutboundTrunkRequest {
            trunk: Some(proto::SipOutboundTrunkInfo {
                name: self.name.clone(),
                metadata: self.metadata.clone(),
                address: self.address.clone(),
                destination_country: self.destination_country.clone().unwrap_or_default(),
                transport: self.transport.to_proto() as i32,
                numbers: self.numbers.clone(),
                auth_username: self.auth_username.clone().unwrap_or_default(),
                auth_password: self.auth_password.clone().unwrap_or_default(),
                ..Default::default()
            }),
        }
    }
}

/// `sip trunk update`: flags for either direction; the trunk's own direction decides which
/// apply, and a flag of the other direction is a usage error.
#[derive(Debug, Args)]
pub(crate) struct TrunkUpdateArgs {
    /// Trunk id.
    id: String,
    /// New name.
    #[arg(long)]
    name: Option<String>,
    /// New metadata.
    #[arg(long)]
    metadata: Option<String>,
    /// Replace the numbers with these (repeatable).
    #[arg(long = "number", value_name = "NUMBER")]
    numbers: Vec<String>,
    /// New username.
    #[arg(long)]
    auth_username: Option<String>,
    /// New password (never printed).
    #[arg(long)]
    auth_password: Option<String>,
    /// Inbound only: replace the allowed addresses (repeatable).
    #[arg(long = "allowed-address", value_name = "ADDRESS")]
    allowed_addresses: Vec<String>,
    /// Inbound only: replace the allowed caller numbers (repeatable).
    #[arg(long = "allowed-number", value_name = "NUMBER")]
    allowed_numbers: Vec<String>,
    /// Outbound only: new provider address.
    #[arg(long)]
    address: Option<String>,
    /// Outbound only: new transport.
    #[arg(long, value_enum)]
    transport: Option<Transport>,
}

fn list_update(values: &[String]) -> Option<proto::ListUpdate> {
    (!values.is_empty()).then(|| list_set(values.iter().cloned()))
}

impl TrunkUpdateArgs {
    fn inbound_update(&self) -> Result<proto::SipInboundTrunkUpdate, Failure> {
        if self.address.is_some() || self.transport.is_some() {
            return Err(Failure::usage(format!(
                "{} is an inbound trunk: --address and --transport are for outbound trunks",
                self.id
            )));
        }
        Ok(proto::SipInboundTrunkUpdate {
            numbers: list_update(&self.numbers),
            allowed_addresses: list_update(&self.allowed_addresses),
            allowed_numbers: list_update(&self.allowed_numbers),
            auth_username: self.auth_username.clone(),
            auth_password: self.auth_password.clone(),
            name: self.name.clone(),
            metadata: self.metadata.clone(),
            ..Default::default()
        })
    }

    fn outbound_update(&self) -> Result<proto::SipOutboundTrunkUpdate, Failure> {
        if !self.allowed_addresses.is_empty() || !self.allowed_numbers.is_empty() {
            return Err(Failure::usage(format!(
                "{} is an outbound trunk: --allowed-address and --allowed-number are for inbound trunks",
                self.id
            )));
        }
        Ok(proto::SipOutboundTrunkUpdate {
            address: self.address.clone(),
            transport: self.transport.map(|transport| transport.to_proto() as i32),
            numbers: list_update(&self.numbers),
            auth_username: self.auth_username.clone(),
            auth_password: self.auth_password.clone(),
            name: self.name.clone(),
            metadata: self.metadata.clone(),
            ..Default::default()
        })
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum DispatchRuleCommand {
    /// Create a rule that sends inbound calls to rooms.
    #[command(after_help = "Examples:
  livekit sip dispatch-rule create --direct support-room --trunk ST_4mKZ9D3aWkq2
  livekit sip dispatch-rule create --individual call- --name per-caller
  livekit sip dispatch-rule create --callee line- --pin 1234")]
    Create(Box<RuleArgs>),
    /// List dispatch rules.
    #[command(
        after_help = "Examples:\n  livekit sip dispatch-rule list\n  livekit sip dispatch-rule list --json"
    )]
    List {
        /// Only rules of this trunk (repeatable).
        #[arg(long = "trunk", value_name = "TRUNK_ID")]
        trunks: Vec<String>,
    },
    /// Change some fields of a rule; the rest stay as they are.
    #[command(after_help = "Example:
  livekit sip dispatch-rule update SDR_8p3WqK2bY7 --name after-hours --direct voicemail")]
    Update(Box<RuleUpdateArgs>),
    /// Delete a dispatch rule.
    #[command(after_help = "Example:\n  livekit sip dispatch-rule delete SDR_8p3WqK2bY7")]
    Delete {
        /// Dispatch rule id.
        id: String,
    },
}

/// Which rooms a rule sends calls to: exactly one of the three kinds.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub(crate) struct RuleKind {
    /// Every call goes to this room.
    #[arg(long, value_name = "ROOM")]
    direct: Option<String>,
    /// Each caller gets a new room named with this prefix.
    #[arg(long, value_name = "PREFIX")]
    individual: Option<String>,
    /// Each called number gets a room named with this prefix.
    #[arg(long, value_name = "PREFIX")]
    callee: Option<String>,
}

impl RuleKind {
    fn to_rule(&self, pin: Option<&str>) -> Option<proto::SipDispatchRule> {
        use proto::sip_dispatch_rule::Rule;
        let pin = pin.unwrap_or_default().to_owned();
        let rule = if let Some(room) = &self.direct {
            Rule::DispatchRuleDirect(proto::SipDispatchRuleDirect {
                room_name: room.clone(),
                pin,
            })
        } else if let Some(prefix) = &self.individual {
            Rule::DispatchRuleIndividual(proto::SipDispatchRuleIndividual {
                room_prefix: prefix.clone(),
                pin,
                ..Default::default()
            })
        } else if let Some(prefix) = &self.callee {
            Rule::DispatchRuleCallee(proto::SipDispatchRuleCallee {
                room_prefix: prefix.clone(),
                pin,
                ..Default::default()
            })
        } else {
            return None;
        };
        Some(proto::SipDispatchRule { rule: Some(rule) })
    }
}

/// `sip dispatch-rule create`.
#[derive(Debug, Args)]
pub(crate) struct RuleArgs {
    #[command(flatten)]
    kind: RuleKind,
    /// PIN callers must enter (never printed).
    #[arg(long)]
    pin: Option<String>,
    /// Only calls through this trunk (repeatable; default every inbound trunk).
    #[arg(long = "trunk", value_name = "TRUNK_ID")]
    trunks: Vec<String>,
    /// Rule name.
    #[arg(long, default_value = "")]
    name: String,
    /// Rule metadata.
    #[arg(long, default_value = "")]
    metadata: String,
    /// Hide the caller's number from other participants.
    #[arg(long)]
    hide_phone_number: bool,
}

impl RuleArgs {
    fn to_request(&self) -> Result<proto::CreateSipDispatchRuleRequest, Failure> {
        let rule = self.kind.to_rule(self.pin.as_deref()).ok_or_else(|| {
            Failure::usage("give the rule: --direct ROOM, --individual PREFIX or --callee PREFIX")
        })?;
        Ok(proto::CreateSipDispatchRuleRequest {
            dispatch_rule: Some(proto::SipDispatchRuleInfo {
                rule: Some(rule),
                trunk_ids: self.trunks.clone(),
                hide_phone_number: self.hide_phone_number,
                name: self.name.clone(),
                metadata: self.metadata.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
    }
}

/// `sip dispatch-rule update`.
#[derive(Debug, Args)]
pub(crate) struct RuleUpdateArgs {
    /// Dispatch rule id.
    id: String,
    #[command(flatten)]
    kind: RuleKind,
    /// PIN callers must enter, with a new rule kind (never printed).
    #[arg(long, requires = "RuleKind")]
    pin: Option<String>,
    /// Replace the trunks with these (repeatable).
    #[arg(long = "trunk", value_name = "TRUNK_ID")]
    trunks: Vec<String>,
    /// New name.
    #[arg(long)]
    name: Option<String>,
    /// New metadata.
    #[arg(long)]
    metadata: Option<String>,
}

impl RuleUpdateArgs {
    fn to_update(&self) -> proto::SipDispatchRuleUpdate {
        proto::SipDispatchRuleUpdate {
            trunk_ids: list_update(&self.trunks),
            rule: self.kind.to_rule(self.pin.as_deref()),
            name: self.name.clone(),
            metadata: self.metadata.clone(),
            ..Default::default()
        }
    }
}

/// `sip call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// Outbound trunk id.
    trunk: String,
    /// The number to call.
    number: String,
    /// Room the call joins.
    room: String,
    /// The phone participant's identity (default: sip_ and the number).
    #[arg(long)]
    identity: Option<String>,
    /// The phone participant's display name.
    #[arg(long)]
    name: Option<String>,
    /// Wait until the call is answered (or fails) before returning.
    #[arg(long = "wait")]
    wait_until_answered: bool,
    /// How long the phone may ring: seconds, or a number with s or m (server default 30s).
    #[arg(long, value_parser = crate::duration::parse_duration)]
    ringing_timeout: Option<Duration>,
    /// Hang up after this long: seconds, or a number with s, m or h.
    #[arg(long, value_parser = crate::duration::parse_duration)]
    max_call_duration: Option<Duration>,
    /// DTMF digits to send once answered ('w' waits half a second).
    #[arg(long)]
    dtmf: Option<String>,
    /// Play a dial tone (ETSI's) in the room while the phone rings.
    #[arg(long, conflicts_with = "dialtone")]
    play_dialtone: bool,
    /// Play this dial tone in the room while the phone rings (a SIP service from before
    /// protocol v1.53.2 plays ETSI's instead).
    #[arg(long, value_enum)]
    dialtone: Option<Dialtone>,
    /// Hide the number from other participants.
    #[arg(long)]
    hide_phone_number: bool,
    /// The user part of the INVITE's To header, when the callee expects another one than the
    /// number dialed (protocol v1.51 on: an older SIP service does not know it).
    #[arg(long, value_name = "USER")]
    to_user_override: Option<String>,
    /// LiveKit Cloud: the SIP call id (SCL_...) of a live inbound call to forward, keeping
    /// its caller's number as this call's caller id.
    #[arg(long, value_name = "SCL_ID")]
    source_call_id: Option<String>,
}

fn duration(value: Duration) -> proto::well_known::Duration {
    proto::well_known::Duration {
        seconds: i64::try_from(value.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(value.subsec_nanos()).unwrap_or(0),
    }
}

impl CallArgs {
    // `play_dialtone` is deprecated upstream: see `dialtone_fields`.
    #[allow(deprecated)]
    fn to_request(&self) -> proto::CreateSipParticipantRequest {
        let (play_dialtone, dialtone) = dialtone_fields(self.play_dialtone, self.dialtone);
        proto::CreateSipParticipantRequest {
            sip_trunk_id: self.trunk.clone(),
            sip_call_to: self.number.clone(),
            room_name: self.room.clone(),
            participant_identity: self.identity.clone().unwrap_or_default(),
            participant_name: self.name.clone().unwrap_or_default(),
            dtmf: self.dtmf.clone().unwrap_or_default(),
            play_dialtone,
            dialtone,
            to_user_override: self.to_user_override.clone().unwrap_or_default(),
            sip_source_call_id: self.source_call_id.clone().unwrap_or_default(),
            hide_phone_number: self.hide_phone_number,
            ringing_timeout: self.ringing_timeout.map(duration),
            max_call_duration: self.max_call_duration.map(duration),
            wait_until_answered: self.wait_until_answered,
            ..Default::default()
        }
    }
}

/// One row of the trunk table, either direction.
fn inbound_row(trunk: &proto::SipInboundTrunkInfo) -> Vec<String> {
    vec![
        trunk.sip_trunk_id.clone(),
        "inbound".to_owned(),
        trunk.name.clone(),
        joined(&trunk.numbers),
        joined(&trunk.allowed_addresses),
        trunk.auth_username.clone(),
        mask(&trunk.auth_password),
    ]
}

fn outbound_row(trunk: &proto::SipOutboundTrunkInfo) -> Vec<String> {
    vec![
        trunk.sip_trunk_id.clone(),
        "outbound".to_owned(),
        trunk.name.clone(),
        joined(&trunk.numbers),
        trunk.address.clone(),
        trunk.auth_username.clone(),
        mask(&trunk.auth_password),
    ]
}

const TRUNK_HEADERS: &[&str] = &[
    "ID",
    "DIRECTION",
    "NAME",
    "NUMBERS",
    "ADDRESS",
    "USERNAME",
    "PASSWORD",
];

/// Trunks of both directions, passwords masked, ready to print.
#[derive(Debug, Default)]
struct Trunks {
    inbound: Vec<proto::SipInboundTrunkInfo>,
    outbound: Vec<proto::SipOutboundTrunkInfo>,
}

impl Trunks {
    fn masked(mut self) -> Self {
        for trunk in &mut self.inbound {
            trunk.auth_password = mask(&trunk.auth_password);
        }
        for trunk in &mut self.outbound {
            trunk.auth_password = mask(&trunk.auth_password);
        }
        self
    }

    fn print(self, connection: &Connection) -> Result<(), Failure> {
        let trunks = self.masked();
        if connection.json {
            // One list when only one direction was asked for, as the other commands do.
            return match (trunks.inbound.is_empty(), trunks.outbound.is_empty()) {
                (false, true) => print_json(&trunks.inbound),
                (true, false) => print_json(&trunks.outbound),
                _ => print_json(&serde_json::json!({
                    "inbound": trunks.inbound,
                    "outbound": trunks.outbound,
                })),
            };
        }
        let rows: Vec<Vec<String>> = trunks
            .inbound
            .iter()
            .map(inbound_row)
            .chain(trunks.outbound.iter().map(outbound_row))
            .collect();
        print_table(TRUNK_HEADERS, &rows);
        Ok(())
    }
}

fn rule_rows(rules: &[proto::SipDispatchRuleInfo]) -> Vec<Vec<String>> {
    use proto::sip_dispatch_rule::Rule;
    rules
        .iter()
        .map(|info| {
            let (kind, target, pin) = match info.rule.as_ref().and_then(|rule| rule.rule.as_ref()) {
                Some(Rule::DispatchRuleDirect(rule)) => ("direct", &rule.room_name, &rule.pin),
                Some(Rule::DispatchRuleIndividual(rule)) => {
                    ("individual", &rule.room_prefix, &rule.pin)
                }
                Some(Rule::DispatchRuleCallee(rule)) => ("callee", &rule.room_prefix, &rule.pin),
                None => ("", &String::new(), &String::new()),
            };
            vec![
                info.sip_dispatch_rule_id.clone(),
                info.name.clone(),
                kind.to_owned(),
                target.clone(),
                mask(pin),
                if info.trunk_ids.is_empty() {
                    "(all)".to_owned()
                } else {
                    joined(&info.trunk_ids)
                },
            ]
        })
        .collect()
}

fn mask_pins(rules: &mut [proto::SipDispatchRuleInfo]) {
    use proto::sip_dispatch_rule::Rule;
    for info in rules {
        let pin = match info.rule.as_mut().and_then(|rule| rule.rule.as_mut()) {
            Some(Rule::DispatchRuleDirect(rule)) => &mut rule.pin,
            Some(Rule::DispatchRuleIndividual(rule)) => &mut rule.pin,
            Some(Rule::DispatchRuleCallee(rule)) => &mut rule.pin,
            None => continue,
        };
        *pin = mask(pin);
    }
}

fn print_rules(
    connection: &Connection,
    mut rules: Vec<proto::SipDispatchRuleInfo>,
) -> Result<(), Failure> {
    mask_pins(&mut rules);
    if connection.json {
        return print_json(&rules);
    }
    print_table(
        &["ID", "NAME", "KIND", "ROOM", "PIN", "TRUNKS"],
        &rule_rows(&rules),
    );
    Ok(())
}

pub(crate) fn run_sip(connection: &Connection, command: SipCommand) -> Result<(), Failure> {
    match command {
        SipCommand::Trunk(command) => run_trunk(connection, command),
        SipCommand::DispatchRule(command) => run_rule(connection, command),
        SipCommand::Call(args) => call(connection, &args),
        SipCommand::Transfer {
            room,
            identity,
            transfer_to,
            play_dialtone,
            dialtone,
            ringing_timeout,
        } => {
            let api = connection.api()?;
            let sip = api.sip().with_options(connection.options(None));
            let request = transfer_request(
                &room,
                &identity,
                &transfer_to,
                dialtone_fields(play_dialtone, dialtone),
                ringing_timeout,
            );
            with_progress(&format!("transferring {identity} to {transfer_to}"), || {
                sip.transfer_sip_participant(request)
            })
            .map_err(|error| {
                failure_about(&error, &format!("participant {identity} in room {room}"))
            })?;
            if connection.json {
                return print_json(&serde_json::json!({
                    "transferred": identity, "room": room, "to": transfer_to,
                }));
            }
            println!("transferred {identity} in room {room} to {transfer_to}");
            Ok(())
        }
    }
}

/// `sip transfer`'s request.
// `play_dialtone` is deprecated upstream: see `dialtone_fields`.
#[allow(deprecated)]
fn transfer_request(
    room: &str,
    identity: &str,
    transfer_to: &str,
    (play_dialtone, dialtone): (bool, i32),
    ringing_timeout: Option<Duration>,
) -> proto::TransferSipParticipantRequest {
    proto::TransferSipParticipantRequest {
        participant_identity: identity.to_owned(),
        room_name: room.to_owned(),
        transfer_to: transfer_to.to_owned(),
        play_dialtone,
        dialtone,
        ringing_timeout: ringing_timeout.map(duration),
        ..Default::default()
    }
}

fn call(connection: &Connection, args: &CallArgs) -> Result<(), Failure> {
    let api = connection.api()?;
    let sip = api.sip().with_options(connection.options(None));
    let label = format!("dialing {} via {}", args.number, args.trunk);
    let dial = || sip.create_sip_participant(args.to_request());
    // Only a dial that waits for an answer blocks long enough to deserve a progress line.
    let answered = if args.wait_until_answered {
        with_progress(&label, dial)
    } else {
        dial()
    }
    .map_err(|error| dial_failure(&error))?;
    if connection.json {
        return print_json(&answered);
    }
    print_table(
        &["PARTICIPANT", "IDENTITY", "ROOM", "SIP CALL"],
        &[vec![
            answered.participant_id,
            answered.participant_identity,
            answered.room_name,
            answered.sip_call_id,
        ]],
    );
    Ok(())
}

/// A failed dial: the server's error (with its SIP status when there is one), and a hint
/// when the server has no SIP service to dial with.
fn dial_failure(error: &Error) -> Failure {
    if error
        .server()
        .is_some_and(|server| server.sip_status_code().is_some())
    {
        return failure(error);
    }
    failure_without_service(error, "a SIP service")
}

fn run_trunk(connection: &Connection, command: TrunkCommand) -> Result<(), Failure> {
    let api = connection.api()?;
    let sip = api.sip().with_options(connection.options(None));
    let admin = |error: Error| failure(&error);
    match command {
        TrunkCommand::CreateInbound(args) => {
            let created = sip
                .create_sip_inbound_trunk(args.to_request())
                .map_err(admin)?;
            Trunks {
                inbound: vec![created],
                ..Trunks::default()
            }
            .print(connection)
        }
        TrunkCommand::CreateOutbound(args) => {
            let created = sip
                .create_sip_outbound_trunk(args.to_request())
                .map_err(admin)?;
            Trunks {
                outbound: vec![created],
                ..Trunks::default()
            }
            .print(connection)
        }
        TrunkCommand::List { inbound, outbound } => {
            let mut trunks = Trunks::default();
            if !outbound {
                trunks.inbound = sip
                    .list_sip_inbound_trunk(proto::ListSipInboundTrunkRequest::default())
                    .map_err(admin)?
                    .items;
            }
            if !inbound {
                trunks.outbound = sip
                    .list_sip_outbound_trunk(proto::ListSipOutboundTrunkRequest::default())
                    .map_err(admin)?
                    .items;
            }
            trunks.print(connection)
        }
        TrunkCommand::Get { id } => find_trunk(&sip, &id)?.print(connection),
        TrunkCommand::Update(args) => {
            let found = find_trunk(&sip, &args.id)?;
            let updated = if found.inbound.is_empty() {
                Trunks {
                    outbound: vec![
                        sip.update_sip_outbound_trunk_fields(&args.id, args.outbound_update()?)
                            .map_err(admin)?,
                    ],
                    ..Trunks::default()
                }
            } else {
                Trunks {
                    inbound: vec![
                        sip.update_sip_inbound_trunk_fields(&args.id, args.inbound_update()?)
                            .map_err(admin)?,
                    ],
                    ..Trunks::default()
                }
            };
            updated.print(connection)
        }
        TrunkCommand::Delete { id } => {
            sip.delete_sip_trunk(proto::DeleteSipTrunkRequest {
                sip_trunk_id: id.clone(),
            })
            .map_err(|error| failure_about(&error, &format!("sip trunk {id}")))?;
            if connection.json {
                return print_json(&serde_json::json!({ "deleted": id }));
            }
            println!("deleted sip trunk {id}");
            Ok(())
        }
    }
}

/// The SIP client of the blocking API.
type Sip<'a> = livekit_ureq::SipClient<'a, livekit_ureq::Api>;

/// A trunk by id, whichever its direction: inbound is asked first, then outbound.
fn find_trunk(sip: &Sip<'_>, id: &str) -> Result<Trunks, Failure> {
    let missing = format!("sip trunk {id}");
    match sip.get_sip_inbound_trunk(proto::GetSipInboundTrunkRequest {
        sip_trunk_id: id.to_owned(),
    }) {
        Ok(found) => {
            return Ok(Trunks {
                inbound: found.trunk.into_iter().collect(),
                ..Trunks::default()
            });
        }
        Err(error) if !error.is_not_found() => return Err(failure(&error)),
        Err(_) => {}
    }
    let found = sip
        .get_sip_outbound_trunk(proto::GetSipOutboundTrunkRequest {
            sip_trunk_id: id.to_owned(),
        })
        .map_err(|error| failure_about(&error, &missing))?;
    let trunks = Trunks {
        outbound: found.trunk.into_iter().collect(),
        ..Trunks::default()
    };
    if trunks.outbound.is_empty() {
        return Err(Failure::server(format!("not found: {missing}")));
    }
    Ok(trunks)
}

fn run_rule(connection: &Connection, command: DispatchRuleCommand) -> Result<(), Failure> {
    let api = connection.api()?;
    let sip = api.sip().with_options(connection.options(None));
    match command {
        DispatchRuleCommand::Create(args) => {
            let created = sip
                .create_sip_dispatch_rule(args.to_request()?)
                .map_err(|error| failure(&error))?;
            print_rules(connection, vec![created])
        }
        DispatchRuleCommand::List { trunks } => {
            let listed = sip
                .list_sip_dispatch_rule(proto::ListSipDispatchRuleRequest {
                    trunk_ids: trunks,
                    ..Default::default()
                })
                .map_err(|error| failure(&error))?;
            print_rules(connection, listed.items)
        }
        DispatchRuleCommand::Update(args) => {
            let updated = sip
                .update_sip_dispatch_rule_fields(&args.id, args.to_update())
                .map_err(|error| {
                    failure_about(&error, &format!("sip dispatch rule {}", args.id))
                })?;
            print_rules(connection, vec![updated])
        }
        DispatchRuleCommand::Delete { id } => {
            sip.delete_sip_dispatch_rule(proto::DeleteSipDispatchRuleRequest {
                sip_dispatch_rule_id: id.clone(),
            })
            .map_err(|error| failure_about(&error, &format!("sip dispatch rule {id}")))?;
            if connection.json {
                return print_json(&serde_json::json!({ "deleted": id }));
            }
            println!("deleted sip dispatch rule {id}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;
    use livekit_ureq::proto;

    use super::{
        CallArgs, Dialtone, InboundArgs, OutboundArgs, RuleArgs, TrunkUpdateArgs, Trunks,
        dialtone_fields, inbound_row, mask_pins, outbound_row, parse_sip_status, rule_rows,
        transfer_request,
    };

    #[derive(Debug, Parser)]
    struct Parse<T: clap::Args> {
        #[command(flatten)]
        args: T,
    }

    fn parse<T: clap::Args>(args: &[&str]) -> T {
        Parse::<T>::parse_from(std::iter::once("x").chain(args.iter().copied())).args
    }

    #[test]
    fn trunk_rows_never_show_a_password() {
        let inbound = parse::<InboundArgs>(&[
            "--name",
            "office",
            "--number",
            "+15550100",
            "--auth-username",
            "pbx",
            "--auth-password",
            "hunter2",
        ])
        .to_request()
        .trunk
        .unwrap();
        assert_eq!(
            inbound.auth_password, "hunter2",
            "the server gets the password"
        );
        let row = inbound_row(&inbound);
        assert!(!row.iter().any(|cell| cell.contains("hunter2")), "{row:?}");
        assert_eq!(row.last().unwrap(), "***");

        let outbound = parse::<OutboundArgs>(&[
            "--address",
            "sip.example.test",
            "--number",
            "+15550100",
            "--transport",
            "tls",
            "--auth-password",
            "hunter2",
        ])
        .to_request()
        .trunk
        .unwrap();
        assert_eq!(outbound.transport, proto::SipTransport::Tls as i32);
        let row = outbound_row(&outbound);
        assert!(!row.iter().any(|cell| cell.contains("hunter2")), "{row:?}");

        let masked = Trunks {
            inbound: vec![inbound],
            outbound: vec![outbound],
        }
        .masked();
        assert_eq!(masked.inbound[0].auth_password, "***");
        assert_eq!(masked.outbound[0].auth_password, "***");
    }

    #[test]
    fn trunk_updates_refuse_flags_of_the_other_direction() {
        let update = parse::<TrunkUpdateArgs>(&["ST_1", "--address", "a", "--number", "+1"]);
        assert_eq!(update.inbound_update().unwrap_err().code, 2);
        let outbound = update.outbound_update().unwrap();
        assert_eq!(outbound.address.as_deref(), Some("a"));
        assert_eq!(outbound.numbers.unwrap().set, ["+1"]);
        assert_eq!(outbound.name, None);
        let inbound = parse::<TrunkUpdateArgs>(&["ST_1", "--allowed-address", "10.0.0.0/8"]);
        assert_eq!(inbound.outbound_update().unwrap_err().code, 2);
        assert_eq!(
            inbound
                .inbound_update()
                .unwrap()
                .allowed_addresses
                .unwrap()
                .set,
            ["10.0.0.0/8"]
        );
    }

    #[test]
    fn dispatch_rules_take_exactly_one_kind_and_hide_pins() {
        assert!(
            Parse::<RuleArgs>::try_parse_from(["x", "--direct", "r", "--callee", "c"]).is_err()
        );
        assert_eq!(parse::<RuleArgs>(&[]).to_request().unwrap_err().code, 2);
        let request =
            parse::<RuleArgs>(&["--direct", "support", "--pin", "1234", "--trunk", "ST_1"])
                .to_request()
                .unwrap();
        let mut info = request.dispatch_rule.unwrap();
        assert_eq!(info.trunk_ids, ["ST_1"]);
        let rows = rule_rows(std::slice::from_ref(&info));
        assert_eq!(rows[0][2], "direct");
        assert_eq!(rows[0][3], "support");
        assert_eq!(rows[0][4], "***");
        mask_pins(std::slice::from_mut(&mut info));
        let json = serde_json::to_string(&info).unwrap();
        assert!(!json.contains("1234"), "{json}");
    }

    #[test]
    fn a_call_maps_trunk_number_room_and_ring_window() {
        let request = parse::<CallArgs>(&[
            "ST_out",
            "+15550100",
            "room-1",
            "--identity",
            "phone",
            "--wait",
            "--ringing-timeout",
            "20s",
        ])
        .to_request();
        assert_eq!(request.sip_trunk_id, "ST_out");
        assert_eq!(request.sip_call_to, "+15550100");
        assert_eq!(request.room_name, "room-1");
        assert_eq!(request.participant_identity, "phone");
        assert!(request.wait_until_answered);
        assert_eq!(
            request.ringing_timeout,
            Some(proto::well_known::Duration {
                seconds: Duration::from_secs(20).as_secs() as i64,
                nanos: 0
            })
        );
        assert_eq!(request.max_call_duration, None);
    }

    // The deprecated field is what servers before protocol v1.53.2 read.
    #[allow(deprecated)]
    #[test]
    fn dialtones_reach_old_and_new_sip_services() {
        let plain = parse::<CallArgs>(&["ST_out", "+15550100", "room-1"]).to_request();
        assert!(!plain.play_dialtone);
        assert_eq!(plain.dialtone, proto::SipDialtone::Disabled as i32);

        // ETSI's tone everywhere, through the field every version reads.
        let etsi =
            parse::<CallArgs>(&["ST_out", "+15550100", "room-1", "--play-dialtone"]).to_request();
        assert!(etsi.play_dialtone);
        assert_eq!(etsi.dialtone, proto::SipDialtone::Disabled as i32);

        // A chosen tone where `dialtone` is known, ETSI's where it is not.
        let us =
            parse::<CallArgs>(&["ST_out", "+15550100", "room-1", "--dialtone", "us"]).to_request();
        assert!(us.play_dialtone);
        assert_eq!(us.dialtone, proto::SipDialtone::Us as i32);

        let both = Parse::<CallArgs>::try_parse_from([
            "x",
            "ST_out",
            "+15550100",
            "room-1",
            "--play-dialtone",
            "--dialtone",
            "uk",
        ]);
        assert_eq!(
            both.unwrap_err().kind(),
            clap::error::ErrorKind::ArgumentConflict
        );

        let transfer = transfer_request(
            "room-1",
            "phone",
            "tel:+15550199",
            dialtone_fields(false, Some(Dialtone::Auto)),
            None,
        );
        assert_eq!(transfer.room_name, "room-1");
        assert_eq!(transfer.participant_identity, "phone");
        assert_eq!(transfer.transfer_to, "tel:+15550199");
        assert!(transfer.play_dialtone);
        assert_eq!(transfer.dialtone, proto::SipDialtone::Auto as i32);
        let transfer = transfer_request(
            "room-1",
            "phone",
            "tel:+15550199",
            dialtone_fields(true, None),
            Some(Duration::from_secs(15)),
        );
        assert!(transfer.play_dialtone);
        assert_eq!(transfer.dialtone, proto::SipDialtone::Disabled as i32);
        assert_eq!(
            transfer.ringing_timeout.map(|timeout| timeout.seconds),
            Some(15)
        );
    }

    #[test]
    fn a_call_can_override_the_to_user_and_forward_an_inbound_call() {
        let request = parse::<CallArgs>(&[
            "ST_out",
            "+15550100",
            "room-1",
            "--to-user-override",
            "desk-7",
            "--source-call-id",
            "SCL_abc",
        ])
        .to_request();
        assert_eq!(request.to_user_override, "desk-7");
        assert_eq!(request.sip_call_to, "+15550100", "the number dialed stays");
        assert_eq!(request.sip_source_call_id, "SCL_abc");
        let plain = parse::<CallArgs>(&["ST_out", "+15550100", "room-1"]).to_request();
        assert_eq!(plain.to_user_override, "");
        assert_eq!(plain.sip_source_call_id, "");
    }

    #[test]
    fn inbound_trunks_take_a_ringing_timeout_status_by_code_or_name() {
        for text in ["486", "busy-here", "BUSY_HERE", "sip_status_busy_here"] {
            assert_eq!(
                parse_sip_status(text),
                Ok(proto::SipStatusCode::SipStatusBusyHere as i32),
                "{text}"
            );
        }
        for bad in ["0", "487x", "999", "unknown", "not-a-status", ""] {
            assert!(parse_sip_status(bad).is_err(), "{bad}");
        }
        let trunk = parse::<InboundArgs>(&["--ringing-timeout-status", "480"])
            .to_request()
            .trunk
            .unwrap();
        assert_eq!(
            trunk.ringing_timeout_status,
            proto::SipStatusCode::SipStatusTemporarilyUnavailable as i32
        );
        let unset = parse::<InboundArgs>(&[]).to_request().trunk.unwrap();
        assert_eq!(
            unset.ringing_timeout_status,
            proto::SipStatusCode::SipStatusUnknown as i32
        );
    }
}
