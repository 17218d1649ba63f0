//! `livekit token create|verify|decode`.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::time::Duration;

use clap::{Args, Subcommand};
use livekit_ureq::auth::{
    AccessToken, ClaimGrants, ParticipantKind, SipGrants, TokenVerifier, VideoGrants,
    decode_unverified,
};
use serde::de::DeserializeOwned;

use crate::Failure;
use crate::server::KeyArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Mint an access token and print it.
    #[command(after_help = "Examples:
  livekit token create --identity alice --room my-room --join
  livekit token create --video-grants '{\"roomAdmin\":true,\"room\":\"r1\"}' --ttl 10m
  livekit token create --identity bot --kind agent --attributes '{\"team\":\"a\"}'")]
    Create(Box<CreateArgs>),
    /// Verify a token's signature and times, and print its claims as JSON.
    #[command(after_help = "Examples:
  livekit token verify eyJhbGciOi...
  echo \"$TOKEN\" | livekit token verify -
  livekit token verify --now 1800000000 \"$TOKEN\"")]
    Verify(VerifyArgs),
    /// Print a token's claims as JSON WITHOUT verifying anything.
    #[command(after_help = "Example:\n  livekit token decode eyJhbGciOi...")]
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// Participant identity (the `sub` claim).
    #[arg(long)]
    identity: Option<String>,
    /// Participant display name.
    #[arg(long)]
    name: Option<String>,
    /// Room the video grant applies to.
    #[arg(long)]
    room: Option<String>,
    /// Grant roomJoin for --room.
    #[arg(long)]
    join: bool,
    /// Time to live: seconds, or a number with s, m, h or d (default 6h).
    #[arg(long, value_parser = crate::duration::parse_duration)]
    ttl: Option<Duration>,
    /// Participant metadata.
    #[arg(long)]
    metadata: Option<String>,
    /// Participant attributes, as a JSON object of strings.
    #[arg(long, value_name = "JSON")]
    attributes: Option<String>,
    /// Participant kind: standard, ingress, egress, sip, agent, connector.
    #[arg(long)]
    kind: Option<String>,
    /// LiveKit Cloud room preset.
    #[arg(long)]
    room_preset: Option<String>,
    /// Room configuration, as the RoomConfiguration message in protojson.
    #[arg(long, value_name = "JSON")]
    room_config: Option<String>,
    /// The video grant as its JSON object (camelCase or snake_case); --room and --join
    /// are applied on top.
    #[arg(long, value_name = "JSON")]
    video_grants: Option<String>,
    /// The SIP grant as its JSON object, for example '{"admin":true}'.
    #[arg(long, value_name = "JSON")]
    sip_grants: Option<String>,
    /// Every claim at once, as the token payload's JSON (grants, name, kind, ...);
    /// other flags are applied on top.
    #[arg(long, value_name = "JSON")]
    claims: Option<String>,
    /// Sign at this Unix time instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// Verify at this Unix time instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// The token, or - to read it from standard input.
    token: String,
}

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// The token, or - to read it from standard input.
    token: String,
}

pub(crate) fn run(command: TokenCommand) -> Result<(), Failure> {
    match command {
        TokenCommand::Create(args) => create(*args),
        TokenCommand::Verify(args) => verify(args),
        TokenCommand::Decode(args) => decode(args),
    }
}

fn create(args: CreateArgs) -> Result<(), Failure> {
    let credentials = args.keys.credentials()?;
    let mut grants: ClaimGrants = match &args.claims {
        Some(json) => parse_json("--claims", json)?,
        None => ClaimGrants::default(),
    };
    if let Some(json) = &args.video_grants {
        grants.video = Some(parse_json("--video-grants", json)?);
    }
    if let Some(json) = &args.sip_grants {
        grants.sip = Some(parse_json::<SipGrants>("--sip-grants", json)?);
    }
    if args.room.is_some() || args.join {
        let video = grants.video.get_or_insert_with(VideoGrants::default);
        if let Some(room) = &args.room {
            video.room.clone_from(room);
        }
        video.room_join |= args.join;
    }
    if let Some(identity) = args.identity {
        grants.identity = identity;
    }
    if let Some(name) = args.name {
        grants.name = name;
    }
    if let Some(metadata) = args.metadata {
        grants.metadata = metadata;
    }
    if let Some(json) = &args.attributes {
        grants.attributes = parse_json::<BTreeMap<String, String>>("--attributes", json)?;
    }
    if let Some(kind) = &args.kind {
        grants.kind = Some(ParticipantKind::parse(kind));
    }
    if let Some(preset) = args.room_preset {
        grants.room_preset = Some(preset);
    }
    if let Some(json) = &args.room_config {
        grants.room_config = Some(parse_json("--room-config", json)?);
    }
    let mut token = AccessToken::from_grants(grants);
    if let Some(ttl) = args.ttl {
        token = token.with_ttl(ttl);
    }
    let signed = match args.now {
        Some(now) => token.sign(&credentials, now),
        None => token.sign_now(&credentials),
    };
    let jwt = signed.map_err(|error| Failure::usage(format!("cannot mint: {error}")))?;
    println!("{jwt}");
    Ok(())
}

fn verify(args: VerifyArgs) -> Result<(), Failure> {
    let credentials = args.keys.credentials()?;
    let token = read_token(&args.token)?;
    let verifier = TokenVerifier::new(credentials);
    let verified = match args.now {
        Some(now) => verifier.verify(&token, now),
        None => verifier.verify_now(&token),
    };
    let claims = verified.map_err(|error| Failure::operation(format!("invalid token: {error}")))?;
    print_json(&claims)
}

fn decode(args: DecodeArgs) -> Result<(), Failure> {
    let token = read_token(&args.token)?;
    let claims = decode_unverified(&token)
        .map_err(|error| Failure::operation(format!("cannot decode token: {error}")))?;
    print_json(&claims)
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| Failure::operation(format!("cannot print claims: {error}")))?;
    println!("{text}");
    Ok(())
}

fn read_token(argument: &str) -> Result<String, Failure> {
    if argument != "-" {
        return Ok(argument.trim().to_owned());
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|error| Failure::operation(format!("cannot read standard input: {error}")))?;
    Ok(text.trim().to_owned())
}

fn parse_json<T: DeserializeOwned>(flag: &str, json: &str) -> Result<T, Failure> {
    serde_json::from_str(json).map_err(|error| Failure::usage(format!("{flag}: {error}")))
}
