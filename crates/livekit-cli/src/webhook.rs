//! `livekit webhook verify`.

use std::io::Read as _;

use clap::{Args, Subcommand};
use livekit_ureq::WebhookReceiver;
use livekit_ureq::proto;

use crate::Failure;
use crate::server::{KeyArgs, print_json};

#[derive(Debug, Subcommand)]
pub(crate) enum WebhookCommand {
    /// Verify a webhook's signature and body hash, and print the event.
    #[command(after_help = "Examples:
  livekit webhook verify --body body.json --auth-header \"$AUTHORIZATION\"
  cat body.json | livekit webhook verify --body - --auth-header \"Bearer eyJhbGciOi...\" --json

The body must be the exact bytes the server sent: a re-serialized JSON body does not verify.
Exit code 1 when the signature or the body hash does not verify, with the reason.")]
    Verify(VerifyArgs),
}

/// `webhook verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    keys: KeyArgs,
    /// The request body, byte for byte: a file, or - for standard input.
    #[arg(long, value_name = "FILE")]
    body: String,
    /// The request's Authorization header value (with or without `Bearer `).
    #[arg(long, value_name = "VALUE")]
    auth_header: String,
    /// Verify at this Unix time instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Print the full event as JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(command: WebhookCommand) -> Result<(), Failure> {
    let WebhookCommand::Verify(args) = command;
    let credentials = args.keys.credentials()?;
    let body = read_body(&args.body)?;
    let receiver = WebhookReceiver::new(credentials);
    let authorization = Some(args.auth_header.as_str());
    let received = match args.now {
        Some(now) => receiver.receive(&body, authorization, now),
        None => receiver.receive_now(&body, authorization),
    }
    .map_err(|error| Failure::operation(format!("webhook not verified: {error}")))?;
    if args.json {
        return print_json(&received.event);
    }
    for line in summary(&received.event) {
        println!("{line}");
    }
    Ok(())
}

fn read_body(path: &str) -> Result<Vec<u8>, Failure> {
    if path == "-" {
        let mut body = Vec::new();
        std::io::stdin()
            .read_to_end(&mut body)
            .map_err(|error| Failure::operation(format!("cannot read standard input: {error}")))?;
        return Ok(body);
    }
    std::fs::read(path).map_err(|error| Failure::usage(format!("cannot read {path}: {error}")))
}

/// The event's essentials as aligned `name  value` lines; absent parts are left out.
fn summary(event: &proto::WebhookEvent) -> Vec<String> {
    let mut fields: Vec<(&str, String)> = vec![("event", event.event.clone())];
    if let Some(room) = &event.room {
        fields.push(("room", format!("{} ({})", room.name, room.sid)));
    }
    if let Some(participant) = &event.participant {
        fields.push((
            "participant",
            format!("{} ({})", participant.identity, participant.sid),
        ));
    }
    if let Some(track) = &event.track {
        fields.push(("track", track.sid.clone()));
    }
    if let Some(egress) = &event.egress_info {
        fields.push(("egress", egress.egress_id.clone()));
    }
    if let Some(ingress) = &event.ingress_info {
        fields.push(("ingress", ingress.ingress_id.clone()));
    }
    fields.push(("id", event.id.clone()));
    fields.push(("created_at", event.created_at.to_string()));
    let width = fields.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    fields
        .into_iter()
        .map(|(name, value)| format!("{name:<width$}  {value}").trim_end().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use livekit_ureq::proto;

    use super::summary;

    #[test]
    fn the_summary_names_event_room_participant_id_and_time() {
        let event = proto::WebhookEvent {
            event: "participant_joined".into(),
            room: Some(proto::Room {
                name: "r1".into(),
                sid: "RM_1".into(),
                ..Default::default()
            }),
            participant: Some(proto::ParticipantInfo {
                identity: "alice".into(),
                sid: "PA_1".into(),
                ..Default::default()
            }),
            id: "EV_1".into(),
            created_at: 1_700_000_000,
            ..Default::default()
        };
        assert_eq!(
            summary(&event),
            [
                "event        participant_joined",
                "room         r1 (RM_1)",
                "participant  alice (PA_1)",
                "id           EV_1",
                "created_at   1700000000",
            ]
        );
    }
}
