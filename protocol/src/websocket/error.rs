//! What can go wrong on a WebSocket, one enum per layer, and the one table that maps each
//! protocol error to the close code sent before the connection is dropped.

use std::io;

use http::StatusCode;

use super::close::CloseCode;

/// The peer broke RFC 6455 or RFC 7692, or a limit; every variant ends the connection with the
/// close code [`close_code`](Self::close_code) names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// An opcode RFC 6455 reserves (3–7, 11–15).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// RSV2/RSV3 set, or RSV1 without permessage-deflate, on a control frame or a continuation.
    #[error("reserved bits set")]
    ReservedBits,
    /// A control frame that is fragmented or longer than 125 bytes.
    #[error("bad control frame")]
    BadControlFrame,
    /// A client frame without a mask, or a server frame with one.
    #[error("frame masking does not match the peer's role")]
    BadMask,
    /// A 64-bit length with its top bit set (RFC 6455 §5.2). Lengths not in their shortest
    /// form are accepted, as most implementations do.
    #[error("bad frame length")]
    BadLength,
    /// A continuation with no message in progress, or a new message while one is in progress.
    #[error("bad fragmentation")]
    BadFragmentation,
    /// A close frame with a one-byte payload.
    #[error("bad close frame payload")]
    BadClosePayload,
    /// A close code the peer must not send (RFC 6455 §7.4).
    #[error("invalid close code {0}")]
    InvalidCloseCode(u16),
    /// A text message (or close reason) that is not UTF-8.
    #[error("text is not valid UTF-8")]
    InvalidUtf8,
    /// A compressed payload that does not inflate.
    #[error("bad compressed data")]
    BadCompression,
    /// A message (after inflation) larger than `max_message_size`.
    #[error("message larger than {limit} bytes")]
    MessageTooBig {
        /// The limit in force.
        limit: usize,
    },
    /// A data frame after the peer's close frame.
    #[error("data after close")]
    DataAfterClose,
}

impl ProtocolError {
    /// The close code answered for this error: the one place protocol errors become wire
    /// answers.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::ReservedOpcode(_)
            | ProtocolError::ReservedBits
            | ProtocolError::BadControlFrame
            | ProtocolError::BadMask
            | ProtocolError::BadLength
            | ProtocolError::BadFragmentation
            | ProtocolError::BadClosePayload
            | ProtocolError::InvalidCloseCode(_)
            | ProtocolError::DataAfterClose => CloseCode::PROTOCOL_ERROR,
            ProtocolError::InvalidUtf8 | ProtocolError::BadCompression => {
                CloseCode::INVALID_PAYLOAD
            }
            ProtocolError::MessageTooBig { .. } => CloseCode::MESSAGE_TOO_BIG,
        }
    }
}

/// Why an opening handshake was refused, on either side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// Not a GET, not HTTP/1.1, or no `Upgrade: websocket` / `Connection: upgrade`; over
    /// HTTP/2, not a CONNECT with `:protocol websocket`.
    #[error("not a WebSocket upgrade request")]
    NotUpgrade,
    /// `Sec-WebSocket-Key` is missing or not 16 base64-encoded bytes.
    #[error("bad Sec-WebSocket-Key")]
    BadKey,
    /// `Sec-WebSocket-Version` is not 13: answered with 426 and `Sec-WebSocket-Version: 13`.
    #[error("unsupported WebSocket version")]
    UnsupportedVersion,
    /// An extended CONNECT (RFC 8441, WebSocket over HTTP/2) with a `Sec-WebSocket-Version`
    /// other than 13: answered with 400 and `Sec-WebSocket-Version: 13`, since the 426 of
    /// HTTP/1.1 must carry an `Upgrade` field, which HTTP/2 forbids.
    #[error("unsupported WebSocket version")]
    UnsupportedVersionOverHttp2,
    /// Client side: the server did not answer 101.
    #[error("server answered {0} instead of 101")]
    NotSwitching(StatusCode),
    /// Client side: `Sec-WebSocket-Accept` does not match the key sent.
    #[error("bad Sec-WebSocket-Accept")]
    BadAccept,
    /// Client side: the server chose a subprotocol that was not offered.
    #[error("server chose a subprotocol that was not offered")]
    BadSubprotocol,
    /// Client side: the server's `Sec-WebSocket-Extensions` answer is not one we offered.
    #[error("bad Sec-WebSocket-Extensions answer: {0}")]
    BadExtension(String),
    /// Client side, over HTTP/2: the server did not answer the extended CONNECT with 200.
    #[error("server answered {0} instead of 200 to the extended CONNECT")]
    NotAccepted(StatusCode),
    /// Client side, over HTTP/2: the server does not allow extended CONNECT (it did not
    /// announce `SETTINGS_ENABLE_CONNECT_PROTOCOL`, RFC 8441 §3), so no WebSocket can open
    /// over this connection.
    #[error("the HTTP/2 server does not allow extended CONNECT (RFC 8441)")]
    ExtendedConnectNotEnabled,
    /// Client side, `wss://` over HTTP/2: the server did not choose `h2` by ALPN.
    #[error("the server did not choose HTTP/2 (h2) by ALPN")]
    NoHttp2,
}

impl HandshakeError {
    /// The status a server answers with: 426 for a wrong version on HTTP/1.1, 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            HandshakeError::UnsupportedVersion => StatusCode::UPGRADE_REQUIRED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether the answer names the version the server speaks (`Sec-WebSocket-Version: 13`,
    /// RFC 6455 §4.4): the client sent another.
    pub fn wants_version_field(&self) -> bool {
        matches!(
            self,
            HandshakeError::UnsupportedVersion | HandshakeError::UnsupportedVersionOverHttp2
        )
    }
}

/// Why a WebSocket connection (client or actor) failed or could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WebSocketError {
    /// The peer broke the protocol; the connection was closed with the error's close code.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The opening handshake failed.
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// The URL is not `ws://` or `wss://`, or has no host.
    #[error("bad WebSocket URL: {0}")]
    BadUrl(String),
    /// Connecting (resolving, TCP, TLS) failed.
    #[error("cannot connect: {0}")]
    Connect(#[source] cyclone_actors::tcpclient::ConnectError),
    /// The connect timeout (connection and handshake together) passed.
    #[error("timed out connecting")]
    ConnectTimeout,
    /// The handshake response was not valid HTTP.
    #[error("bad handshake response: {0}")]
    BadResponse(#[source] crate::h1::ParseError),
    /// Reading or writing the socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The connection is closed (or closing); nothing more can be sent.
    #[error("the WebSocket is closed")]
    Closed,
    /// The connection's mailbox is full: a broadcast skipped this connection.
    #[error("the WebSocket's mailbox is full")]
    Full,
    /// Over HTTP/2: the connection or the WebSocket's stream failed before the WebSocket
    /// opened (a GOAWAY, a reset, a protocol error).
    #[error("HTTP/2 error: {0}")]
    Http2(#[source] h2::Error),
}
