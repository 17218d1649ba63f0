// A real LiveKit participant for the end-to-end tests, built on LiveKit's own Go SDK.
//
// It joins a room with the token in LIVEKIT_TOKEN at the URL in LIVEKIT_URL, optionally
// publishes a silent Opus microphone track, registers three RPC methods, and writes what it
// sees to stdout, one JSON object per line, for the Rust tests to read:
//
//	{"event":"connected","identity":"alice","sid":"PA_...","room":"..."}
//	{"event":"track_published","track":"TR_...","name":"mic"}
//	{"event":"participant","name":"...","metadata":"...","attributes":{...},"permission":{...}}
//	{"event":"track_muted","participant":"alice","track":"TR_...","muted":true}
//	{"event":"track_subscribed","participant":"bob","track":"TR_..."}
//	{"event":"track_receiving","participant":"bob","track":"TR_..."}
//	{"event":"track_ended","participant":"bob","track":"TR_...","packets":250}
//	{"event":"track_unsubscribed","participant":"bob","track":"TR_..."}
//	{"event":"data","sender":"","topic":"chat","payload_hex":"00ff..."}
//	{"event":"rpc","method":"echo","caller":"","payload":"..."}
//	{"event":"disconnected","reason":"PARTICIPANT_REMOVED"}
//
// "track_receiving" follows the first RTP packet of a subscribed track, "track_ended" the end
// of its media (the server ended the subscription, or the publisher left).
// "participant" is written whenever the local participant's name, metadata, attributes or
// permission change (and once after joining). The RPC methods are "echo" (answers the
// payload), "slow" (answers after -slow-delay) and "fail" (answers application error 42 with
// the payload as its data).
//
// It exits 0 after the server disconnects it, or after leaving when stdin closes; 2 when it
// cannot join; 3 when it outlives -max-seconds. Logs go to stderr.
package main

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

var (
	publishAudio = flag.Bool("publish-audio", false, "publish a silent Opus microphone track named \"mic\"")
	slowDelay    = flag.Duration("slow-delay", 5*time.Second, "how long the \"slow\" RPC method takes")
	maxSeconds   = flag.Int("max-seconds", 120, "exit with status 3 after this long, whatever happens")
)

// The three-byte Opus frame WebRTC stacks send for 20 ms of silence (a 20 ms CELT frame).
var silence = []byte{0xf8, 0xff, 0xfe}

var stdout sync.Mutex

// emit writes one event as a JSON line.
func emit(event string, fields map[string]any) {
	line := map[string]any{"event": event}
	maps.Copy(line, fields)
	encoded, err := json.Marshal(line)
	if err != nil {
		fmt.Fprintf(os.Stderr, "participant: cannot encode %s: %v\n", event, err)
		return
	}
	stdout.Lock()
	defer stdout.Unlock()
	os.Stdout.Write(append(encoded, '\n'))
}

func main() {
	flag.Parse()
	url, token := os.Getenv("LIVEKIT_URL"), os.Getenv("LIVEKIT_TOKEN")
	if url == "" || token == "" {
		fmt.Fprintln(os.Stderr, "participant: LIVEKIT_URL and LIVEKIT_TOKEN must be set")
		os.Exit(2)
	}
	time.AfterFunc(time.Duration(*maxSeconds)*time.Second, func() {
		fmt.Fprintf(os.Stderr, "participant: still running after %d s, exiting\n", *maxSeconds)
		os.Exit(3)
	})

	done := make(chan struct{})
	var doneOnce sync.Once
	var room *lksdk.Room
	callback := lksdk.NewRoomCallback()
	callback.OnDisconnectedWithReason = func(reason lksdk.DisconnectionReason) {
		protocolReason := livekit.DisconnectReason_UNKNOWN_REASON
		if room != nil {
			protocolReason = room.DisconnectReason()
		}
		emit("disconnected", map[string]any{"reason": protocolReason.String(), "description": string(reason)})
		doneOnce.Do(func() { close(done) })
	}
	callback.OnTrackMuted = func(publication lksdk.TrackPublication, p lksdk.Participant) {
		emit("track_muted", map[string]any{"participant": p.Identity(), "track": publication.SID(), "muted": true})
	}
	callback.OnTrackUnmuted = func(publication lksdk.TrackPublication, p lksdk.Participant) {
		emit("track_muted", map[string]any{"participant": p.Identity(), "track": publication.SID(), "muted": false})
	}
	callback.OnTrackSubscribed = func(track *webrtc.TrackRemote, publication *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		emit("track_subscribed", map[string]any{"participant": rp.Identity(), "track": publication.SID()})
		go readMedia(track, rp.Identity(), publication.SID())
	}
	callback.OnTrackUnsubscribed = func(_ *webrtc.TrackRemote, publication *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		emit("track_unsubscribed", map[string]any{"participant": rp.Identity(), "track": publication.SID()})
	}
	callback.OnDataPacket = func(packet lksdk.DataPacket, params lksdk.DataReceiveParams) {
		user, ok := packet.(*lksdk.UserDataPacket)
		if !ok {
			return
		}
		emit("data", map[string]any{
			"sender":      params.SenderIdentity,
			"topic":       user.Topic,
			"payload_hex": hex.EncodeToString(user.Payload),
		})
	}

	room = lksdk.NewRoom(callback)
	registerRpcMethods(room)
	if err := room.JoinWithToken(url, token, lksdk.WithConnectTimeout(10*time.Second)); err != nil {
		fmt.Fprintf(os.Stderr, "participant: cannot join: %v\n", err)
		os.Exit(2)
	}
	local := room.LocalParticipant
	emit("connected", map[string]any{"identity": local.Identity(), "sid": local.SID(), "room": room.Name()})

	if *publishAudio {
		if err := publishSilence(local); err != nil {
			fmt.Fprintf(os.Stderr, "participant: cannot publish: %v\n", err)
			room.Disconnect()
			os.Exit(2)
		}
	}
	go watchLocalParticipant(local, done)

	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()
	select {
	case <-done:
	case <-stdinClosed:
		room.Disconnect()
		emit("left", nil)
	}
}

// readMedia reads a subscribed track's RTP packets, reporting the first one and the end of
// the track (the SDK calls back for unsubscriptions only when the publisher unpublishes or
// leaves; a subscription the server ends shows as the end of the media).
func readMedia(track *webrtc.TrackRemote, identity, sid string) {
	for packets := 0; ; packets++ {
		if _, _, err := track.ReadRTP(); err != nil {
			emit("track_ended", map[string]any{"participant": identity, "track": sid, "packets": packets})
			return
		}
		if packets == 0 {
			emit("track_receiving", map[string]any{"participant": identity, "track": sid})
		}
	}
}

func registerRpcMethods(room *lksdk.Room) {
	methods := map[string]lksdk.RpcHandlerFunc{
		"echo": func(data lksdk.RpcInvocationData) (string, error) {
			return data.Payload, nil
		},
		"slow": func(data lksdk.RpcInvocationData) (string, error) {
			time.Sleep(*slowDelay)
			return data.Payload, nil
		},
		"fail": func(data lksdk.RpcInvocationData) (string, error) {
			payload := data.Payload
			return "", lksdk.NewRpcError(42, "the method failed on purpose", &payload)
		},
	}
	for method, handler := range methods {
		if err := room.RegisterRpcMethod(method, func(data lksdk.RpcInvocationData) (string, error) {
			emit("rpc", map[string]any{"method": method, "caller": data.CallerIdentity, "payload": data.Payload})
			return handler(data)
		}); err != nil {
			fmt.Fprintf(os.Stderr, "participant: cannot register %s: %v\n", method, err)
			os.Exit(2)
		}
	}
}

// publishSilence publishes an Opus microphone track and feeds it silence every 20 ms.
func publishSilence(local *lksdk.LocalParticipant) error {
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{
		MimeType:  webrtc.MimeTypeOpus,
		ClockRate: 48000,
		Channels:  2,
	})
	if err != nil {
		return err
	}
	publication, err := local.PublishTrack(track, &lksdk.TrackPublicationOptions{
		Name:   "mic",
		Source: livekit.TrackSource_MICROPHONE,
	})
	if err != nil {
		return err
	}
	emit("track_published", map[string]any{"track": publication.SID(), "name": publication.Name()})
	go func() {
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		for range ticker.C {
			if err := track.WriteSample(media.Sample{Data: silence, Duration: 20 * time.Millisecond}, nil); err != nil && err != io.ErrClosedPipe {
				fmt.Fprintf(os.Stderr, "participant: write sample: %v\n", err)
			}
		}
	}()
	return nil
}

// watchLocalParticipant writes a "participant" event whenever what the server says about
// this participant changes. The SDK calls back for metadata and attributes only; name and
// permission changes are seen by comparing.
func watchLocalParticipant(local *lksdk.LocalParticipant, done <-chan struct{}) {
	var last map[string]any
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for {
		permission := json.RawMessage("null")
		if p := local.Permissions(); p != nil {
			if encoded, err := (protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}).Marshal(p); err == nil {
				// protojson output is not stable byte for byte: compare decoded values.
				var decoded any
				if json.Unmarshal(encoded, &decoded) == nil {
					permission, _ = json.Marshal(decoded)
				}
			}
		}
		now := map[string]any{
			"name":       local.Name(),
			"metadata":   local.Metadata(),
			"attributes": local.Attributes(),
			"permission": permission,
		}
		if !reflect.DeepEqual(now, last) {
			emit("participant", now)
			last = now
		}
		select {
		case <-done:
			return
		case <-ticker.C:
		}
	}
}
