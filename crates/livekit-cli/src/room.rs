//! `livekit room ...` and `livekit dispatch ...`.

use clap::Subcommand;
use livekit_ureq::proto;

use crate::Failure;
use crate::server::{Connection, failure, print_json, print_table};

#[derive(Debug, Subcommand)]
pub(crate) enum RoomCommand {
    /// Create a room (an existing room is returned unchanged).
    #[command(after_help = "Examples:
  livekit room create my-room
  livekit room create my-room --empty-timeout 600 --metadata '{\"topic\":\"demo\"}'")]
    Create {
        /// Room name.
        name: String,
        /// Seconds to keep the room open while empty.
        #[arg(long)]
        empty_timeout: Option<u32>,
        /// Maximum number of participants.
        #[arg(long)]
        max_participants: Option<u32>,
        /// Room metadata.
        #[arg(long)]
        metadata: Option<String>,
    },
    /// List rooms, all or by name.
    #[command(after_help = "Examples:\n  livekit room list\n  livekit room list my-room --json")]
    List {
        /// Only these rooms.
        names: Vec<String>,
    },
    /// Delete a room, disconnecting everyone in it.
    #[command(after_help = "Example:\n  livekit room delete my-room")]
    Delete {
        /// Room name.
        name: String,
    },
    /// Replace a room's metadata.
    #[command(
        after_help = "Example:\n  livekit room update-metadata my-room '{\"topic\":\"q&a\"}'"
    )]
    UpdateMetadata {
        /// Room name.
        name: String,
        /// The new metadata.
        metadata: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DispatchCommand {
    /// Dispatch an agent to a room.
    #[command(
        after_help = "Example:\n  livekit dispatch create my-room my-agent --metadata '{\"job\":1}'"
    )]
    Create {
        /// Room name.
        room: String,
        /// Agent name.
        agent_name: String,
        /// Job metadata for the agent.
        #[arg(long, default_value = "")]
        metadata: String,
        /// The agent thread (AT_...) the job's call reads and writes (protocol v1.54 on: an
        /// older server does not know it).
        #[arg(long, value_name = "AT_ID")]
        thread_id: Option<String>,
    },
    /// List a room's dispatches.
    #[command(after_help = "Example:\n  livekit dispatch list my-room")]
    List {
        /// Room name.
        room: String,
    },
    /// Show one dispatch.
    #[command(after_help = "Example:\n  livekit dispatch get my-room AD_7CsW2T5vnQ")]
    Get {
        /// Room name.
        room: String,
        /// Dispatch id.
        id: String,
    },
    /// Delete a dispatch.
    #[command(after_help = "Example:\n  livekit dispatch delete my-room AD_7CsW2T5vnQ")]
    Delete {
        /// Room name.
        room: String,
        /// Dispatch id.
        id: String,
    },
}

fn room_rows(rooms: &[proto::Room]) -> Vec<Vec<String>> {
    rooms
        .iter()
        .map(|room| {
            vec![
                room.name.clone(),
                room.sid.clone(),
                room.num_participants.to_string(),
                room.metadata.clone(),
            ]
        })
        .collect()
}

const ROOM_HEADERS: &[&str] = &["NAME", "SID", "PARTICIPANTS", "METADATA"];

fn print_rooms(connection: &Connection, rooms: Vec<proto::Room>) -> Result<(), Failure> {
    if connection.json {
        return print_json(&rooms);
    }
    print_table(ROOM_HEADERS, &room_rows(&rooms));
    Ok(())
}

pub(crate) fn run_room(connection: &Connection, command: RoomCommand) -> Result<(), Failure> {
    let api = connection.api()?;
    let room = api.room();
    match command {
        RoomCommand::Create {
            name,
            empty_timeout,
            max_participants,
            metadata,
        } => {
            let created = room
                .create_room(proto::CreateRoomRequest {
                    name,
                    empty_timeout: empty_timeout.unwrap_or_default(),
                    max_participants: max_participants.unwrap_or_default(),
                    metadata: metadata.unwrap_or_default(),
                    ..Default::default()
                })
                .map_err(|error| failure(&error))?;
            print_rooms(connection, vec![created])
        }
        RoomCommand::List { names } => {
            let listed = room
                .list_rooms(proto::ListRoomsRequest { names })
                .map_err(|error| failure(&error))?;
            print_rooms(connection, listed.rooms)
        }
        RoomCommand::Delete { name } => {
            room.delete_room(proto::DeleteRoomRequest { room: name.clone() })
                .map_err(|error| failure(&error))?;
            if connection.json {
                return print_json(&serde_json::json!({ "deleted": name }));
            }
            println!("deleted room {name}");
            Ok(())
        }
        RoomCommand::UpdateMetadata { name, metadata } => {
            let updated = room
                .update_room_metadata(proto::UpdateRoomMetadataRequest {
                    room: name,
                    metadata,
                })
                .map_err(|error| failure(&error))?;
            print_rooms(connection, vec![updated])
        }
    }
}

fn print_dispatches(
    connection: &Connection,
    dispatches: Vec<proto::AgentDispatch>,
) -> Result<(), Failure> {
    if connection.json {
        return print_json(&dispatches);
    }
    let rows: Vec<Vec<String>> = dispatches
        .iter()
        .map(|dispatch| {
            vec![
                dispatch.id.clone(),
                match dispatch.agent_name.as_str() {
                    "" => "(automatic)".to_owned(),
                    name => name.to_owned(),
                },
                dispatch.room.clone(),
                dispatch.metadata.clone(),
            ]
        })
        .collect();
    print_table(&["ID", "AGENT", "ROOM", "METADATA"], &rows);
    Ok(())
}

/// The request of `dispatch create`; `None` for the other commands.
fn create_dispatch_request(command: DispatchCommand) -> Option<proto::CreateAgentDispatchRequest> {
    let DispatchCommand::Create {
        room,
        agent_name,
        metadata,
        thread_id,
    } = command
    else {
        return None;
    };
    Some(proto::CreateAgentDispatchRequest {
        agent_name,
        room,
        metadata,
        thread_id: thread_id.unwrap_or_default(),
        ..Default::default()
    })
}

pub(crate) fn run_dispatch(
    connection: &Connection,
    command: DispatchCommand,
) -> Result<(), Failure> {
    let api = connection.api()?;
    let dispatch = api.agent_dispatch();
    match command {
        command @ DispatchCommand::Create { .. } => {
            let request = create_dispatch_request(command).expect("a create command");
            let created = dispatch
                .create_dispatch(request)
                .map_err(|error| failure(&error))?;
            print_dispatches(connection, vec![created])
        }
        DispatchCommand::List { room } => {
            let listed = dispatch
                .list_dispatch(proto::ListAgentDispatchRequest {
                    room,
                    ..Default::default()
                })
                .map_err(|error| failure(&error))?;
            print_dispatches(connection, listed.agent_dispatches)
        }
        DispatchCommand::Get { room, id } => {
            let found = dispatch
                .get_dispatch(&id, &room)
                .map_err(|error| failure(&error))?
                .ok_or_else(|| Failure::server(format!("no dispatch {id} in room {room}")))?;
            print_dispatches(connection, vec![found])
        }
        DispatchCommand::Delete { room, id } => {
            let deleted = dispatch
                .delete_dispatch(proto::DeleteAgentDispatchRequest {
                    dispatch_id: id,
                    room,
                })
                .map_err(|error| failure(&error))?;
            print_dispatches(connection, vec![deleted])
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{DispatchCommand, create_dispatch_request};

    #[derive(Debug, Parser)]
    struct Parse {
        #[command(subcommand)]
        command: DispatchCommand,
    }

    fn request(args: &[&str]) -> Option<livekit_ureq::proto::CreateAgentDispatchRequest> {
        let parsed = Parse::parse_from(std::iter::once("x").chain(args.iter().copied()));
        create_dispatch_request(parsed.command)
    }

    #[test]
    fn a_dispatch_names_room_agent_metadata_and_thread() {
        let created = request(&[
            "create",
            "room-1",
            "agent-1",
            "--metadata",
            "{\"job\":1}",
            "--thread-id",
            "AT_abc",
        ])
        .expect("a create request");
        assert_eq!(created.room, "room-1");
        assert_eq!(created.agent_name, "agent-1");
        assert_eq!(created.metadata, "{\"job\":1}");
        assert_eq!(created.thread_id, "AT_abc");

        let plain = request(&["create", "room-1", "agent-1"]).expect("a create request");
        assert_eq!(plain.thread_id, "");
        assert_eq!(plain.metadata, "");
        assert!(request(&["list", "room-1"]).is_none());
    }
}
