//! The opening handshake (RFC 6455 §4): the server's checks and its 101 answer, the client's
//! request and its checks of that answer, subprotocol and extension negotiation.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{BufMut, BytesMut};
use http::header::{
    CONNECTION, HOST, HeaderMap, HeaderName, HeaderValue, SEC_WEBSOCKET_ACCEPT,
    SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION,
    UPGRADE,
};
use http::{Method, StatusCode, Version};
use sha1::{Digest, Sha1};

use super::deflate::{self, DeflateConfig, DeflateParams};
use super::error::HandshakeError;
use crate::h1::{RequestHead, ResponseHead};

/// The GUID RFC 6455 appends to the client's key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`:
/// base64(SHA-1(key + GUID)).
///
/// ```
/// use cyclone_protocol::websocket::accept_key;
/// assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key.trim().as_bytes());
    sha1.update(GUID.as_bytes());
    STANDARD.encode(sha1.finalize())
}

/// Whether the request asks for WebSocket version 13, the only one there is (RFC 6455 §4.1).
fn offers_version_13(headers: &HeaderMap) -> bool {
    headers
        .get(SEC_WEBSOCKET_VERSION)
        .is_some_and(|version| version.as_bytes().trim_ascii() == b"13")
}

/// Whether a comma-separated header field holds `token` (case-insensitive), in any of its
/// lines.
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value
                .split(',')
                .any(|part| part.trim().eq_ignore_ascii_case(token))
        })
    })
}

/// What both sides agreed on in the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Negotiated {
    /// The subprotocol chosen by the server, if any.
    pub subprotocol: Option<String>,
    /// permessage-deflate's parameters, when compression is on.
    pub deflate: Option<DeflateParams>,
}

/// A checked upgrade request, server side: what the client offered, waiting for the
/// application's choices (subprotocol, compression).
#[derive(Debug, Clone)]
pub struct ServerHandshake {
    /// The `Sec-WebSocket-Accept` value.
    accept: String,
    /// The subprotocols offered, in the client's order of preference.
    subprotocols: Vec<String>,
    /// The `Sec-WebSocket-Extensions` lines offered.
    extensions: Vec<String>,
    /// The client is Tornado's (`User-Agent: Tornado/...`), whose answer parser drops
    /// parameters without a value: it never hears `client_no_context_takeover`.
    tornado_client: bool,
    /// The request is an HTTP/2 extended CONNECT (RFC 8441): the answer is 200 with no
    /// `Upgrade`, `Connection` or `Sec-WebSocket-Accept`.
    over_http2: bool,
}

impl ServerHandshake {
    /// Checks an upgrade request head: GET, HTTP/1.1, `Upgrade: websocket`,
    /// `Connection: upgrade`, a 16-byte `Sec-WebSocket-Key` and `Sec-WebSocket-Version: 13`
    /// (anything else is [`HandshakeError::UnsupportedVersion`], answered 426).
    ///
    /// A request that came over HTTP/2 is checked as an extended CONNECT instead
    /// ([`from_extended_connect`](Self::from_extended_connect)).
    pub fn from_head(head: &RequestHead) -> Result<Self, HandshakeError> {
        if head.version == Version::HTTP_2 {
            return Self::from_extended_connect(
                &head.method,
                head.connect_protocol.as_deref(),
                head.headers(),
            );
        }
        Self::from_parts(&head.method, head.version, head.headers())
    }

    /// Checks a WebSocket request over HTTP/2 (RFC 8441 §4): CONNECT with `:protocol
    /// websocket` (`protocol`) and `Sec-WebSocket-Version: 13` (anything else is
    /// [`HandshakeError::UnsupportedVersionOverHttp2`], answered 400). There is no
    /// `Sec-WebSocket-Key`: the stream itself is the proof that the server took the request.
    pub fn from_extended_connect(
        method: &Method,
        protocol: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Self, HandshakeError> {
        if method != Method::CONNECT
            || !protocol.is_some_and(|protocol| protocol.eq_ignore_ascii_case("websocket"))
        {
            return Err(HandshakeError::NotUpgrade);
        }
        if !offers_version_13(headers) {
            return Err(HandshakeError::UnsupportedVersionOverHttp2);
        }
        Ok(ServerHandshake {
            over_http2: true,
            ..Self::offers(headers)
        })
    }

    /// [`from_head`](Self::from_head) from the request's method, version and fields.
    pub fn from_parts(
        method: &Method,
        version: Version,
        headers: &HeaderMap,
    ) -> Result<Self, HandshakeError> {
        if method != Method::GET
            || version < Version::HTTP_11
            || !has_token(headers, UPGRADE, "websocket")
            || !has_token(headers, CONNECTION, "upgrade")
        {
            return Err(HandshakeError::NotUpgrade);
        }
        if !offers_version_13(headers) {
            return Err(HandshakeError::UnsupportedVersion);
        }
        let key = headers
            .get(SEC_WEBSOCKET_KEY)
            .and_then(|key| key.to_str().ok())
            .map(str::trim)
            .ok_or(HandshakeError::BadKey)?;
        if STANDARD.decode(key).map(|raw| raw.len()) != Ok(16) {
            return Err(HandshakeError::BadKey);
        }
        Ok(ServerHandshake {
            accept: accept_key(key),
            ..Self::offers(headers)
        })
    }

    /// What the client offered (subprotocols, extensions), from the fields both versions of
    /// the handshake share.
    fn offers(headers: &HeaderMap) -> Self {
        let list = |name: HeaderName| -> Vec<String> {
            headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(|part| part.trim().to_owned())
                .filter(|part| !part.is_empty())
                .collect()
        };
        ServerHandshake {
            accept: String::new(),
            subprotocols: list(SEC_WEBSOCKET_PROTOCOL),
            extensions: headers
                .get_all(SEC_WEBSOCKET_EXTENSIONS)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .map(str::to_owned)
                .collect(),
            tornado_client: headers
                .get(http::header::USER_AGENT)
                .is_some_and(|agent| agent.as_bytes().starts_with(b"Tornado/")),
            over_http2: false,
        }
    }

    /// The subprotocols the client offered, most preferred first (Tornado's
    /// `select_subprotocol` argument).
    pub fn subprotocols(&self) -> &[String] {
        &self.subprotocols
    }

    /// Accepts the upgrade with `subprotocol` (which must be one offered; another is ignored)
    /// and, when `compression` is given and the client offered permessage-deflate, the first
    /// acceptable offer.
    pub fn accept(
        &self,
        subprotocol: Option<&str>,
        compression: Option<&DeflateConfig>,
    ) -> Accepted {
        let subprotocol = subprotocol
            .filter(|chosen| self.subprotocols.iter().any(|offered| offered == chosen))
            .map(str::to_owned);
        let negotiation = compression.and_then(|config| {
            deflate::negotiate_for(
                self.extensions.iter().map(String::as_str),
                config,
                self.tornado_client,
            )
        });
        let mut headers = HeaderMap::new();
        if !self.over_http2 {
            headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
            if let Ok(value) = HeaderValue::from_str(&self.accept) {
                headers.insert(SEC_WEBSOCKET_ACCEPT, value);
            }
        }
        if let Some(value) = subprotocol
            .as_deref()
            .and_then(|p| HeaderValue::from_str(p).ok())
        {
            headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        if let Some(value) = negotiation
            .as_ref()
            .and_then(|(_, answer)| HeaderValue::from_str(answer).ok())
        {
            headers.insert(SEC_WEBSOCKET_EXTENSIONS, value);
        }
        Accepted {
            status: if self.over_http2 {
                StatusCode::OK
            } else {
                StatusCode::SWITCHING_PROTOCOLS
            },
            headers,
            negotiated: Negotiated {
                subprotocol,
                deflate: negotiation.map(|(params, _)| params),
            },
        }
    }
}

/// The server's decision: the answer's status and fields, and what was agreed.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// `101 Switching Protocols` on HTTP/1.1; `200 OK` for an extended CONNECT over HTTP/2
    /// (RFC 8441 §5), after which the stream carries the WebSocket.
    pub status: StatusCode,
    /// `Upgrade`, `Connection`, `Sec-WebSocket-Accept` (HTTP/1.1 only), and
    /// `Sec-WebSocket-Protocol` / `Sec-WebSocket-Extensions` when agreed: add them to the
    /// answer.
    pub headers: HeaderMap,
    /// What the connection runs with.
    pub negotiated: Negotiated,
}

impl Accepted {
    /// Appends the whole `101 Switching Protocols` response to `out`, for servers that write
    /// their own (the HTTP server writes `headers` itself).
    pub fn encode_response(&self, out: &mut BytesMut) {
        out.put_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
        put_headers(&self.headers, out);
        out.put_slice(b"\r\n");
    }
}

/// Appends the refusal for a bad upgrade request: 400, or 426 with `Sec-WebSocket-Version: 13`.
pub fn encode_rejection(error: &HandshakeError, out: &mut BytesMut) {
    let status = error.status();
    out.put_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    if status == StatusCode::UPGRADE_REQUIRED {
        out.put_slice(b"Sec-WebSocket-Version: 13\r\n");
    }
    out.put_slice(b"Connection: close\r\nContent-Length: 0\r\n\r\n");
}

fn put_headers(headers: &HeaderMap, out: &mut BytesMut) {
    for (name, value) in headers {
        out.put_slice(name.as_str().as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
}

/// The client's side of the handshake: the request it sends and the checks of the answer.
#[derive(Debug, Clone)]
pub struct ClientHandshake {
    /// The `Sec-WebSocket-Key` sent (16 random bytes, base64).
    key: String,
    /// Subprotocols offered.
    subprotocols: Vec<String>,
    /// Compression offered.
    compression: Option<DeflateConfig>,
}

impl ClientHandshake {
    /// A handshake offering `subprotocols` and, with `compression`, permessage-deflate.
    pub fn new(subprotocols: Vec<String>, compression: Option<DeflateConfig>) -> Self {
        let random = RandomState::new();
        let mut key = [0u8; 16];
        for (index, half) in key.chunks_mut(8).enumerate() {
            let mut hasher = random.build_hasher();
            hasher.write_usize(index);
            half.copy_from_slice(&hasher.finish().to_ne_bytes());
        }
        ClientHandshake {
            key: STANDARD.encode(key),
            subprotocols,
            compression,
        }
    }

    /// Appends the upgrade request for `target` (path and query) on `host` (with a port when
    /// not the default), with `extra` fields (cookies, auth, Origin), to `out`.
    pub fn encode_request(&self, host: &str, target: &str, extra: &HeaderMap, out: &mut BytesMut) {
        out.put_slice(format!("GET {target} HTTP/1.1\r\n").as_bytes());
        if !extra.contains_key(HOST) {
            out.put_slice(format!("Host: {host}\r\n").as_bytes());
        }
        out.put_slice(
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n",
        );
        out.put_slice(format!("Sec-WebSocket-Key: {}\r\n", self.key).as_bytes());
        if !self.subprotocols.is_empty() {
            out.put_slice(
                format!(
                    "Sec-WebSocket-Protocol: {}\r\n",
                    self.subprotocols.join(", ")
                )
                .as_bytes(),
            );
        }
        if let Some(compression) = &self.compression {
            out.put_slice(
                format!(
                    "Sec-WebSocket-Extensions: {}\r\n",
                    compression.client_offer()
                )
                .as_bytes(),
            );
        }
        put_headers(extra, out);
        out.put_slice(b"\r\n");
    }

    /// Checks the server's answer: 101, `Upgrade`/`Connection`, the accept key, a subprotocol
    /// that was offered, and an extension answer that fits the offer.
    pub fn check_response(&self, head: &ResponseHead) -> Result<Negotiated, HandshakeError> {
        if head.status != StatusCode::SWITCHING_PROTOCOLS {
            return Err(HandshakeError::NotSwitching(head.status));
        }
        if !has_token(&head.headers, UPGRADE, "websocket")
            || !has_token(&head.headers, CONNECTION, "upgrade")
        {
            return Err(HandshakeError::NotUpgrade);
        }
        let expected = accept_key(&self.key);
        if head
            .headers
            .get(SEC_WEBSOCKET_ACCEPT)
            .is_none_or(|accept| accept.as_bytes().trim_ascii() != expected.as_bytes())
        {
            return Err(HandshakeError::BadAccept);
        }
        self.negotiate(&head.headers)
    }

    /// The fields of the extended CONNECT that opens the WebSocket over HTTP/2 (RFC 8441 §4:
    /// the method, `:protocol websocket`, the scheme, authority and path are the request's
    /// own): `Sec-WebSocket-Version: 13`, the offers, and the fields of `extra` HTTP/2 allows
    /// (not `Host`, which is the `:authority`, nor the connection-specific ones). HTTP/2 has
    /// no `Sec-WebSocket-Key`: the stream is the proof.
    pub fn extended_connect_fields(&self, extra: &HeaderMap) -> HeaderMap {
        let mut fields = extra.clone();
        fields.remove(HOST);
        crate::http2::strip_connection_specific(&mut fields);
        fields.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        if !self.subprotocols.is_empty()
            && let Ok(value) = HeaderValue::from_str(&self.subprotocols.join(", "))
        {
            fields.insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        if let Some(compression) = &self.compression
            && let Ok(value) = HeaderValue::from_str(&compression.client_offer())
        {
            fields.insert(SEC_WEBSOCKET_EXTENSIONS, value);
        }
        fields
    }

    /// Checks the server's answer to an extended CONNECT: 200, a subprotocol that was offered,
    /// and an extension answer that fits the offer.
    pub fn check_extended_connect_response(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<Negotiated, HandshakeError> {
        if status != StatusCode::OK {
            return Err(HandshakeError::NotAccepted(status));
        }
        self.negotiate(headers)
    }

    /// The subprotocol and extension the server's answer chose, checked against the offers.
    fn negotiate(&self, headers: &HeaderMap) -> Result<Negotiated, HandshakeError> {
        let subprotocol = match headers.get(SEC_WEBSOCKET_PROTOCOL) {
            None => None,
            Some(chosen) => {
                let chosen = chosen.to_str().map(str::trim).unwrap_or_default();
                if !self.subprotocols.iter().any(|offered| offered == chosen) {
                    return Err(HandshakeError::BadSubprotocol);
                }
                Some(chosen.to_owned())
            }
        };
        let answers: Vec<&str> = headers
            .get_all(SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        let deflate = match (answers.as_slice(), &self.compression) {
            ([], _) => None,
            ([answer], Some(config)) => {
                Some(deflate::accept_answer(answer, config).map_err(HandshakeError::BadExtension)?)
            }
            (_, _) => {
                return Err(HandshakeError::BadExtension(answers.join(", ")));
            }
        };
        Ok(Negotiated {
            subprotocol,
            deflate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields of a WebSocket request, `version` as its `Sec-WebSocket-Version`.
    fn fields(version: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            SEC_WEBSOCKET_VERSION,
            HeaderValue::from_str(version).unwrap(),
        );
        headers.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("a, chat"));
        headers
    }

    #[test]
    fn an_extended_connect_is_answered_200_without_the_http1_fields() {
        let handshake = ServerHandshake::from_extended_connect(
            &Method::CONNECT,
            Some("websocket"),
            &fields("13"),
        )
        .unwrap();
        assert_eq!(handshake.subprotocols(), ["a", "chat"]);
        let accepted = handshake.accept(Some("chat"), None);
        assert_eq!(accepted.status, StatusCode::OK);
        assert_eq!(accepted.headers.len(), 1, "{:?}", accepted.headers);
        assert_eq!(accepted.headers[SEC_WEBSOCKET_PROTOCOL], "chat");
    }

    #[test]
    fn an_extended_connect_carries_the_offers_and_no_connection_fields() {
        let handshake = ClientHandshake::new(vec!["a".into(), "chat".into()], None);
        let mut extra = HeaderMap::new();
        extra.insert(HOST, HeaderValue::from_static("example.com"));
        extra.insert(CONNECTION, HeaderValue::from_static("keep-alive"));
        extra.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        extra.insert(
            http::header::ORIGIN,
            HeaderValue::from_static("https://example.com"),
        );
        let fields = handshake.extended_connect_fields(&extra);
        assert_eq!(fields[SEC_WEBSOCKET_VERSION], "13");
        assert_eq!(fields[SEC_WEBSOCKET_PROTOCOL], "a, chat");
        assert_eq!(fields[http::header::ORIGIN], "https://example.com");
        assert!(!fields.contains_key(SEC_WEBSOCKET_KEY), "HTTP/2 has no key");
        for gone in [HOST, CONNECTION, HeaderName::from_static("keep-alive")] {
            assert!(!fields.contains_key(&gone), "{gone} sent over HTTP/2");
        }

        let mut answer = HeaderMap::new();
        answer.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("chat"));
        let negotiated = handshake
            .check_extended_connect_response(StatusCode::OK, &answer)
            .unwrap();
        assert_eq!(negotiated.subprotocol.as_deref(), Some("chat"));
        assert_eq!(
            handshake.check_extended_connect_response(StatusCode::FORBIDDEN, &answer),
            Err(HandshakeError::NotAccepted(StatusCode::FORBIDDEN))
        );
        answer.insert(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("other"));
        assert_eq!(
            handshake.check_extended_connect_response(StatusCode::OK, &answer),
            Err(HandshakeError::BadSubprotocol)
        );
    }

    #[test]
    fn an_http1_upgrade_is_still_answered_101_with_its_accept_key() {
        let mut headers = fields("13");
        headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(
            SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        let accepted = ServerHandshake::from_parts(&Method::GET, Version::HTTP_11, &headers)
            .unwrap()
            .accept(None, None);
        assert_eq!(accepted.status, StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            accepted.headers[SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn a_bad_extended_connect_is_refused_with_400() {
        for (method, protocol) in [
            (Method::CONNECT, None),
            (Method::CONNECT, Some("webtransport")),
            (Method::GET, Some("websocket")),
        ] {
            let error = ServerHandshake::from_extended_connect(&method, protocol, &fields("13"))
                .unwrap_err();
            assert_eq!(error, HandshakeError::NotUpgrade, "{method} {protocol:?}");
            assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        }
        for version in ["8", "", "13, 8"] {
            let error = ServerHandshake::from_extended_connect(
                &Method::CONNECT,
                Some("websocket"),
                &fields(version),
            )
            .unwrap_err();
            assert_eq!(error, HandshakeError::UnsupportedVersionOverHttp2);
            assert_eq!(error.status(), StatusCode::BAD_REQUEST);
            assert!(error.wants_version_field());
        }
    }
}
