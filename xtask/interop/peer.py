"""Interop peer for `cargo xtask interop`: LiveKit tokens through Python `livekit-api`.

Usage: python peer.py mint|verify, with a JSON array of requests on stdin; prints a
JSON array of results, one per request, in order.

mint request:   {"apiKey", "apiSecret", "ttl" (seconds, optional), "claims": {payload JSON}}
mint result:    {"token", "nbf", "exp", "unsupported": [claims the SDK has no builder for]}
verify request: {"apiKey", "apiSecret", "token"}
verify result:  {"claims": {what TokenVerifier returned, as payload JSON}, "iss", "nbf", "exp",
                 "unsupported": [claims in the token that TokenVerifier does not return]}
                or {"rejected": "why"} when TokenVerifier refuses the token.

Claims are only ever set through the SDK's public builders and read back through its
verifier; a claim the SDK cannot express is reported as unsupported, never faked.
"""

import datetime
import json
import sys

import jwt
from google.protobuf.json_format import ParseDict
from livekit import api
from livekit.api.access_token import camel_to_snake, snake_to_lower_camel
from livekit.protocol.room import RoomConfiguration

REGISTERED = {"iss", "sub", "nbf", "exp", "iat", "jti", "aud"}

# Grant objects and the SDK class and builder for each.
GRANTS = {
    "video": (api.VideoGrants, "with_grants"),
    "sip": (api.SIPGrants, "with_sip_grants"),
    "inference": (api.InferenceGrants, "with_inference_grants"),
    "observability": (api.ObservabilityGrants, "with_observability_grants"),
    "agent": (api.AgentGrants, "with_agent_grants"),
    "agentEndpoint": (api.AgentEndpointGrants, "with_agent_endpoint_grants"),
    "agentThread": (api.AgentThreadGrants, "with_agent_thread_grants"),
}

# Plain claims and their builder.
SCALARS = {
    "sub": "with_identity",
    "name": "with_name",
    "kind": "with_kind",
    "metadata": "with_metadata",
    "attributes": "with_attributes",
    "sha256": "with_sha256",
    "roomPreset": "with_room_preset",
}


def grant_object(cls, fields):
    # Unknown fields raise TypeError: a typo in a case must not pass silently.
    return cls(**{camel_to_snake(key): value for key, value in fields.items()})


def mint(request):
    token = api.AccessToken(request["apiKey"], request["apiSecret"])
    if "ttl" in request:
        token = token.with_ttl(datetime.timedelta(seconds=request["ttl"]))
    unsupported = []
    for key, value in request["claims"].items():
        if key in GRANTS:
            cls, builder = GRANTS[key]
            token = getattr(token, builder)(grant_object(cls, value))
        elif key in SCALARS:
            token = getattr(token, SCALARS[key])(value)
        elif key == "roomConfig":
            token = token.with_room_config(ParseDict(value, RoomConfiguration()))
        else:
            unsupported.append(key)
    jwt_text = token.to_jwt()
    payload = jwt.decode(jwt_text, options={"verify_signature": False})
    return {
        "token": jwt_text,
        "nbf": payload["nbf"],
        "exp": payload["exp"],
        "unsupported": unsupported,
    }


def verify(request):
    verifier = api.TokenVerifier(request["apiKey"], request["apiSecret"])
    try:
        claims = verifier.verify(request["token"])
    except jwt.exceptions.PyJWTError as error:
        return {"rejected": f"{type(error).__name__}: {error}"}
    decoded = claims.asdict()
    decoded["sub"] = decoded.pop("identity", "")
    # The verifier returns no registered claims; read them from the token it accepted.
    payload = jwt.decode(request["token"], options={"verify_signature": False})
    known = {snake_to_lower_camel(field) for field in api.access_token.Claims.__dataclass_fields__}
    unsupported = sorted(key for key in payload if key not in known | REGISTERED)
    return {
        "claims": decoded,
        "iss": payload.get("iss"),
        "nbf": payload.get("nbf"),
        "exp": payload.get("exp"),
        "unsupported": unsupported,
    }


def main():
    operation = {"mint": mint, "verify": verify}[sys.argv[1]]
    requests = json.load(sys.stdin)
    json.dump([operation(request) for request in requests], sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
