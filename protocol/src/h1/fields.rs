//! The header fields that decide framing and connection handling, read once while a head is
//! built, for requests and responses alike.

use super::error::ParseError;

/// What the framing-relevant fields of one head said, gathered line by line.
#[derive(Debug, Default)]
pub(crate) struct FieldFacts {
    /// The agreed `Content-Length`, if any line carried one.
    pub(crate) content_length: Option<u64>,
    /// Whether any `Transfer-Encoding` line was present; with [`TransferCodings`] it decides
    /// between chunked, an error and (for responses) a close-delimited body.
    pub(crate) transfer_encoding: Option<TransferCodings>,
    /// `Connection: close` was seen.
    pub(crate) connection_close: bool,
    /// `Connection: keep-alive` was seen; only HTTP/1.0 needs it.
    pub(crate) connection_keep_alive: bool,
    /// `Connection: upgrade` was seen.
    pub(crate) connection_upgrade: bool,
    /// An `Upgrade` field was present.
    pub(crate) upgrade: bool,
    /// How many `Host` lines there were: more than one is an error.
    pub(crate) host_count: usize,
    /// `Expect: 100-continue` was the only expectation.
    pub(crate) expect_continue: bool,
    /// Some expectation other than `100-continue` was present.
    pub(crate) expect_other: bool,
    /// A precondition field (`If-None-Match`, `If-Match`, `If-Modified-Since`,
    /// `If-Unmodified-Since`, `If-Range`) was present: the answer may be a 304 or a 412, and
    /// an unconditional request (most) skips looking for them.
    pub(crate) precondition: bool,
    /// The last `Host` value found valid, kept across the heads of one connection.
    pub(crate) host_memo: HostMemo,
}

/// The longest `Host` value [`HostMemo`] remembers. 64 bytes.
const HOST_MEMO_SIZE: usize = 64;

/// The last `Host` value that passed validation: a keep-alive client names the same host in
/// every request, and comparing bytes is cheaper than checking the grammar again.
#[derive(Debug)]
pub(crate) struct HostMemo {
    /// The value's bytes (the first `len`).
    bytes: [u8; HOST_MEMO_SIZE],
    /// How many bytes of `bytes` hold the value; 0 when nothing is remembered.
    len: usize,
}

impl Default for HostMemo {
    fn default() -> Self {
        HostMemo {
            bytes: [0; HOST_MEMO_SIZE],
            len: 0,
        }
    }
}

impl HostMemo {
    /// Validates `value`, skipping the check when it is the value validated last.
    fn validate(&mut self, value: &[u8]) -> Result<(), ParseError> {
        if self.len != 0 && self.bytes.get(..self.len) == Some(value) {
            return Ok(());
        }
        validate_host(value)?;
        if let Some(slot) = self.bytes.get_mut(..value.len()) {
            slot.copy_from_slice(value);
            self.len = value.len();
        }
        Ok(())
    }
}

/// The transfer codings listed across all `Transfer-Encoding` lines, in order.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TransferCodings {
    /// How many times `chunked` appeared: more than once is forbidden.
    chunked_count: u32,
    /// Whether `chunked` was the final coding, which alone makes the length knowable.
    chunked_last: bool,
    /// Whether a coding other than `chunked` appeared (we decode none).
    other: bool,
}

/// How a `Transfer-Encoding` list frames the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransferFraming {
    /// Exactly `chunked`.
    Chunked,
    /// `chunked` is final but other codings precede it; we cannot decode those.
    UnsupportedCoding,
    /// `chunked` is not final (or repeated, or the list is empty): the length is unknown.
    NotChunkedFinal,
}

impl TransferCodings {
    pub(crate) fn framing(&self) -> TransferFraming {
        if self.chunked_count != 1 || !self.chunked_last {
            TransferFraming::NotChunkedFinal
        } else if self.other {
            TransferFraming::UnsupportedCoding
        } else {
            TransferFraming::Chunked
        }
    }
}

impl FieldFacts {
    /// Forgets the last head's facts, keeping what holds for the connection (the memo).
    pub(crate) fn next_head(&mut self) {
        // Reset in place: rebuilding the struct around the memo would move all of it per head.
        // The destructuring makes a new field a compile error here until it is reset too.
        let FieldFacts {
            content_length,
            transfer_encoding,
            connection_close,
            connection_keep_alive,
            connection_upgrade,
            upgrade,
            host_count,
            expect_continue,
            expect_other,
            precondition,
            host_memo: _,
        } = self;
        *content_length = None;
        *transfer_encoding = None;
        *connection_close = false;
        *connection_keep_alive = false;
        *connection_upgrade = false;
        *upgrade = false;
        *host_count = 0;
        *expect_continue = false;
        *expect_other = false;
        *precondition = false;
    }

    /// Takes note of one header field line; `name` in any case, as it arrived.
    pub(crate) fn observe(&mut self, name: &[u8], value: &[u8]) -> Result<(), ParseError> {
        // Dispatch on the length first: most names are none of these, and most of those have a
        // length no framing field has.
        let is = |expected: &[u8]| name.eq_ignore_ascii_case(expected);
        match name.len() {
            4 if is(b"host") => {
                self.host_count += 1;
                self.host_memo.validate(value)
            }
            6 if is(b"expect") => {
                for expectation in list_elements(value) {
                    if expectation.eq_ignore_ascii_case(b"100-continue") {
                        self.expect_continue = true;
                    } else {
                        self.expect_other = true;
                    }
                }
                Ok(())
            }
            7 if is(b"upgrade") => {
                self.upgrade = true;
                Ok(())
            }
            10 if is(b"connection") => {
                for token in list_elements(value) {
                    if token.eq_ignore_ascii_case(b"close") {
                        self.connection_close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        self.connection_keep_alive = true;
                    } else if token.eq_ignore_ascii_case(b"upgrade") {
                        self.connection_upgrade = true;
                    }
                }
                Ok(())
            }
            14 if is(b"content-length") => self.observe_content_length(value),
            17 if is(b"transfer-encoding") => self.observe_transfer_encoding(value),
            8 if is(b"if-match") || is(b"if-range") => self.observe_precondition(),
            13 if is(b"if-none-match") => self.observe_precondition(),
            17 if is(b"if-modified-since") => self.observe_precondition(),
            19 if is(b"if-unmodified-since") => self.observe_precondition(),
            _ => Ok(()),
        }
    }

    fn observe_precondition(&mut self) -> Result<(), ParseError> {
        self.precondition = true;
        Ok(())
    }

    fn observe_content_length(&mut self, value: &[u8]) -> Result<(), ParseError> {
        // A list is tolerated only as identical repeats ("5, 5"), which RFC 9110 §8.6 lets a
        // recipient accept; an empty element is not a length.
        for element in value.split(|byte| *byte == b',') {
            let digits = trim_whitespace(element);
            let length = parse_decimal(digits).ok_or(ParseError::InvalidContentLength)?;
            match self.content_length {
                Some(previous) if previous != length => {
                    return Err(ParseError::ConflictingContentLength);
                }
                _ => self.content_length = Some(length),
            }
        }
        Ok(())
    }

    fn observe_transfer_encoding(&mut self, value: &[u8]) -> Result<(), ParseError> {
        let codings = self.transfer_encoding.get_or_insert_with(Default::default);
        for coding in list_elements(value) {
            if coding.iter().any(|byte| byte.is_ascii_control()) {
                return Err(ParseError::InvalidTransferEncoding);
            }
            if coding.eq_ignore_ascii_case(b"chunked") {
                codings.chunked_count += 1;
                codings.chunked_last = true;
            } else {
                codings.other = true;
                codings.chunked_last = false;
            }
        }
        Ok(())
    }
}

/// The non-empty, whitespace-trimmed elements of a comma-separated field value (RFC 9110 §5.6.1:
/// empty elements are ignored).
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|byte| *byte == b',')
        .map(trim_whitespace)
        .filter(|element| !element.is_empty())
}

fn trim_whitespace(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// 1*DIGIT as a u64; `None` for anything else, including a sign or an overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |total, byte| {
        if byte.is_ascii_digit() {
            total.checked_mul(10)?.checked_add(u64::from(byte - b'0'))
        } else {
            None
        }
    })
}

/// `Host = uri-host [ ":" port ]`; an empty value is allowed (RFC 9110 §7.2).
///
/// Checked against RFC 3986's grammar in place: every request carries a `Host`, and building an
/// `http::uri::Authority` to check it would copy the value into a fresh allocation.
fn validate_host(value: &[u8]) -> Result<(), ParseError> {
    // RFC 3986 allows a comma in a reg-name, DNS does not, and a proxy that joins repeated
    // `Host` lines makes `a, b` of two: refused, as Tornado does, so that a duplicate smuggled
    // through a proxy is not read as one host.
    if value.contains(&b',') {
        return Err(ParseError::InvalidHost);
    }
    let (host_ok, port) = match value.strip_prefix(b"[") {
        // IP-literal = "[" ( IPv6address / IPvFuture ) "]"
        Some(rest) => {
            let end = memchr::memchr(b']', rest).ok_or(ParseError::InvalidHost)?;
            let port = match &rest[end + 1..] {
                [] => None,
                [b':', port @ ..] => Some(port),
                _ => return Err(ParseError::InvalidHost),
            };
            (is_ip_literal(&rest[..end]), port)
        }
        // Host values are short: a plain scan beats memchr's vector set-up here.
        None => match value.iter().position(|&byte| byte == b':') {
            Some(colon) => (is_reg_name(&value[..colon]), Some(&value[colon + 1..])),
            None => (is_reg_name(value), None),
        },
    };
    let port_ok = port.is_none_or(|port| port.iter().all(u8::is_ascii_digit));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(ParseError::InvalidHost)
    }
}

/// `reg-name = *( unreserved / pct-encoded / sub-delims )`, which also covers IPv4 addresses.
fn is_reg_name(name: &[u8]) -> bool {
    // The common case, a name without escapes, is one table lookup per byte.
    if name.iter().all(|&byte| HOST_CHARS[usize::from(byte)]) {
        return true;
    }
    let mut index = 0;
    while let Some(&byte) = name.get(index) {
        if byte == b'%' {
            let escaped = name
                .get(index + 1..index + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
            if !escaped {
                return false;
            }
            index += 3;
        } else if HOST_CHARS[usize::from(byte)] {
            index += 1;
        } else {
            return false;
        }
    }
    true
}

/// `unreserved / sub-delims`: the bytes a reg-name may hold as they are.
static HOST_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = is_unreserved(byte as u8) || is_sub_delim(byte as u8);
        byte += 1;
    }
    table
};

/// The inside of `[...]`: an IPv6 address (hex digits, colons, a dotted IPv4 tail) or an
/// `IPvFuture` (`v` HEXDIG "." 1*( unreserved / sub-delims / ":" )).
fn is_ip_literal(literal: &[u8]) -> bool {
    match literal {
        [] => false,
        [b'v' | b'V', rest @ ..] => rest
            .iter()
            .all(|&byte| is_unreserved(byte) || is_sub_delim(byte) || byte == b':'),
        _ => literal
            .iter()
            .all(|&byte| byte.is_ascii_hexdigit() || byte == b':' || byte == b'.'),
    }
}

/// `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"` (RFC 3986 §2.3).
const fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// `sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="`.
const fn is_sub_delim(byte: u8) -> bool {
    matches!(
        byte,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_rejects_signs_and_overflow() {
        assert_eq!(parse_decimal(b"0"), Some(0));
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
        assert_eq!(parse_decimal(b"+5"), None);
        assert_eq!(parse_decimal(b"-5"), None);
        assert_eq!(parse_decimal(b""), None);
    }

    #[test]
    fn host_follows_rfc_3986() {
        for good in [
            &b""[..],
            b"example.com",
            b"example.com:8080",
            b"127.0.0.1:80",
            b"[::1]",
            b"[::1]:8888",
            b"[v1.fe]",
            b"a%20b",
            b"host:",
        ] {
            assert!(
                validate_host(good).is_ok(),
                "{:?}",
                String::from_utf8_lossy(good)
            );
        }
        for bad in [
            &b"user@host"[..],
            b"a b",
            b"host:80x",
            b"host:80:90",
            b"[::1",
            b"[::1]x",
            b"[]",
            b"a%2",
            b"a%zz",
            b"a/b",
            b"a\"b",
        ] {
            assert!(
                validate_host(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_remembered_host_is_still_checked_when_it_changes() {
        let mut memo = HostMemo::default();
        assert!(memo.validate(b"example.com:80").is_ok());
        assert!(memo.validate(b"example.com:80").is_ok());
        assert!(memo.validate(b"exa mple.com").is_err());
        assert!(memo.validate(b"example.com:80").is_ok());
        assert!(memo.validate(b"").is_ok());
        let long = [b'a'; HOST_MEMO_SIZE + 1];
        assert!(memo.validate(&long).is_ok());
        assert!(memo.validate(b"a b").is_err());
    }

    #[test]
    fn list_elements_skip_empty_and_trim() {
        let elements: Vec<&[u8]> = list_elements(b" a ,, b\t,").collect();
        assert_eq!(elements, vec![&b"a"[..], &b"b"[..]]);
    }
}
