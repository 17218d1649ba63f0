// Interop peer for `cargo xtask interop`: LiveKit tokens through Node `livekit-server-sdk`.
//
// Usage: node peer.mjs mint|verify, with a JSON array of requests on stdin; prints a JSON
// array of results, one per request, in order. The request and result shapes are those of
// peer.py beside this file.
//
// Claims are only ever set through the SDK's public API (constructor options, addGrant,
// addSIPGrant, addInferenceGrant, addObservabilityGrant and the kind, sha256, roomPreset and
// roomConfig setters) and read back through its TokenVerifier. A claim the SDK has no API
// for is reported as unsupported, never written into the token behind its back.
//
// xtask copies this file next to the `node_modules` it installed, so the import resolves.
import { readFileSync } from 'node:fs';
import {
  AccessToken,
  RoomConfiguration,
  TokenVerifier,
  TrackSource,
} from 'livekit-server-sdk';

// The fields of the SDK's `VideoGrant` interface (dist/grants.d.ts).
const VIDEO_FIELDS = new Set([
  'roomCreate', 'roomJoin', 'roomList', 'roomRecord', 'roomAdmin', 'room', 'ingressAdmin',
  'canPublish', 'canPublishSources', 'canSubscribe', 'canPublishData', 'canUpdateOwnMetadata',
  'hidden', 'recorder', 'agent', 'canSubscribeMetrics', 'canManageAgentSession',
  'destinationRoom',
]);

// The claims of the SDK's `ClaimGrants` interface, which is what its verifier returns.
const TYPED_CLAIMS = new Set([
  'name', 'video', 'sip', 'inference', 'observability', 'kind', 'metadata', 'attributes',
  'sha256', 'roomPreset', 'roomConfig',
]);
const REGISTERED = new Set(['iss', 'sub', 'nbf', 'exp', 'iat', 'jti', 'aud']);

function payloadOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

function videoGrant(fields) {
  for (const key of Object.keys(fields)) {
    if (!VIDEO_FIELDS.has(key)) throw new Error(`VideoGrant has no field ${key}`);
  }
  const grant = { ...fields };
  if (grant.canPublishSources) {
    // The SDK takes TrackSource enum values and writes them as lowercase names.
    grant.canPublishSources = grant.canPublishSources.map((name) => {
      const value = TrackSource[name.toUpperCase()];
      if (value === undefined) throw new Error(`unknown track source ${name}`);
      return value;
    });
  }
  return grant;
}

async function mint(request) {
  const { sub, name, metadata, attributes, ...rest } = request.claims;
  const options = { identity: sub, name, metadata, attributes };
  if (request.ttl !== undefined) options.ttl = request.ttl;
  const token = new AccessToken(request.apiKey, request.apiSecret, options);
  const unsupported = [];
  for (const [key, value] of Object.entries(rest)) {
    switch (key) {
      case 'video': token.addGrant(videoGrant(value)); break;
      case 'sip': token.addSIPGrant(value); break;
      case 'inference': token.addInferenceGrant(value); break;
      case 'observability': token.addObservabilityGrant(value); break;
      case 'kind': token.kind = value; break;
      case 'sha256': token.sha256 = value; break;
      case 'roomPreset': token.roomPreset = value; break;
      case 'roomConfig': token.roomConfig = RoomConfiguration.fromJson(value); break;
      default: unsupported.push(key);
    }
  }
  const jwt = await token.toJwt();
  const payload = payloadOf(jwt);
  return { token: jwt, nbf: payload.nbf, exp: payload.exp, unsupported };
}

async function verify(request) {
  const verifier = new TokenVerifier(request.apiKey, request.apiSecret);
  let payload;
  try {
    payload = await verifier.verify(request.token);
  } catch (error) {
    return { rejected: `${error.code ?? error.name}: ${error.message}` };
  }
  const claims = { sub: payload.sub };
  const unsupported = [];
  for (const [key, value] of Object.entries(payload)) {
    if (TYPED_CLAIMS.has(key)) claims[key] = value;
    else if (!REGISTERED.has(key)) unsupported.push(key);
  }
  return {
    claims,
    iss: payload.iss,
    nbf: payload.nbf,
    exp: payload.exp,
    unsupported: unsupported.sort(),
  };
}

const operations = { mint, verify };
const operation = operations[process.argv[2]];
if (!operation) {
  console.error('usage: node peer.mjs mint|verify < requests.json');
  process.exit(2);
}
const requests = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const request of requests) results.push(await operation(request));
process.stdout.write(`${JSON.stringify(results)}\n`);
