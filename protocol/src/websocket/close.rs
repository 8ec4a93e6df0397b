//! Close codes (RFC 6455 §7.4) and the close frame's payload: which codes a peer may send, and
//! how a close payload is read and written.

use bytes::{BufMut, Bytes, BytesMut};

use super::error::ProtocolError;

/// A close status code (RFC 6455 §7.4.1), with the codes this crate sends as constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol (bad frame, bad close code, bad extension bits).
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint does not accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1007: a text message that is not UTF-8, or a bad compressed payload.
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a policy was violated (for applications; a peer that stops reading is dropped
    /// without a close frame, which could not get through).
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message larger than `max_message_size`.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1011: the endpoint hit an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// Whether a peer may put this code on the wire (RFC 6455 §7.4): 1000–1003, 1007–1011 and
    /// the registered/private ranges 3000–4999. 1004–1006, 1015 and 1012–2999 are reserved or
    /// must never be sent; a peer that sends one broke the protocol (we answer 1002).
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1011 | 3000..=4999)
    }
}

/// A close frame's payload: a code and a UTF-8 reason of at most 123 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// Why the connection closes.
    pub code: CloseCode,
    /// Free text for humans; may be empty.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with `code` and `reason` (cut to 123 bytes at a character boundary, the
    /// most a control frame holds next to the code).
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        if reason.len() > 123 {
            let mut end = 123;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        CloseFrame { code, reason }
    }
}

/// Reads a close frame's payload from the peer: empty (no code), or a sendable code and a UTF-8
/// reason. One byte, an unsendable code or a non-UTF-8 reason is an error.
pub(crate) fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::BadClosePayload),
        [high, low, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*high, *low]));
            if !code.is_sendable() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.to_owned(),
            }))
        }
    }
}

/// The payload of a close frame we send.
pub(crate) fn close_payload(frame: Option<&CloseFrame>) -> Bytes {
    match frame {
        None => Bytes::new(),
        Some(frame) => {
            let mut payload = BytesMut::with_capacity(2 + frame.reason.len());
            payload.put_u16(frame.code.0);
            payload.put_slice(frame.reason.as_bytes());
            payload.freeze()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_follow_rfc_6455() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999,
        ] {
            assert!(CloseCode(code).is_sendable(), "{code}");
        }
        for code in [
            0, 999, 1004, 1005, 1006, 1012, 1015, 1016, 2999, 5000, 65535,
        ] {
            assert!(!CloseCode(code).is_sendable(), "{code}");
        }
    }

    #[test]
    fn close_payloads_are_checked() {
        assert_eq!(parse_close_payload(b"").unwrap(), None);
        assert!(matches!(
            parse_close_payload(b"\x03"),
            Err(ProtocolError::BadClosePayload)
        ));
        assert!(matches!(
            parse_close_payload(b"\x03\xed"),
            Err(ProtocolError::InvalidCloseCode(1005))
        ));
        assert!(matches!(
            parse_close_payload(b"\x03\xe8\xff"),
            Err(ProtocolError::InvalidUtf8)
        ));
        let frame = parse_close_payload(b"\x03\xe8bye").unwrap().unwrap();
        assert_eq!(frame, CloseFrame::new(CloseCode::NORMAL, "bye"));
        assert_eq!(&close_payload(Some(&frame))[..], b"\x03\xe8bye");
        assert_eq!(
            CloseFrame::new(CloseCode::NORMAL, "é".repeat(100))
                .reason
                .len(),
            122
        );
    }
}
