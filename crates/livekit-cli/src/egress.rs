//! `livekit egress ...` and `livekit ingress ...`.

use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use livekit_ureq::proto;

use crate::Failure;
use crate::participant::enum_name;
use crate::progress::with_progress;
use crate::server::{
    Connection, failure, failure_about, failure_without_service, print_json, print_table,
};

/// How long an egress start may take unless `--timeout` says otherwise: with no egress
/// worker free, the server retries for about 20 s before answering 503.
const START_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Subcommand)]
pub(crate) enum EgressCommand {
    /// Record or stream a whole room, composited by a layout.
    #[command(after_help = "Examples:
  livekit egress start-room-composite my-room --file recordings/my-room.mp4
  livekit egress start-room-composite my-room --layout speaker --stream rtmp://live.example/app/key
  livekit egress start-room-composite my-room --segments hls/my-room --audio-only")]
    StartRoomComposite {
        /// Room name.
        room: String,
        /// Layout: grid, speaker, single-speaker, or a custom one.
        #[arg(long, default_value = "grid")]
        layout: String,
        /// Record audio only.
        #[arg(long, conflicts_with = "video_only")]
        audio_only: bool,
        /// Record video only.
        #[arg(long)]
        video_only: bool,
        #[command(flatten)]
        outputs: OutputArgs,
    },
    /// Record or stream a web page.
    #[command(after_help = "Examples:
  livekit egress start-web https://example.com/dashboard --file dashboard.mp4
  livekit egress start-web https://example.com/show --stream rtmp://live.example/app/key")]
    StartWeb {
        /// The page's URL.
        url: String,
        /// Record audio only.
        #[arg(long, conflicts_with = "video_only")]
        audio_only: bool,
        /// Record video only.
        #[arg(long)]
        video_only: bool,
        /// Wait for the page to signal START_RECORDING before recording.
        #[arg(long)]
        await_start_signal: bool,
        #[command(flatten)]
        outputs: OutputArgs,
    },
    /// Record or stream one participant's camera and microphone (or screen share).
    #[command(after_help = "Example:
  livekit egress start-participant my-room alice --file alice.mp4")]
    StartParticipant {
        /// Room name.
        room: String,
        /// Participant identity.
        identity: String,
        /// Record the screen share instead of the camera.
        #[arg(long)]
        screen_share: bool,
        #[command(flatten)]
        outputs: OutputArgs,
    },
    /// Record or stream one audio and/or one video track together.
    #[command(after_help = "Example:
  livekit egress start-track-composite my-room --audio TR_audio --video TR_video --file out.mp4")]
    StartTrackComposite {
        /// Room name.
        room: String,
        /// The audio track's sid.
        #[arg(long = "audio", value_name = "TRACK_SID")]
        audio_track: Option<String>,
        /// The video track's sid.
        #[arg(long = "video", value_name = "TRACK_SID")]
        video_track: Option<String>,
        #[command(flatten)]
        outputs: OutputArgs,
    },
    /// Export one track without transcoding, to a file or a websocket.
    #[command(after_help = "Examples:
  livekit egress start-track my-room TR_audio --file tracks/{track_id}.ogg
  livekit egress start-track my-room TR_audio --websocket wss://example.com/audio")]
    StartTrack {
        /// Room name.
        room: String,
        /// The track's sid.
        track_sid: String,
        /// Write the track to this file path (on the egress worker or its storage).
        #[arg(long, required_unless_present = "websocket")]
        file: Option<String>,
        /// Stream the track's raw audio to this websocket URL.
        #[arg(long, conflicts_with = "file")]
        websocket: Option<String>,
    },
    /// List egresses, all or some.
    #[command(after_help = "Examples:
  livekit egress list
  livekit egress list --room my-room --active")]
    List {
        /// Only this room's.
        #[arg(long)]
        room: Option<String>,
        /// Only this egress.
        #[arg(long)]
        id: Option<String>,
        /// Only those still running.
        #[arg(long)]
        active: bool,
    },
    /// Stop an egress.
    #[command(after_help = "Example:\n  livekit egress stop EG_XnhfcSQo4yBm")]
    Stop {
        /// Egress id.
        id: String,
    },
    /// Change a running room composite's layout.
    #[command(after_help = "Example:\n  livekit egress update-layout EG_XnhfcSQo4yBm speaker")]
    UpdateLayout {
        /// Egress id.
        id: String,
        /// The new layout.
        layout: String,
    },
    /// Add or remove stream URLs of a running egress.
    #[command(after_help = "Examples:
  livekit egress update-stream EG_XnhfcSQo4yBm --add rtmp://b.example/app/key --remove rtmp://a.example/app/key
  livekit egress update-stream EG_XnhfcSQo4yBm --add-destination backup=rtmp://c.example/app/key")]
    UpdateStream {
        /// Egress id.
        id: String,
        /// Start streaming to this URL too (repeatable).
        #[arg(long = "add", value_name = "URL")]
        add: Vec<String>,
        /// Start streaming to this URL too, under an id the egress's stream list reports
        /// (repeatable; protocol v1.53.1 on: an older egress service does not know it).
        #[arg(long = "add-destination", value_name = "ID=URL", value_parser = parse_destination)]
        add_destinations: Vec<proto::StreamDestination>,
        /// Stop streaming to this URL (repeatable).
        #[arg(long = "remove", value_name = "URL")]
        remove: Vec<String>,
    },
}

/// Where an egress writes: any mix of a file, streams and HLS segments.
#[derive(Debug, Args, Default)]
pub(crate) struct OutputArgs {
    /// Record to this file; .mp4, .ogg, .mp3 or .mcap picks the container.
    #[arg(long, value_name = "PATH")]
    file: Option<String>,
    /// Stream to this URL: rtmp://, rtmps://, srt:// or wss:// (repeatable).
    #[arg(long = "stream", value_name = "URL")]
    streams: Vec<String>,
    /// Stream to this URL under an id the egress's stream list reports, so
    /// `update-stream --add-destination` and the stream infos can name it (repeatable; protocol
    /// v1.53.1 on: an older egress service does not know it).
    #[arg(long = "stream-destination", value_name = "ID=URL", value_parser = parse_destination)]
    stream_destinations: Vec<proto::StreamDestination>,
    /// Write HLS segments with this filename prefix.
    #[arg(long, value_name = "PREFIX")]
    segments: Option<String>,
    /// Write the HLS segments as fragmented MP4 instead of MPEG-TS.
    #[arg(long, requires = "segments")]
    fmp4: bool,
    /// Seconds per HLS segment.
    #[arg(long, value_name = "SECONDS", requires = "segments")]
    segment_duration: Option<u32>,
    /// The HLS playlist's name.
    #[arg(long, value_name = "NAME", requires = "segments")]
    playlist: Option<String>,
    /// Encoding preset, by its protocol name: H264_720P_30, H264_1080P_60, ...
    #[arg(long, value_parser = parse_preset)]
    preset: Option<i32>,
}

fn parse_preset(text: &str) -> Result<i32, String> {
    let name = text.to_ascii_uppercase().replace('-', "_");
    proto::EncodingOptionsPreset::from_str_name(&name)
        .map(|preset| preset as i32)
        .ok_or_else(|| {
            format!("`{text}` is not a preset (H264_720P_30, H264_720P_60, H264_1080P_30, H264_1080P_60, PORTRAIT_H264_720P_30, ..., PASSTHROUGH)")
        })
}

/// `ID=URL`: a stream destination; the URL's scheme must name a stream protocol.
fn parse_destination(text: &str) -> Result<proto::StreamDestination, String> {
    let (id, url) = text
        .split_once('=')
        .filter(|(id, url)| !id.is_empty() && !url.is_empty())
        .ok_or_else(|| format!("`{text}` is not ID=URL"))?;
    stream_protocol(url).map_err(|failure| failure.message)?;
    Ok(proto::StreamDestination {
        id: id.to_owned(),
        url: url.to_owned(),
    })
}

/// The outputs of a start request, in the protocol's repeated-field form.
#[derive(Debug, Default, PartialEq)]
struct Outputs {
    files: Vec<proto::EncodedFileOutput>,
    streams: Vec<proto::StreamOutput>,
    segments: Vec<proto::SegmentedFileOutput>,
}

impl OutputArgs {
    fn to_outputs(&self) -> Result<Outputs, Failure> {
        let files = self
            .file
            .iter()
            .map(|path| proto::EncodedFileOutput {
                file_type: file_type(path) as i32,
                filepath: path.clone(),
                ..Default::default()
            })
            .collect();
        // One StreamOutput per protocol, holding all its URLs and destinations.
        let mut streams: Vec<proto::StreamOutput> = Vec::new();
        for url in &self.streams {
            stream_output(&mut streams, stream_protocol(url)?)
                .urls
                .push(url.clone());
        }
        for destination in &self.stream_destinations {
            stream_output(&mut streams, stream_protocol(&destination.url)?)
                .destinations
                .push(destination.clone());
        }
        let segments = self
            .segments
            .iter()
            .map(|prefix| proto::SegmentedFileOutput {
                filename_prefix: prefix.clone(),
                playlist_name: self.playlist.clone().unwrap_or_default(),
                segment_duration: self.segment_duration.unwrap_or_default(),
                protocol: match self.fmp4 {
                    true => proto::SegmentedFileProtocol::HlsFmp4Protocol as i32,
                    false => proto::SegmentedFileProtocol::DefaultSegmentedFileProtocol as i32,
                },
                ..Default::default()
            })
            .collect();
        let outputs = Outputs {
            files,
            streams,
            segments,
        };
        if outputs == Outputs::default() {
            return Err(Failure::usage(
                "no output: give --file PATH, --stream URL or --segments PREFIX",
            ));
        }
        Ok(outputs)
    }

    /// The outputs and the encoding preset, if one was chosen.
    fn to_outputs_with_preset(&self) -> Result<(Outputs, Option<i32>), Failure> {
        Ok((self.to_outputs()?, self.preset))
    }
}

/// The output of `protocol` in `streams`, added if missing.
fn stream_output(
    streams: &mut Vec<proto::StreamOutput>,
    protocol: proto::StreamProtocol,
) -> &mut proto::StreamOutput {
    let index = match streams
        .iter()
        .position(|output| output.protocol == protocol as i32)
    {
        Some(index) => index,
        None => {
            streams.push(proto::StreamOutput {
                protocol: protocol as i32,
                ..Default::default()
            });
            streams.len() - 1
        }
    };
    &mut streams[index]
}

fn file_type(path: &str) -> proto::EncodedFileType {
    let extension = path.rsplit_once('.').map(|(_, extension)| extension);
    match extension.map(str::to_ascii_lowercase).as_deref() {
        Some("mp4") => proto::EncodedFileType::Mp4,
        Some("ogg") => proto::EncodedFileType::Ogg,
        Some("mp3") => proto::EncodedFileType::Mp3,
        Some("mcap") => proto::EncodedFileType::Mcap,
        _ => proto::EncodedFileType::DefaultFiletype,
    }
}

fn stream_protocol(url: &str) -> Result<proto::StreamProtocol, Failure> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        Some("rtmp" | "rtmps") => Ok(proto::StreamProtocol::Rtmp),
        Some("srt") => Ok(proto::StreamProtocol::Srt),
        Some("ws" | "wss") => Ok(proto::StreamProtocol::Websocket),
        _ => Err(Failure::usage(format!(
            "--stream {url}: not an rtmp://, rtmps://, srt:// or wss:// URL"
        ))),
    }
}

const EGRESS_HEADERS: &[&str] = &["ID", "STATUS", "SOURCE", "ROOM", "STARTED", "ERROR"];

fn egress_rows(egresses: &[proto::EgressInfo]) -> Vec<Vec<String>> {
    egresses
        .iter()
        .map(|egress| {
            let source = match &egress.request {
                Some(proto::egress_info::Request::RoomComposite(_)) => "room-composite",
                Some(proto::egress_info::Request::Web(_)) => "web",
                Some(proto::egress_info::Request::Participant(_)) => "participant",
                Some(proto::egress_info::Request::TrackComposite(_)) => "track-composite",
                Some(proto::egress_info::Request::Track(_)) => "track",
                Some(_) => "other",
                None => "",
            };
            vec![
                egress.egress_id.clone(),
                enum_name(
                    proto::EgressStatus::try_from(egress.status).map(|status| status.as_str_name()),
                    egress.status,
                ),
                source.to_owned(),
                egress.room_name.clone(),
                unix_nanos(egress.started_at),
                egress.error.clone(),
            ]
        })
        .collect()
}

/// A Unix time in nanoseconds as whole seconds, empty when unset.
fn unix_nanos(nanos: i64) -> String {
    if nanos == 0 {
        String::new()
    } else {
        (nanos / 1_000_000_000).to_string()
    }
}

fn print_egresses(connection: &Connection, egresses: &[proto::EgressInfo]) -> Result<(), Failure> {
    if connection.json {
        return print_json(&egresses);
    }
    print_table(EGRESS_HEADERS, &egress_rows(egresses));
    Ok(())
}

pub(crate) fn run_egress(connection: &Connection, command: EgressCommand) -> Result<(), Failure> {
    let api = connection.api()?;
    let start = api
        .egress()
        .with_options(connection.options(Some(START_TIMEOUT)));
    let egress = api.egress().with_options(connection.options(None));
    let started = match command {
        EgressCommand::StartRoomComposite {
            room,
            layout,
            audio_only,
            video_only,
            outputs,
        } => {
            let outputs = outputs.to_outputs_with_preset()?;
            with_progress(&format!("starting room composite egress of {room}"), || {
                start.start_room_composite_egress(proto::RoomCompositeEgressRequest {
                    room_name: room.clone(),
                    layout,
                    audio_only,
                    video_only,
                    file_outputs: outputs.0.files,
                    stream_outputs: outputs.0.streams,
                    segment_outputs: outputs.0.segments,
                    options: outputs
                        .1
                        .map(proto::room_composite_egress_request::Options::Preset),
                    ..Default::default()
                })
            })
        }
        EgressCommand::StartWeb {
            url,
            audio_only,
            video_only,
            await_start_signal,
            outputs,
        } => {
            let outputs = outputs.to_outputs_with_preset()?;
            with_progress(&format!("starting web egress of {url}"), || {
                start.start_web_egress(proto::WebEgressRequest {
                    url: url.clone(),
                    audio_only,
                    video_only,
                    await_start_signal,
                    file_outputs: outputs.0.files,
                    stream_outputs: outputs.0.streams,
                    segment_outputs: outputs.0.segments,
                    options: outputs.1.map(proto::web_egress_request::Options::Preset),
                    ..Default::default()
                })
            })
        }
        EgressCommand::StartParticipant {
            room,
            identity,
            screen_share,
            outputs,
        } => {
            let outputs = outputs.to_outputs_with_preset()?;
            with_progress(
                &format!("starting participant egress of {identity} in {room}"),
                || {
                    start.start_participant_egress(proto::ParticipantEgressRequest {
                        room_name: room.clone(),
                        identity: identity.clone(),
                        screen_share,
                        file_outputs: outputs.0.files,
                        stream_outputs: outputs.0.streams,
                        segment_outputs: outputs.0.segments,
                        options: outputs
                            .1
                            .map(proto::participant_egress_request::Options::Preset),
                        ..Default::default()
                    })
                },
            )
        }
        EgressCommand::StartTrackComposite {
            room,
            audio_track,
            video_track,
            outputs,
        } => {
            if audio_track.is_none() && video_track.is_none() {
                return Err(Failure::usage(
                    "give --audio TRACK_SID, --video TRACK_SID or both",
                ));
            }
            let outputs = outputs.to_outputs_with_preset()?;
            with_progress(
                &format!("starting track composite egress in {room}"),
                || {
                    start.start_track_composite_egress(proto::TrackCompositeEgressRequest {
                        room_name: room.clone(),
                        audio_track_id: audio_track.unwrap_or_default(),
                        video_track_id: video_track.unwrap_or_default(),
                        file_outputs: outputs.0.files,
                        stream_outputs: outputs.0.streams,
                        segment_outputs: outputs.0.segments,
                        options: outputs
                            .1
                            .map(proto::track_composite_egress_request::Options::Preset),
                        ..Default::default()
                    })
                },
            )
        }
        EgressCommand::StartTrack {
            room,
            track_sid,
            file,
            websocket,
        } => {
            let output = match (file, websocket) {
                (_, Some(url)) => proto::track_egress_request::Output::WebsocketUrl(url),
                (Some(path), None) => {
                    proto::track_egress_request::Output::File(proto::DirectFileOutput {
                        filepath: path,
                        ..Default::default()
                    })
                }
                (None, None) => return Err(Failure::usage("give --file PATH or --websocket URL")),
            };
            with_progress(
                &format!("starting track egress of {track_sid} in {room}"),
                || {
                    start.start_track_egress(proto::TrackEgressRequest {
                        room_name: room.clone(),
                        track_id: track_sid.clone(),
                        output: Some(output),
                        ..Default::default()
                    })
                },
            )
        }
        EgressCommand::List { room, id, active } => {
            let listed = egress
                .list_egress(proto::ListEgressRequest {
                    room_name: room.unwrap_or_default(),
                    egress_id: id.unwrap_or_default(),
                    active,
                    ..Default::default()
                })
                .map_err(|error| failure(&error))?;
            return print_egresses(connection, &listed.items);
        }
        EgressCommand::Stop { id } => {
            return egress
                .stop_egress(proto::StopEgressRequest {
                    egress_id: id.clone(),
                })
                .map_err(|error| failure_about(&error, &format!("egress {id}")))
                .and_then(|stopped| print_egresses(connection, &[stopped]));
        }
        EgressCommand::UpdateLayout { id, layout } => {
            return egress
                .update_layout(proto::UpdateLayoutRequest {
                    egress_id: id.clone(),
                    layout,
                })
                .map_err(|error| failure_about(&error, &format!("egress {id}")))
                .and_then(|updated| print_egresses(connection, &[updated]));
        }
        EgressCommand::UpdateStream {
            id,
            add,
            add_destinations,
            remove,
        } => {
            let request = update_stream_request(id.clone(), add, add_destinations, remove)?;
            return egress
                .update_stream(request)
                .map_err(|error| failure_about(&error, &format!("egress {id}")))
                .and_then(|updated| print_egresses(connection, &[updated]));
        }
    };
    let started = started.map_err(|error| failure_without_service(&error, "an egress service"))?;
    print_egresses(connection, &[started])
}

/// `egress update-stream`'s request: something to add or remove.
fn update_stream_request(
    egress_id: String,
    add_output_urls: Vec<String>,
    add_destinations: Vec<proto::StreamDestination>,
    remove_output_urls: Vec<String>,
) -> Result<proto::UpdateStreamRequest, Failure> {
    if add_output_urls.is_empty() && add_destinations.is_empty() && remove_output_urls.is_empty() {
        return Err(Failure::usage(
            "give --add URL, --add-destination ID=URL, --remove URL or a mix",
        ));
    }
    Ok(proto::UpdateStreamRequest {
        egress_id,
        add_output_urls,
        remove_output_urls,
        add_destinations,
    })
}

/// The kind of input an ingress accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InputType {
    /// An RTMP(S) push from OBS or similar.
    Rtmp,
    /// A WHIP push.
    Whip,
    /// Pull from a URL (HTTP, SRT, ...).
    Url,
}

impl InputType {
    fn to_proto(self) -> proto::IngressInput {
        match self {
            Self::Rtmp => proto::IngressInput::RtmpInput,
            Self::Whip => proto::IngressInput::WhipInput,
            Self::Url => proto::IngressInput::UrlInput,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum IngressCommand {
    /// Create an ingress: an RTMP or WHIP endpoint to push to, or a URL to pull from.
    #[command(after_help = "Examples:
  livekit ingress create --input rtmp --room my-room --identity obs --name studio
  livekit ingress create --input whip --room my-room --identity browser
  livekit ingress create --input url --url https://example.com/show.mp4 --room my-room --identity vod")]
    Create(Box<IngressCreateArgs>),
    /// List ingresses, all or some.
    #[command(
        after_help = "Examples:\n  livekit ingress list\n  livekit ingress list --room my-room --json"
    )]
    List {
        /// Only this room's.
        #[arg(long)]
        room: Option<String>,
        /// Only this ingress.
        #[arg(long)]
        id: Option<String>,
    },
    /// Change an ingress; what is not given stays as it is.
    #[command(after_help = "Example:
  livekit ingress update IN_3ohkcVa8ZBCs --name studio-b --room other-room")]
    Update(Box<IngressUpdateArgs>),
    /// Delete an ingress.
    #[command(after_help = "Example:\n  livekit ingress delete IN_3ohkcVa8ZBCs")]
    Delete {
        /// Ingress id.
        id: String,
    },
}

/// `ingress create`.
#[derive(Debug, Args)]
pub(crate) struct IngressCreateArgs {
    /// Input type.
    #[arg(long = "input", value_enum)]
    input_type: InputType,
    /// Room the ingress publishes into.
    #[arg(long)]
    room: String,
    /// Identity of the participant that publishes.
    #[arg(long)]
    identity: String,
    /// Ingress name.
    #[arg(long, default_value = "")]
    name: String,
    /// The publishing participant's display name.
    #[arg(long, default_value = "")]
    participant_name: String,
    /// The publishing participant's metadata.
    #[arg(long, default_value = "")]
    metadata: String,
    /// For --input url: the media URL to pull.
    #[arg(long, required_if_eq("input_type", "url"))]
    url: Option<String>,
    /// Publish the input as is, without transcoding (WHIP only).
    #[arg(long)]
    bypass_transcoding: bool,
    /// Create it disabled.
    #[arg(long)]
    disabled: bool,
}

impl IngressCreateArgs {
    fn to_request(&self) -> proto::CreateIngressRequest {
        proto::CreateIngressRequest {
            input_type: self.input_type.to_proto() as i32,
            url: self.url.clone().unwrap_or_default(),
            name: self.name.clone(),
            room_name: self.room.clone(),
            participant_identity: self.identity.clone(),
            participant_name: self.participant_name.clone(),
            participant_metadata: self.metadata.clone(),
            enable_transcoding: self.bypass_transcoding.then_some(false),
            enabled: self.disabled.then_some(false),
            ..Default::default()
        }
    }
}

/// `ingress update`.
#[derive(Debug, Args)]
pub(crate) struct IngressUpdateArgs {
    /// Ingress id.
    id: String,
    /// New name.
    #[arg(long)]
    name: Option<String>,
    /// New room.
    #[arg(long)]
    room: Option<String>,
    /// New publishing identity.
    #[arg(long)]
    identity: Option<String>,
    /// New display name of the publishing participant.
    #[arg(long)]
    participant_name: Option<String>,
    /// New metadata of the publishing participant.
    #[arg(long)]
    metadata: Option<String>,
    /// Enable or disable it.
    #[arg(long, value_name = "BOOL")]
    enabled: Option<bool>,
}

impl IngressUpdateArgs {
    fn to_request(&self) -> proto::UpdateIngressRequest {
        proto::UpdateIngressRequest {
            ingress_id: self.id.clone(),
            name: self.name.clone().unwrap_or_default(),
            room_name: self.room.clone().unwrap_or_default(),
            participant_identity: self.identity.clone().unwrap_or_default(),
            participant_name: self.participant_name.clone().unwrap_or_default(),
            participant_metadata: self.metadata.clone().unwrap_or_default(),
            enabled: self.enabled,
            ..Default::default()
        }
    }
}

fn print_ingresses(
    connection: &Connection,
    ingresses: &[proto::IngressInfo],
) -> Result<(), Failure> {
    if connection.json {
        return print_json(&ingresses);
    }
    let rows: Vec<Vec<String>> = ingresses
        .iter()
        .map(|ingress| {
            let status = ingress.state.as_ref().map_or_else(String::new, |state| {
                enum_name(
                    proto::ingress_state::Status::try_from(state.status)
                        .map(|status| status.as_str_name()),
                    state.status,
                )
            });
            vec![
                ingress.ingress_id.clone(),
                ingress.name.clone(),
                enum_name(
                    proto::IngressInput::try_from(ingress.input_type)
                        .map(|input| input.as_str_name()),
                    ingress.input_type,
                ),
                ingress.room_name.clone(),
                ingress.participant_identity.clone(),
                status,
                ingress.url.clone(),
                ingress.stream_key.clone(),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "NAME",
            "INPUT",
            "ROOM",
            "IDENTITY",
            "STATUS",
            "URL",
            "STREAM KEY",
        ],
        &rows,
    );
    Ok(())
}

pub(crate) fn run_ingress(connection: &Connection, command: IngressCommand) -> Result<(), Failure> {
    let api = connection.api()?;
    let ingress = api.ingress().with_options(connection.options(None));
    match command {
        IngressCommand::Create(args) => {
            let created = ingress
                .create_ingress(args.to_request())
                .map_err(|error| failure(&error))?;
            print_ingresses(connection, &[created])
        }
        IngressCommand::List { room, id } => {
            let listed = ingress
                .list_ingress(proto::ListIngressRequest {
                    room_name: room.unwrap_or_default(),
                    ingress_id: id.unwrap_or_default(),
                    ..Default::default()
                })
                .map_err(|error| failure(&error))?;
            print_ingresses(connection, &listed.items)
        }
        IngressCommand::Update(args) => {
            let updated = ingress
                .update_ingress(args.to_request())
                .map_err(|error| failure_about(&error, &format!("ingress {}", args.id)))?;
            print_ingresses(connection, &[updated])
        }
        IngressCommand::Delete { id } => {
            let deleted = ingress
                .delete_ingress(proto::DeleteIngressRequest {
                    ingress_id: id.clone(),
                })
                .map_err(|error| failure_about(&error, &format!("ingress {id}")))?;
            print_ingresses(connection, &[deleted])
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use livekit_ureq::proto;

    use super::{
        IngressCreateArgs, IngressUpdateArgs, OutputArgs, parse_preset, update_stream_request,
    };

    #[derive(Debug, Parser)]
    struct Outputs {
        #[command(flatten)]
        args: OutputArgs,
    }

    #[derive(Debug, Parser)]
    struct Create {
        #[command(flatten)]
        args: IngressCreateArgs,
    }

    #[derive(Debug, Parser)]
    struct Update {
        #[command(flatten)]
        args: IngressUpdateArgs,
    }

    #[test]
    fn outputs_map_to_files_streams_by_protocol_and_segments() {
        let parsed = Outputs::parse_from([
            "x",
            "--file",
            "out.MP4",
            "--stream",
            "rtmp://a/app/k",
            "--stream",
            "srt://b:9000",
            "--stream",
            "rtmps://c/app/k",
            "--segments",
            "hls/room",
            "--segment-duration",
            "4",
        ]);
        let outputs = parsed.args.to_outputs().expect("outputs");
        assert_eq!(outputs.files.len(), 1);
        assert_eq!(outputs.files[0].filepath, "out.MP4");
        assert_eq!(
            outputs.files[0].file_type,
            proto::EncodedFileType::Mp4 as i32
        );
        assert_eq!(outputs.streams.len(), 2);
        assert_eq!(
            outputs.streams[0].protocol,
            proto::StreamProtocol::Rtmp as i32
        );
        assert_eq!(
            outputs.streams[0].urls,
            ["rtmp://a/app/k", "rtmps://c/app/k"]
        );
        assert_eq!(
            outputs.streams[1].protocol,
            proto::StreamProtocol::Srt as i32
        );
        assert_eq!(outputs.segments[0].filename_prefix, "hls/room");
        assert_eq!(outputs.segments[0].segment_duration, 4);
    }

    #[test]
    fn stream_destinations_join_the_output_of_their_protocol() {
        let parsed = Outputs::parse_from([
            "x",
            "--stream",
            "rtmp://a/app/k",
            "--stream-destination",
            "main=rtmps://b/app/k",
            "--stream-destination",
            "backup=srt://c:9000",
        ]);
        let outputs = parsed.args.to_outputs().expect("outputs");
        assert_eq!(outputs.streams.len(), 2);
        assert_eq!(
            outputs.streams[0].protocol,
            proto::StreamProtocol::Rtmp as i32
        );
        assert_eq!(outputs.streams[0].urls, ["rtmp://a/app/k"]);
        assert_eq!(
            outputs.streams[0].destinations,
            [proto::StreamDestination {
                id: "main".into(),
                url: "rtmps://b/app/k".into()
            }]
        );
        assert_eq!(
            outputs.streams[1].protocol,
            proto::StreamProtocol::Srt as i32
        );
        assert!(outputs.streams[1].urls.is_empty());
        assert_eq!(outputs.streams[1].destinations[0].id, "backup");
        assert_eq!(outputs.streams[1].destinations[0].url, "srt://c:9000");

        // A destination alone is an output.
        let alone = Outputs::parse_from(["x", "--stream-destination", "d=wss://e/audio"]);
        let outputs = alone.args.to_outputs().expect("outputs");
        assert_eq!(
            outputs.streams[0].protocol,
            proto::StreamProtocol::Websocket as i32
        );
        assert_eq!(outputs.streams[0].destinations[0].id, "d");
    }

    #[test]
    fn stream_destinations_need_an_id_and_a_stream_url() {
        for bad in [
            "rtmp://a/app/k",
            "=rtmp://a/app/k",
            "main=",
            "main=http://a/b",
        ] {
            let error = Outputs::try_parse_from(["x", "--stream-destination", bad]).expect_err(bad);
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad}"
            );
        }
    }

    #[test]
    fn fmp4_segments_and_mcap_files() {
        let parsed = Outputs::parse_from(["x", "--segments", "hls/room", "--fmp4"]);
        let outputs = parsed.args.to_outputs().expect("outputs");
        assert_eq!(
            outputs.segments[0].protocol,
            proto::SegmentedFileProtocol::HlsFmp4Protocol as i32
        );
        let plain = Outputs::parse_from(["x", "--segments", "hls/room"]);
        assert_eq!(
            plain.args.to_outputs().expect("outputs").segments[0].protocol,
            proto::SegmentedFileProtocol::DefaultSegmentedFileProtocol as i32
        );
        // --fmp4 describes segments; alone it is a usage error.
        let error = Outputs::try_parse_from(["x", "--file", "a.mp4", "--fmp4"]).unwrap_err();
        assert_eq!(
            error.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );

        let mcap = Outputs::parse_from(["x", "--file", "tracks.mcap"]);
        assert_eq!(
            mcap.args.to_outputs().expect("outputs").files[0].file_type,
            proto::EncodedFileType::Mcap as i32
        );
        assert_eq!(
            parse_preset("passthrough"),
            Ok(proto::EncodingOptionsPreset::Passthrough as i32)
        );
    }

    #[test]
    fn update_stream_adds_destinations_and_needs_a_change() {
        let destination = proto::StreamDestination {
            id: "backup".into(),
            url: "rtmp://b/app/k".into(),
        };
        let request = update_stream_request(
            "EG_1".into(),
            vec!["rtmp://a/app/k".into()],
            vec![destination.clone()],
            vec!["rtmp://old/app/k".into()],
        )
        .expect("a request");
        assert_eq!(request.egress_id, "EG_1");
        assert_eq!(request.add_output_urls, ["rtmp://a/app/k"]);
        assert_eq!(request.add_destinations, std::slice::from_ref(&destination));
        assert_eq!(request.remove_output_urls, ["rtmp://old/app/k"]);

        let only_destination =
            update_stream_request("EG_1".into(), vec![], vec![destination], vec![]);
        assert!(only_destination.is_ok());
        let nothing = update_stream_request("EG_1".into(), vec![], vec![], vec![]).unwrap_err();
        assert_eq!(nothing.code, 2);
        assert!(
            nothing.message.contains("--add-destination"),
            "{}",
            nothing.message
        );
    }

    #[test]
    fn an_egress_needs_an_output_and_known_stream_schemes() {
        let none = Outputs::parse_from(["x"]).args.to_outputs().unwrap_err();
        assert_eq!(none.code, 2);
        assert!(none.message.contains("--file"), "{}", none.message);
        let bad = Outputs::parse_from(["x", "--stream", "http://a/b"]);
        assert_eq!(bad.args.to_outputs().unwrap_err().code, 2);
    }

    #[test]
    fn presets_read_protocol_names_in_any_case() {
        assert_eq!(
            parse_preset("h264-1080p-60"),
            Ok(proto::EncodingOptionsPreset::H2641080p60 as i32)
        );
        assert!(parse_preset("4k").is_err());
    }

    #[test]
    fn ingress_create_maps_input_type_room_and_identity() {
        let create = Create::parse_from([
            "x",
            "--input",
            "whip",
            "--room",
            "r",
            "--identity",
            "cam",
            "--bypass-transcoding",
        ]);
        let request = create.args.to_request();
        assert_eq!(request.input_type, proto::IngressInput::WhipInput as i32);
        assert_eq!(request.room_name, "r");
        assert_eq!(request.participant_identity, "cam");
        assert_eq!(request.enable_transcoding, Some(false));
        assert_eq!(request.enabled, None);
        assert!(
            Create::try_parse_from(["x", "--input", "url", "--room", "r", "--identity", "i"])
                .is_err()
        );
    }

    #[test]
    fn ingress_update_leaves_unnamed_fields_empty() {
        let update = Update::parse_from(["x", "IN_1", "--name", "n2", "--enabled", "false"]);
        let request = update.args.to_request();
        assert_eq!(request.ingress_id, "IN_1");
        assert_eq!(request.name, "n2");
        assert_eq!(request.room_name, "");
        assert_eq!(request.enabled, Some(false));
    }
}
