//! `livekit participant ...` and `livekit data send`.

use std::collections::BTreeMap;
use std::io::Read as _;

use clap::{Args, Subcommand};
use livekit_ureq::proto;

use crate::Failure;
use crate::server::{Connection, failure, failure_about, print_json, print_table};

#[derive(Debug, Subcommand)]
pub(crate) enum ParticipantCommand {
    /// List the participants of a room.
    #[command(after_help = "Examples:
  livekit participant list my-room
  livekit participant list my-room --json")]
    List {
        /// Room name.
        room: String,
    },
    /// Show one participant and its tracks.
    #[command(after_help = "Example:\n  livekit participant get my-room alice")]
    Get {
        /// Room name.
        room: String,
        /// Participant identity.
        identity: String,
    },
    /// Change a participant's name, metadata, attributes or permissions.
    #[command(after_help = "Examples:
  livekit participant update my-room alice --name Alice --metadata '{\"role\":\"host\"}'
  livekit participant update my-room alice --attribute team=blue --attribute seat=3
  livekit participant update my-room alice --can-publish false --can-publish-data false")]
    Update(Box<UpdateArgs>),
    /// Disconnect a participant from a room.
    #[command(after_help = "Example:\n  livekit participant remove my-room alice")]
    Remove {
        /// Room name.
        room: String,
        /// Participant identity.
        identity: String,
    },
    /// Mute (or with --unmute, unmute) one of a participant's published tracks.
    #[command(after_help = "Examples:
  livekit participant mute my-room alice TR_AMkX2mbd9pVUhE
  livekit participant mute my-room alice TR_AMkX2mbd9pVUhE --unmute")]
    Mute {
        /// Room name.
        room: String,
        /// Participant identity.
        identity: String,
        /// The track's sid (see `participant get`).
        track_sid: String,
        /// Unmute instead of muting.
        #[arg(long)]
        unmute: bool,
    },
    /// Forward a participant to another room: it stays here and also appears there.
    #[command(after_help = "Example:\n  livekit participant forward my-room alice overflow-room")]
    Forward {
        /// Room name.
        room: String,
        /// Participant identity.
        identity: String,
        /// The room to forward to.
        destination_room: String,
    },
    /// Move a participant to another room.
    #[command(after_help = "Example:\n  livekit participant move my-room alice breakout-1")]
    Move {
        /// Room name.
        room: String,
        /// Participant identity.
        identity: String,
        /// The room to move to.
        destination_room: String,
    },
}

/// `participant update`: what to change; anything not given is left as it is.
#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// Room name.
    room: String,
    /// Participant identity.
    identity: String,
    /// New display name.
    #[arg(long)]
    name: Option<String>,
    /// New metadata.
    #[arg(long)]
    metadata: Option<String>,
    /// Set one attribute, KEY=VALUE (repeatable; an empty value deletes the key).
    #[arg(long = "attribute", value_name = "KEY=VALUE", value_parser = parse_pair)]
    attributes: Vec<(String, String)>,
    /// Allow or forbid subscribing.
    #[arg(long, value_name = "BOOL")]
    can_subscribe: Option<bool>,
    /// Allow or forbid publishing tracks.
    #[arg(long, value_name = "BOOL")]
    can_publish: Option<bool>,
    /// Allow or forbid publishing data.
    #[arg(long, value_name = "BOOL")]
    can_publish_data: Option<bool>,
    /// Allow or forbid updating its own metadata.
    #[arg(long, value_name = "BOOL")]
    can_update_metadata: Option<bool>,
    /// Hide or show the participant to others.
    #[arg(long, value_name = "BOOL")]
    hidden: Option<bool>,
}

impl UpdateArgs {
    fn changes_anything(&self) -> bool {
        self.name.is_some()
            || self.metadata.is_some()
            || !self.attributes.is_empty()
            || self.changes_permission()
    }

    fn changes_permission(&self) -> bool {
        self.can_subscribe.is_some()
            || self.can_publish.is_some()
            || self.can_publish_data.is_some()
            || self.can_update_metadata.is_some()
            || self.hidden.is_some()
    }

    /// The request these flags describe. The server replaces the permission wholesale, so
    /// flags are applied on top of the participant's `current` one.
    fn to_request(
        &self,
        current: Option<proto::ParticipantPermission>,
    ) -> proto::UpdateParticipantRequest {
        let permission = self.changes_permission().then(|| {
            let mut permission = current.unwrap_or_default();
            let flags = [
                (self.can_subscribe, &mut permission.can_subscribe),
                (self.can_publish, &mut permission.can_publish),
                (self.can_publish_data, &mut permission.can_publish_data),
                (
                    self.can_update_metadata,
                    &mut permission.can_update_metadata,
                ),
                (self.hidden, &mut permission.hidden),
            ];
            for (flag, field) in flags {
                if let Some(value) = flag {
                    *field = value;
                }
            }
            permission
        });
        proto::UpdateParticipantRequest {
            room: self.room.clone(),
            identity: self.identity.clone(),
            metadata: self.metadata.clone().unwrap_or_default(),
            permission,
            name: self.name.clone().unwrap_or_default(),
            attributes: self.attributes.iter().cloned().collect::<BTreeMap<_, _>>(),
        }
    }
}

/// `KEY=VALUE`.
pub(crate) fn parse_pair(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))?;
    if key.is_empty() {
        return Err(format!("`{text}` has an empty key"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

const PARTICIPANT_HEADERS: &[&str] = &[
    "IDENTITY", "SID", "NAME", "STATE", "KIND", "TRACKS", "METADATA",
];

fn participant_rows(participants: &[proto::ParticipantInfo]) -> Vec<Vec<String>> {
    participants
        .iter()
        .map(|participant| {
            vec![
                participant.identity.clone(),
                participant.sid.clone(),
                participant.name.clone(),
                enum_name(
                    proto::participant_info::State::try_from(participant.state)
                        .map(|state| state.as_str_name()),
                    participant.state,
                ),
                enum_name(
                    proto::participant_info::Kind::try_from(participant.kind)
                        .map(|kind| kind.as_str_name()),
                    participant.kind,
                ),
                participant.tracks.len().to_string(),
                participant.metadata.clone(),
            ]
        })
        .collect()
}

/// An enum's protocol name, or its number when this version does not know it.
pub(crate) fn enum_name<E>(name: Result<&'static str, E>, value: i32) -> String {
    name.map_or_else(|_| value.to_string(), str::to_owned)
}

fn print_participants(
    connection: &Connection,
    participants: &[proto::ParticipantInfo],
) -> Result<(), Failure> {
    if connection.json {
        return print_json(&participants);
    }
    print_table(PARTICIPANT_HEADERS, &participant_rows(participants));
    Ok(())
}

fn print_participant(
    connection: &Connection,
    participant: &proto::ParticipantInfo,
) -> Result<(), Failure> {
    if connection.json {
        return print_json(participant);
    }
    print_table(
        PARTICIPANT_HEADERS,
        &participant_rows(std::slice::from_ref(participant)),
    );
    if !participant.tracks.is_empty() {
        println!();
        print_tracks(&participant.tracks);
    }
    Ok(())
}

fn print_tracks(tracks: &[proto::TrackInfo]) {
    let rows: Vec<Vec<String>> = tracks
        .iter()
        .map(|track| {
            vec![
                track.sid.clone(),
                enum_name(
                    proto::TrackType::try_from(track.r#type).map(|kind| kind.as_str_name()),
                    track.r#type,
                ),
                enum_name(
                    proto::TrackSource::try_from(track.source).map(|source| source.as_str_name()),
                    track.source,
                ),
                track.name.clone(),
                if track.muted { "yes" } else { "no" }.to_owned(),
            ]
        })
        .collect();
    print_table(&["TRACK", "TYPE", "SOURCE", "NAME", "MUTED"], &rows);
}

pub(crate) fn run_participant(
    connection: &Connection,
    command: ParticipantCommand,
) -> Result<(), Failure> {
    let api = connection.api()?;
    let room = api.room().with_options(connection.options(None));
    match command {
        ParticipantCommand::List { room: name } => {
            let listed = room
                .list_participants(proto::ListParticipantsRequest { room: name.clone() })
                .map_err(|error| failure_about(&error, &format!("room {name}")))?;
            print_participants(connection, &listed.participants)
        }
        ParticipantCommand::Get {
            room: name,
            identity,
        } => {
            let found = room
                .get_participant(identity_of(&name, &identity))
                .map_err(|error| {
                    failure_about(&error, &format!("participant {identity} in room {name}"))
                })?;
            print_participant(connection, &found)
        }
        ParticipantCommand::Update(args) => {
            if !args.changes_anything() {
                return Err(Failure::usage(
                    "nothing to change: give --name, --metadata, --attribute or a permission flag",
                ));
            }
            let missing = format!("participant {} in room {}", args.identity, args.room);
            let current = if args.changes_permission() {
                room.get_participant(identity_of(&args.room, &args.identity))
                    .map_err(|error| failure_about(&error, &missing))?
                    .permission
            } else {
                None
            };
            let updated = room
                .update_participant(args.to_request(current))
                .map_err(|error| failure_about(&error, &missing))?;
            print_participant(connection, &updated)
        }
        ParticipantCommand::Remove {
            room: name,
            identity,
        } => {
            room.remove_participant(identity_of(&name, &identity))
                .map_err(|error| {
                    failure_about(&error, &format!("participant {identity} in room {name}"))
                })?;
            if connection.json {
                return print_json(&serde_json::json!({ "removed": identity, "room": name }));
            }
            println!("removed {identity} from room {name}");
            Ok(())
        }
        ParticipantCommand::Mute {
            room: name,
            identity,
            track_sid,
            unmute,
        } => {
            let answer = room
                .mute_published_track(proto::MuteRoomTrackRequest {
                    room: name.clone(),
                    identity: identity.clone(),
                    track_sid: track_sid.clone(),
                    muted: !unmute,
                })
                .map_err(|error| {
                    failure_about(
                        &error,
                        &format!("track {track_sid} of {identity} in room {name}"),
                    )
                })?;
            if connection.json {
                return print_json(&answer);
            }
            print_tracks(answer.track.as_slice());
            Ok(())
        }
        ParticipantCommand::Forward {
            room: name,
            identity,
            destination_room,
        } => {
            room.forward_participant(proto::ForwardParticipantRequest {
                room: name.clone(),
                identity: identity.clone(),
                destination_room: destination_room.clone(),
            })
            .map_err(|error| {
                failure_about(&error, &format!("participant {identity} in room {name}"))
            })?;
            report_relocation(connection, "forwarded", &identity, &name, &destination_room)
        }
        ParticipantCommand::Move {
            room: name,
            identity,
            destination_room,
        } => {
            room.move_participant(proto::MoveParticipantRequest {
                room: name.clone(),
                identity: identity.clone(),
                destination_room: destination_room.clone(),
            })
            .map_err(|error| {
                failure_about(&error, &format!("participant {identity} in room {name}"))
            })?;
            report_relocation(connection, "moved", &identity, &name, &destination_room)
        }
    }
}

fn identity_of(room: &str, identity: &str) -> proto::RoomParticipantIdentity {
    proto::RoomParticipantIdentity {
        room: room.to_owned(),
        identity: identity.to_owned(),
        ..Default::default()
    }
}

fn report_relocation(
    connection: &Connection,
    verb: &str,
    identity: &str,
    room: &str,
    destination: &str,
) -> Result<(), Failure> {
    if connection.json {
        return print_json(&serde_json::json!({
            verb: identity, "room": room, "destination_room": destination,
        }));
    }
    println!("{verb} {identity} from room {room} to room {destination}");
    Ok(())
}

#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Send a data packet to everyone in a room, or to some identities.
    #[command(after_help = "Examples:
  livekit data send my-room 'hello everyone'
  livekit data send my-room --file state.json --topic state --to alice --to bob
  echo ping | livekit data send my-room --file - --lossy")]
    Send(SendArgs),
}

/// `data send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// Room name.
    room: String,
    /// The payload, as text (or use --file).
    #[arg(conflicts_with = "file", required_unless_present = "file")]
    payload: Option<String>,
    /// Read the payload from this file; - reads standard input.
    #[arg(long, value_name = "FILE")]
    file: Option<String>,
    /// The packet's topic.
    #[arg(long)]
    topic: Option<String>,
    /// Send lossy (unordered, may drop) instead of reliable.
    #[arg(long)]
    lossy: bool,
    /// Only to this identity (repeatable; default everyone).
    #[arg(long = "to", value_name = "IDENTITY")]
    destination_identities: Vec<String>,
}

impl SendArgs {
    fn to_request(&self, data: Vec<u8>, nonce: Vec<u8>) -> proto::SendDataRequest {
        let kind = if self.lossy {
            proto::data_packet::Kind::Lossy
        } else {
            proto::data_packet::Kind::Reliable
        };
        proto::SendDataRequest {
            room: self.room.clone(),
            data,
            kind: kind as i32,
            destination_identities: self.destination_identities.clone(),
            topic: self.topic.clone(),
            nonce,
            ..Default::default()
        }
    }

    fn payload(&self) -> Result<Vec<u8>, Failure> {
        match (&self.payload, self.file.as_deref()) {
            (Some(text), _) => Ok(text.clone().into_bytes()),
            (None, Some("-")) => {
                let mut data = Vec::new();
                std::io::stdin().read_to_end(&mut data).map_err(|error| {
                    Failure::operation(format!("cannot read standard input: {error}"))
                })?;
                Ok(data)
            }
            (None, Some(path)) => std::fs::read(path)
                .map_err(|error| Failure::usage(format!("cannot read {path}: {error}"))),
            (None, None) => Err(Failure::usage("give a payload or --file")),
        }
    }
}

/// A 16-byte nonce the server uses to drop duplicates of the same send.
fn nonce() -> Vec<u8> {
    use std::hash::{BuildHasher as _, Hasher as _};
    // Each RandomState is seeded afresh by the OS: two of them give 128 unpredictable bits,
    // with no dependency for it.
    let mut bytes = Vec::with_capacity(16);
    for salt in 0..2u8 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u8(salt);
        bytes.extend_from_slice(&hasher.finish().to_le_bytes());
    }
    bytes
}

pub(crate) fn run_data(connection: &Connection, command: DataCommand) -> Result<(), Failure> {
    let DataCommand::Send(args) = command;
    let data = args.payload()?;
    let size = data.len();
    let api = connection.api()?;
    api.room()
        .with_options(connection.options(None))
        .send_data(args.to_request(data, nonce()))
        .map_err(|error| failure(&error))?;
    if connection.json {
        return print_json(&serde_json::json!({ "room": args.room, "bytes": size }));
    }
    let to = if args.destination_identities.is_empty() {
        "everyone".to_owned()
    } else {
        args.destination_identities.join(", ")
    };
    println!("sent {size} bytes to {to} in room {}", args.room);
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use livekit_ureq::proto;

    use super::{SendArgs, UpdateArgs, nonce, parse_pair};

    #[derive(Debug, Parser)]
    struct Update {
        #[command(flatten)]
        args: UpdateArgs,
    }

    #[derive(Debug, Parser)]
    struct Send {
        #[command(flatten)]
        args: SendArgs,
    }

    #[test]
    fn permission_flags_apply_on_top_of_the_current_permission() {
        let update = Update::parse_from([
            "x",
            "r1",
            "alice",
            "--can-publish",
            "false",
            "--attribute",
            "team=blue",
        ]);
        let current = proto::ParticipantPermission {
            can_subscribe: true,
            can_publish: true,
            can_publish_data: true,
            ..Default::default()
        };
        let request = update.args.to_request(Some(current));
        assert_eq!(request.room, "r1");
        assert_eq!(request.identity, "alice");
        let permission = request.permission.expect("a permission");
        assert!(!permission.can_publish);
        assert!(permission.can_subscribe && permission.can_publish_data);
        assert_eq!(request.attributes["team"], "blue");
        assert_eq!(request.name, "");
    }

    #[test]
    fn no_permission_flag_leaves_the_permission_unset() {
        let update = Update::parse_from(["x", "r1", "alice", "--name", "Alice"]);
        let request = update.args.to_request(None);
        assert_eq!(request.permission, None);
        assert_eq!(request.name, "Alice");
    }

    #[test]
    fn pairs_need_a_key_and_an_equals_sign() {
        assert_eq!(parse_pair("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_pair("a="), Ok(("a".into(), String::new())));
        assert!(parse_pair("=b").is_err());
        assert!(parse_pair("ab").is_err());
    }

    #[test]
    fn data_sends_are_reliable_unless_lossy_and_carry_topic_and_destinations() {
        let send = Send::parse_from(["x", "r1", "hi", "--topic", "t", "--to", "bob"]);
        let request = send.args.to_request(b"hi".to_vec(), vec![1; 16]);
        assert_eq!(request.kind, proto::data_packet::Kind::Reliable as i32);
        assert_eq!(request.topic.as_deref(), Some("t"));
        assert_eq!(request.destination_identities, ["bob"]);
        assert_eq!(request.data, b"hi");
        let lossy = Send::parse_from(["x", "r1", "hi", "--lossy"]);
        let request = lossy.args.to_request(Vec::new(), Vec::new());
        assert_eq!(request.kind, proto::data_packet::Kind::Lossy as i32);
        assert_eq!(request.topic, None);
    }

    #[test]
    fn a_payload_or_a_file_is_required_not_both() {
        assert!(Send::try_parse_from(["x", "r1"]).is_err());
        assert!(Send::try_parse_from(["x", "r1", "hi", "--file", "f"]).is_err());
        assert!(Send::try_parse_from(["x", "r1", "--file", "-"]).is_ok());
    }

    #[test]
    fn nonces_are_sixteen_bytes_and_differ() {
        assert_eq!(nonce().len(), 16);
        assert_ne!(nonce(), nonce());
    }
}
