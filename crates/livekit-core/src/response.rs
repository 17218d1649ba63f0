//! Turning an HTTP response into a message or a server error.

use std::collections::BTreeMap;
use std::time::Duration;

use http::header::RETRY_AFTER;

use crate::rpc::Rpc;
use crate::{DecodeError, Error, ServerError, TwirpCode};

/// The most of a non-Twirp body kept as the error message.
const MAX_MESSAGE_BYTES: usize = 1024;

pub(crate) fn parse<R: Rpc, B: AsRef<[u8]>>(
    response: &http::Response<B>,
    request_id: &str,
) -> Result<R::Response, Error> {
    parse_with::<R, _>(response, request_id, |body| {
        <R::Response as prost::Message>::decode(body).map_err(|error| error.to_string())
    })
}

#[cfg(feature = "view")]
pub(crate) fn parse_view<'b, R: Rpc, B: AsRef<[u8]>>(
    response: &'b http::Response<B>,
    request_id: &str,
) -> Result<<R::Response as livekit_proto::HasView>::View<'b>, Error>
where
    R::Response: livekit_proto::HasView,
{
    use livekit_proto::view::View as _;
    parse_with::<R, _>(response, request_id, |body| {
        <R::Response as livekit_proto::HasView>::View::from_protobuf(body)
            .map_err(|error| error.to_string())
    })
}

/// The message `decode` makes of the body on 200, otherwise the server's error.
fn parse_with<'b, R: Rpc, T>(
    response: &'b http::Response<impl AsRef<[u8]>>,
    request_id: &str,
    decode: impl FnOnce(&'b [u8]) -> Result<T, String>,
) -> Result<T, Error> {
    let body = response.body().as_ref();
    let status = response.status().as_u16();
    if status == 200 {
        return decode(body).map_err(|message| {
            Error::Decode(DecodeError {
                rpc: R::DESCRIPTOR.name,
                message,
                body: body.to_vec(),
            })
        });
    }
    Err(Error::from(server_error(
        R::DESCRIPTOR.name,
        status,
        response.headers(),
        body,
        request_id,
    )))
}

/// The server's error from any status and body: a Twirp error object whatever its
/// content type, or plain text, HTML from a proxy, or nothing.
pub(crate) fn server_error(
    rpc: &'static str,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
    request_id: &str,
) -> ServerError {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let request_id = (!request_id.is_empty()).then(|| request_id.to_owned());
    if let Some((code, message, meta)) = twirp_error(body) {
        return ServerError {
            rpc,
            status,
            code,
            message,
            meta,
            is_twirp: true,
            request_id,
            retry_after,
            needed_grant: None,
        };
    }
    ServerError {
        rpc,
        status,
        code: TwirpCode::from_status(status),
        message: body_text(body),
        meta: BTreeMap::new(),
        is_twirp: false,
        request_id,
        retry_after,
        needed_grant: None,
    }
}

/// Reads `{"code": ..., "msg": ..., "meta": {...}}`; `None` if the body is not that.
fn twirp_error(body: &[u8]) -> Option<(TwirpCode, String, BTreeMap<String, String>)> {
    let trimmed = body.trim_ascii_start();
    if !trimmed.starts_with(b"{") {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(trimmed).ok()?;
    let object = value.as_object()?;
    let code = object.get("code")?.as_str()?;
    let message = redact_tokens(
        object
            .get("msg")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default(),
    );
    let meta = object
        .get("meta")
        .and_then(serde_json::Value::as_object)
        .map(|meta| {
            meta.iter()
                .map(|(key, value)| {
                    let text = match value {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    Some((TwirpCode::parse(code), message, meta))
}

/// Replaces anything shaped like a JWT (`eyJ...` with two dots) by `<redacted token>`: the
/// server echoes a rejected token in its plain-text 401, and a token is a credential that
/// must not reach logs or error messages.
pub(crate) fn redact_tokens(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| !is_token_char(c))
            .unwrap_or(candidate.len());
        let span = &candidate[..end];
        if span.matches('.').count() >= 2 {
            out.push_str("<redacted token>");
        } else {
            out.push_str(span);
        }
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

/// A readable excerpt of a body that is not a Twirp error: trimmed, tokens redacted, at
/// most 1 KiB, cut on a character boundary.
fn body_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX_MESSAGE_BYTES * 4)]);
    let text = redact_tokens(text.trim());
    let text = text.as_str();
    if text.len() <= MAX_MESSAGE_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
