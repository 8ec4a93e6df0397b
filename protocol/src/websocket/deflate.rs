//! permessage-deflate (RFC 7692): negotiating its four parameters, and each connection's
//! compressor and decompressor.
//!
//! # Memory
//!
//! zlib's compressor needs about `4 << window_bits` bytes plus 128 KiB of hash tables, its
//! decompressor `1 << window_bits` plus about 7 KiB: some 300 KiB per connection at the
//! default 15-bit windows, against a few KiB for an uncompressed connection. So:
//!
//! - by default a server answers every offer with `server_no_context_takeover` and
//!   `client_no_context_takeover` (RFC 7692 §7.1.1.1 and §7.1.1.2 let it add both to any
//!   answer): no zlib state need outlive a message, each message borrows its compressor or
//!   decompressor from the loop ([`loop_zlib`](super::loop_zlib)), and an idle compressed
//!   connection holds none. A message written to many connections is then compressed once per
//!   loop and window size;
//! - with [`DeflateConfig::context_takeover`] the contexts live as long as the connection, and
//!   a server shrinks its own window (which it may always do) until the estimate fits
//!   [`DeflateConfig::memory_budget`], declining compression if even 9-bit windows do not.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::Message;
use super::error::ProtocolError;
use super::loop_zlib;

/// The extension token in `Sec-WebSocket-Extensions`.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";
/// Memory a connection's compression contexts may take, by the estimate in the
/// [module docs](crate::websocket). 320 KiB (both 15-bit windows fit).
pub const DEFAULT_MEMORY_BUDGET: usize = 320 * 1024;
/// The trailer every sync flush ends with, stripped from each message (RFC 7692 §7.2.1).
const SYNC_TRAILER: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];
/// zlib cannot compress with an 8-bit raw window; 9 is the smallest it uses.
const MIN_ZLIB_WINDOW_BITS: u8 = 9;

/// What this side wants from permessage-deflate: offered by a client, the most a server
/// accepts. Names follow RFC 7692 (`server_*` is about what the server sends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Largest LZ77 window the server compresses with (9..=15).
    server_max_window_bits: u8,
    /// Largest LZ77 window the client compresses with (9..=15).
    client_max_window_bits: u8,
    /// The server starts each message with an empty window (frees its compressor between
    /// messages).
    server_no_context_takeover: bool,
    /// The client starts each message with an empty window.
    client_no_context_takeover: bool,
    /// zlib level 0..=9.
    level: u32,
    /// See [`memory_budget`](Self::memory_budget).
    memory_budget: usize,
    /// See [`context_takeover`](Self::context_takeover).
    context_takeover: bool,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            level: 6,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            context_takeover: false,
        }
    }
}

impl DeflateConfig {
    /// 15-bit windows both ways, level 6. A server answers with both `*_no_context_takeover`
    /// parameters (see [`context_takeover`](Self::context_takeover)); a client offers context
    /// takeover both ways and follows the answer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Server side: whether connections may keep their zlib contexts from one message to the
    /// next (RFC 7692's context takeover), when the client allows it.
    ///
    /// - `false` (the default): every answer carries `server_no_context_takeover` and
    ///   `client_no_context_takeover`, so each message is compressed and inflated on its own
    ///   with zlib contexts lent by the loop; an idle compressed connection costs what an
    ///   uncompressed one does, and one message written to many connections (a room's
    ///   broadcast) is compressed once per loop and window size.
    /// - `true`: Tornado's behaviour. Similar consecutive messages compress better, but each
    ///   connection holds its contexts (about 300 KiB at 15-bit windows) for its whole life,
    ///   within [`memory_budget`](Self::memory_budget), and compresses every message itself.
    ///
    /// A client's offer does not depend on it (see
    /// [`server_no_context_takeover`](Self::server_no_context_takeover)).
    pub fn context_takeover(mut self, on: bool) -> Self {
        self.context_takeover = on;
        self
    }

    /// Largest window the server compresses with, clamped to 9..=15. Default is 15.
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(MIN_ZLIB_WINDOW_BITS, 15);
        self
    }

    /// Largest window the client compresses with, clamped to 9..=15. Default is 15.
    pub fn client_max_window_bits(mut self, bits: u8) -> Self {
        self.client_max_window_bits = bits.clamp(MIN_ZLIB_WINDOW_BITS, 15);
        self
    }

    /// Client: ask the server to compress each message on its own. Server: always answer with
    /// it (which [`context_takeover`](Self::context_takeover)`(false)` already does). Default is
    /// `false`.
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Client: compress each message on its own, and say so in the offer. Server: always ask
    /// the client for it (which [`context_takeover`](Self::context_takeover)`(false)` already
    /// does). Default is `false`.
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// zlib compression level, clamped to 0..=9 (Tornado's `compression_level`). Default is 6.
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Most memory one connection's own compression contexts may take, server side, with
    /// [`context_takeover`](Self::context_takeover); see the [module docs](crate::websocket).
    /// Contexts lent by the loop do not count. Default is 320 KiB.
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// The zlib level in use.
    pub(crate) fn zlib_level(&self) -> u32 {
        self.level
    }

    /// The client's `Sec-WebSocket-Extensions` offer for this configuration.
    pub fn client_offer(&self) -> String {
        let mut offer = String::from(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        if self.server_max_window_bits < 15 {
            offer.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.client_max_window_bits < 15 {
            offer.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        } else {
            // Says we can compress with a smaller window if the server asks.
            offer.push_str("; client_max_window_bits");
        }
        offer
    }
}

/// The parameters both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// Window the server compresses with.
    pub server_max_window_bits: u8,
    /// Window the client compresses with.
    pub client_max_window_bits: u8,
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
}

impl DeflateParams {
    /// The `Sec-WebSocket-Extensions` value a server answers with.
    pub fn response_header(&self, client_offered_window: bool) -> String {
        let mut answer = String::from(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            answer.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            answer.push_str("; client_no_context_takeover");
        }
        if self.server_max_window_bits < 15 {
            answer.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if client_offered_window && self.client_max_window_bits < 15 {
            answer.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        answer
    }
}

/// One `name[=value]` extension parameter.
type Param<'a> = (&'a str, Option<&'a str>);

/// Splits a `Sec-WebSocket-Extensions` value into extensions and their parameters.
fn parse_extensions(value: &str) -> Vec<(&str, Vec<Param<'_>>)> {
    value
        .split(',')
        .filter_map(|extension| {
            let mut parts = extension.split(';').map(str::trim);
            let name = parts.next().filter(|name| !name.is_empty())?;
            let params = parts
                .filter(|part| !part.is_empty())
                .map(|part| match part.split_once('=') {
                    Some((key, value)) => (key.trim(), Some(value.trim().trim_matches('"'))),
                    None => (part, None),
                })
                .collect();
            Some((name, params))
        })
        .collect()
}

/// A window-bits value: 8..=15 digits.
fn window_bits(value: &str) -> Option<u8> {
    if value.is_empty() || value.len() > 2 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

/// The parameters of one permessage-deflate offer or answer, each seen at most once.
#[derive(Debug, Default)]
struct Seen {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (client offers only).
    client_max_window_bits: Option<Option<u8>>,
}

fn read_params(params: &[Param<'_>], client_bits_may_lack_value: bool) -> Option<Seen> {
    let mut seen = Seen::default();
    for &(key, value) in params {
        match (key, value) {
            ("server_no_context_takeover", None) if !seen.server_no_context_takeover => {
                seen.server_no_context_takeover = true;
            }
            ("client_no_context_takeover", None) if !seen.client_no_context_takeover => {
                seen.client_no_context_takeover = true;
            }
            ("server_max_window_bits", Some(value)) if seen.server_max_window_bits.is_none() => {
                seen.server_max_window_bits = Some(window_bits(value)?);
            }
            ("client_max_window_bits", value) if seen.client_max_window_bits.is_none() => {
                seen.client_max_window_bits = Some(match value {
                    Some(value) => Some(window_bits(value)?),
                    None if client_bits_may_lack_value => None,
                    None => return None,
                });
            }
            _ => return None,
        }
    }
    Some(seen)
}

/// Memory zlib needs for a compressor with this window.
fn deflate_estimate(bits: u8) -> usize {
    (4usize << bits) + 128 * 1024
}

/// Memory zlib needs for a decompressor with this window.
fn inflate_estimate(bits: u8) -> usize {
    (1usize << bits) + 7 * 1024
}

/// Server side: picks the first acceptable permessage-deflate offer in the client's
/// `Sec-WebSocket-Extensions` values. Returns the agreed parameters and the answer header value,
/// or `None` (compression off) when no offer fits `config`.
pub fn negotiate<'a>(
    offers: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
) -> Option<(DeflateParams, String)> {
    negotiate_for(offers, config, false)
}

/// [`negotiate`] for a client that cannot hear `client_no_context_takeover`: Tornado's
/// (6.6's `httputil._parse_header` drops parameters without a value, so its client goes on
/// compressing with context takeover after agreeing to the parameter, and its second message
/// would not inflate). Such a client is left its context takeover, and the server keeps an
/// inflater for it (about 40 KiB at 15 bits); our side still compresses each message alone,
/// which any inflater reads.
pub(crate) fn negotiate_for<'a>(
    offers: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
    deaf_to_client_no_context_takeover: bool,
) -> Option<(DeflateParams, String)> {
    for value in offers {
        for (name, params) in parse_extensions(value) {
            if !name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
                continue;
            }
            let Some(seen) = read_params(&params, true) else {
                continue;
            };
            // zlib cannot compress with an 8-bit window; a client insisting on one gets none.
            let mut server_bits = config.server_max_window_bits;
            if let Some(bits) = seen.server_max_window_bits {
                if bits < MIN_ZLIB_WINDOW_BITS {
                    continue;
                }
                server_bits = server_bits.min(bits);
            }
            let client_offered_window = seen.client_max_window_bits.is_some();
            let client_bits = match seen.client_max_window_bits {
                Some(offered) => offered.unwrap_or(15).min(config.client_max_window_bits),
                // The client did not say it can use a smaller window: it compresses with 15.
                None => 15,
            };
            let server_no_context_takeover = seen.server_no_context_takeover
                || config.server_no_context_takeover
                || !config.context_takeover;
            let client_no_context_takeover = seen.client_no_context_takeover
                || config.client_no_context_takeover
                || (!config.context_takeover && !deaf_to_client_no_context_takeover);
            // Only contexts a connection keeps between messages count against its budget;
            // those lent by the loop for one message do not.
            let inflate_bits = client_bits.max(MIN_ZLIB_WINDOW_BITS);
            let kept = |server_bits: u8| {
                let deflate = if server_no_context_takeover {
                    0
                } else {
                    deflate_estimate(server_bits)
                };
                let inflate = if client_no_context_takeover {
                    0
                } else {
                    inflate_estimate(inflate_bits)
                };
                deflate + inflate
            };
            while server_bits > MIN_ZLIB_WINDOW_BITS && kept(server_bits) > config.memory_budget {
                server_bits -= 1;
            }
            if kept(server_bits) > config.memory_budget {
                continue;
            }
            let params = DeflateParams {
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
                server_no_context_takeover,
                client_no_context_takeover,
            };
            let answer = params.response_header(client_offered_window);
            return Some((params, answer));
        }
    }
    None
}

/// Client side: checks the server's answer to [`DeflateConfig::client_offer`].
pub fn accept_answer(value: &str, config: &DeflateConfig) -> Result<DeflateParams, String> {
    let extensions = parse_extensions(value);
    let [(name, params)] = extensions.as_slice() else {
        return Err(format!("expected one extension, got {value:?}"));
    };
    if !name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
        return Err(format!("extension {name:?} was not offered"));
    }
    let seen = read_params(params, false).ok_or_else(|| format!("bad parameters in {value:?}"))?;
    if config.server_no_context_takeover && !seen.server_no_context_takeover {
        return Err("server_no_context_takeover was asked for and not granted".into());
    }
    let server_bits = seen.server_max_window_bits.unwrap_or(15);
    if server_bits > config.server_max_window_bits {
        return Err("server_max_window_bits larger than offered".into());
    }
    let client_bits = match seen.client_max_window_bits.flatten() {
        Some(bits) if bits < MIN_ZLIB_WINDOW_BITS => {
            return Err("client_max_window_bits=8 cannot be honoured by zlib".into());
        }
        Some(bits) => bits.min(config.client_max_window_bits),
        None => config.client_max_window_bits,
    };
    Ok(DeflateParams {
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
        server_no_context_takeover: seen.server_no_context_takeover,
        client_no_context_takeover: seen.client_no_context_takeover
            || config.client_no_context_takeover,
    })
}

/// One connection's compression state: compresses what this side sends, inflates what the
/// peer sends. A side without context takeover borrows the loop's zlib contexts
/// ([`loop_zlib`](super::loop_zlib)) per message and holds none in between; a side with it owns
/// its context for the connection's life.
#[derive(Debug)]
pub(crate) struct DeflateContext {
    /// Our compressor, with context takeover only (created on first use).
    compressor: Option<Compress>,
    /// The peer's messages' decompressor: owned for the connection's life with context
    /// takeover; without it, borrowed from the loop while a fragmented message is in progress.
    decompressor: Option<Decompress>,
    /// Our window.
    compress_bits: u8,
    /// The peer's window.
    decompress_bits: u8,
    /// Each of our messages is compressed alone (borrowed compressor, broadcast cache).
    compress_reset: bool,
    /// Each of the peer's messages is inflated alone (borrowed decompressor).
    decompress_reset: bool,
    /// zlib level.
    level: u32,
}

impl DeflateContext {
    /// The context for the side `is_server` of a connection with `params`.
    pub(crate) fn new(params: DeflateParams, is_server: bool, level: u32) -> Self {
        let (ours, theirs, our_reset, their_reset) = if is_server {
            (
                params.server_max_window_bits,
                params.client_max_window_bits,
                params.server_no_context_takeover,
                params.client_no_context_takeover,
            )
        } else {
            (
                params.client_max_window_bits,
                params.server_max_window_bits,
                params.client_no_context_takeover,
                params.server_no_context_takeover,
            )
        };
        DeflateContext {
            compressor: None,
            decompressor: None,
            compress_bits: ours.max(MIN_ZLIB_WINDOW_BITS),
            decompress_bits: theirs.max(MIN_ZLIB_WINDOW_BITS),
            compress_reset: our_reset,
            decompress_reset: their_reset,
            level,
        }
    }

    /// zlib memory this connection holds right now (by the estimate in the module docs): 0 for
    /// an idle connection without context takeover.
    pub(crate) fn held_bytes(&self) -> usize {
        let compress = self
            .compressor
            .as_ref()
            .map_or(0, |_| deflate_estimate(self.compress_bits));
        let decompress = self.decompressor.as_ref().map_or(0, |_| {
            if self.decompress_reset {
                inflate_estimate(15)
            } else {
                inflate_estimate(self.decompress_bits)
            }
        });
        compress + decompress
    }

    /// Compresses one whole message payload into `out` (the trailer stripped). `message` is
    /// the payload's owner: without context takeover, its buffer identifies the payload in
    /// the loop's broadcast cache.
    pub(crate) fn compress(&mut self, message: &Message, payload: &[u8], out: &mut Vec<u8>) {
        if self.compress_reset {
            loop_zlib::compress_alone(
                message,
                payload,
                self.compress_bits,
                self.level,
                out,
                compress_message,
            );
        } else {
            let (bits, level) = (self.compress_bits, self.level);
            let compressor = self.compressor.get_or_insert_with(|| {
                Compress::new_with_window_bits(Compression::new(level), false, bits)
            });
            compress_message(compressor, payload, out);
        }
    }

    /// Inflates one frame's payload of a compressed message onto `out`; `last` marks the
    /// message's final frame. `out` may not grow past `max` bytes.
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        last: bool,
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<(), ProtocolError> {
        let result = self.inflate(input, out, max).and_then(|()| {
            if last {
                self.inflate(&SYNC_TRAILER, out, max)
            } else {
                Ok(())
            }
        });
        // A failed connection is closed: its decompressor is of no more use to it. Without
        // context takeover it goes back to the loop (reset) after every message.
        if (last || result.is_err())
            && self.decompress_reset
            && let Some(decompressor) = self.decompressor.take()
        {
            loop_zlib::return_decompressor(decompressor);
        }
        result
    }

    fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<(), ProtocolError> {
        let (bits, borrowed) = (self.decompress_bits, self.decompress_reset);
        let decompressor = self.decompressor.get_or_insert_with(|| {
            if borrowed {
                loop_zlib::borrow_decompressor()
            } else {
                Decompress::new_with_window_bits(false, bits)
            }
        });
        let start_in = decompressor.total_in();
        loop {
            let consumed = (decompressor.total_in() - start_in) as usize;
            let room = max.saturating_sub(out.len()) + 1;
            if out.capacity() - out.len() < 1024.min(room) {
                out.reserve((input.len() * 2).clamp(1024, 64 * 1024).min(room));
            }
            let before_out = decompressor.total_out();
            let status = decompressor
                .decompress_vec(&input[consumed..], out, FlushDecompress::Sync)
                .map_err(|_| ProtocolError::BadCompression)?;
            if out.len() > max {
                return Err(ProtocolError::MessageTooBig { limit: max });
            }
            let consumed = (decompressor.total_in() - start_in) as usize;
            let produced = decompressor.total_out() - before_out;
            if status == Status::StreamEnd {
                // A final block ends the peer's context; the next message starts afresh.
                if let Some(ended) = self.decompressor.take()
                    && borrowed
                {
                    loop_zlib::return_decompressor(ended);
                }
                return Ok(());
            }
            if consumed == input.len() && (out.len() < out.capacity() || produced == 0) {
                return Ok(());
            }
            if produced == 0 && consumed < input.len() && status == Status::BufError {
                return Err(ProtocolError::BadCompression);
            }
        }
    }
}

/// Compresses one message's payload with `compressor`, appending to `out` without the sync
/// flush's trailer.
fn compress_message(compressor: &mut Compress, payload: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let start_in = compressor.total_in();
    out.reserve(payload.len() / 2 + 64);
    loop {
        let consumed = (compressor.total_in() - start_in) as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(256));
        }
        // Compressing from memory into a Vec cannot fail: zlib's only errors are for bad
        // streams or parameters, which this code never builds.
        if compressor
            .compress_vec(&payload[consumed..], out, FlushCompress::Sync)
            .is_err()
        {
            break;
        }
        let consumed = (compressor.total_in() - start_in) as usize;
        if consumed == payload.len() && out.len() < out.capacity() {
            break;
        }
    }
    if out[start..].ends_with(&SYNC_TRAILER) {
        out.truncate(out.len() - SYNC_TRAILER.len());
    }
    if out.len() == start {
        // zlib emits nothing for an empty message right after a flush; RFC 7692 §7.2.3.6
        // sends it as one empty stored block, 0x00 once the trailer is stripped.
        out.push(0x00);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(
        server_bits: u8,
        client_bits: u8,
        server_reset: bool,
        client_reset: bool,
    ) -> DeflateParams {
        DeflateParams {
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
            server_no_context_takeover: server_reset,
            client_no_context_takeover: client_reset,
        }
    }

    #[test]
    fn round_trips_with_every_parameter_set() {
        let text = b"Hello, hello, hello, WebSocket compression! ".repeat(50);
        for (sb, cb, sr, cr) in [
            (15, 15, false, false),
            (9, 9, false, false),
            (15, 12, true, false),
            (10, 15, false, true),
            (9, 9, true, true),
        ] {
            let agreed = params(sb, cb, sr, cr);
            let mut server = DeflateContext::new(agreed, true, 6);
            let mut client = DeflateContext::new(agreed, false, 6);
            let mut sizes = Vec::new();
            let message = Message::binary(text.clone());
            for _ in 0..3 {
                let mut wire = Vec::new();
                server.compress(&message, &text, &mut wire);
                sizes.push(wire.len());
                let mut back = Vec::new();
                client.decompress(&wire, true, &mut back, 1 << 20).unwrap();
                assert_eq!(back, text);
                let mut wire = Vec::new();
                client.compress(&message, &text, &mut wire);
                let mut back = Vec::new();
                // Split the compressed message into two frames.
                let half = wire.len() / 2;
                server
                    .decompress(&wire[..half], false, &mut back, 1 << 20)
                    .unwrap();
                server
                    .decompress(&wire[half..], true, &mut back, 1 << 20)
                    .unwrap();
                assert_eq!(back, text);
            }
            if sr {
                assert_eq!(
                    sizes[0], sizes[1],
                    "no context takeover: each message alone"
                );
            } else {
                assert!(
                    sizes[1] < sizes[0],
                    "context takeover shrinks repeats: {sizes:?}"
                );
            }
        }
    }

    #[test]
    fn inflation_is_bounded() {
        let agreed = params(15, 15, false, false);
        let mut server = DeflateContext::new(agreed, true, 6);
        let mut wire = Vec::new();
        let zeros = vec![0u8; 100_000];
        server.compress(&Message::binary(zeros.clone()), &zeros, &mut wire);
        let mut client = DeflateContext::new(agreed, false, 6);
        let mut back = Vec::new();
        assert_eq!(
            client.decompress(&wire, true, &mut back, 10_000),
            Err(ProtocolError::MessageTooBig { limit: 10_000 })
        );
        assert!(back.capacity() < 100_000);
    }

    #[test]
    fn server_negotiation_follows_rfc_7692() {
        let config = DeflateConfig::new().context_takeover(true);
        let (agreed, answer) =
            negotiate(["permessage-deflate; client_max_window_bits"], &config).unwrap();
        assert_eq!(agreed, params(15, 15, false, false));
        assert_eq!(answer, "permessage-deflate");
        let (agreed, answer) = negotiate(
            ["x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover; client_max_window_bits=10"],
            &config,
        )
        .unwrap();
        assert_eq!(agreed, params(15, 10, true, false));
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
        );
        // Duplicates, unknown parameters and bad values decline the offer.
        for bad in [
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; foo",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; server_no_context_takeover=1",
        ] {
            assert_eq!(negotiate([bad], &config), None, "{bad}");
        }
        // Without client_max_window_bits the client compresses with 15 bits.
        let small = DeflateConfig::new()
            .context_takeover(true)
            .client_max_window_bits(9)
            .memory_budget(200 * 1024);
        let (agreed, answer) = negotiate(["permessage-deflate"], &small).unwrap();
        assert_eq!(agreed.client_max_window_bits, 15);
        assert!(
            agreed.server_max_window_bits < 15,
            "budget shrinks our window"
        );
        assert!(answer.contains("server_max_window_bits="));
        assert_eq!(
            negotiate(
                ["permessage-deflate"],
                &DeflateConfig::new()
                    .context_takeover(true)
                    .memory_budget(1024)
            ),
            None
        );
    }

    #[test]
    fn server_answers_without_context_takeover_by_default() {
        let config = DeflateConfig::new();
        // Chromium's offer, and Python websockets' (which asks for no parameter but the
        // client's window).
        for offer in [
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate",
        ] {
            let (agreed, answer) = negotiate([offer], &config).unwrap();
            assert_eq!(agreed, params(15, 15, true, true), "{offer}");
            assert_eq!(
                answer,
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
            );
        }
        // Windows are not shrunk for a budget that lent contexts do not count against.
        let (agreed, _) = negotiate(
            ["permessage-deflate; client_max_window_bits=10"],
            &DeflateConfig::new().memory_budget(1024),
        )
        .unwrap();
        assert_eq!(agreed, params(15, 10, true, true));
    }

    #[test]
    fn an_idle_context_without_takeover_holds_nothing() {
        let text = b"{\"user\":\"ann\",\"text\":\"hello there\"}".repeat(20);
        let message = Message::binary(text.clone());
        let mut reset = DeflateContext::new(params(15, 15, true, true), true, 6);
        let mut kept = DeflateContext::new(params(15, 15, false, false), true, 6);
        for context in [&mut reset, &mut kept] {
            let mut wire = Vec::new();
            context.compress(&message, &text, &mut wire);
            let mut back = Vec::new();
            let mut peer = DeflateContext::new(params(15, 15, true, true), false, 6);
            peer.decompress(&wire, true, &mut back, 1 << 20).unwrap();
            assert_eq!(back, text);
            let mut client_wire = Vec::new();
            peer.compress(&message, &text, &mut client_wire);
            let mut back = Vec::new();
            context
                .decompress(&client_wire, true, &mut back, 1 << 20)
                .unwrap();
            assert_eq!(back, text);
        }
        assert_eq!(reset.held_bytes(), 0);
        assert!(kept.held_bytes() > 128 * 1024, "{}", kept.held_bytes());
        // Mid-way through a fragmented message the lent decompressor is held, then returned.
        let mut wire = Vec::new();
        DeflateContext::new(params(15, 15, true, true), false, 6).compress(
            &Message::binary(text.clone()),
            &text,
            &mut wire,
        );
        let mut back = Vec::new();
        let half = wire.len() / 2;
        reset
            .decompress(&wire[..half], false, &mut back, 1 << 20)
            .unwrap();
        assert!(reset.held_bytes() > 0);
        reset
            .decompress(&wire[half..], true, &mut back, 1 << 20)
            .unwrap();
        assert_eq!(back, text);
        assert_eq!(reset.held_bytes(), 0);
    }

    #[test]
    fn one_buffer_is_compressed_once_per_window_size() {
        let text = b"broadcast to the room, the same bytes for everyone ".repeat(8);
        let message = Message::binary(text.clone());
        let before = loop_zlib::broadcast_counts();
        let mut outputs = Vec::new();
        for bits in [15, 15, 15, 10, 10] {
            let mut member = DeflateContext::new(params(bits, 15, true, true), true, 6);
            let mut wire = Vec::new();
            member.compress(&message.clone(), &text, &mut wire);
            let mut back = Vec::new();
            DeflateContext::new(params(bits, 15, true, true), false, 6)
                .decompress(&wire, true, &mut back, 1 << 20)
                .unwrap();
            assert_eq!(back, text);
            outputs.push(wire);
        }
        let after = loop_zlib::broadcast_counts();
        assert_eq!(after.compressed - before.compressed, 2);
        assert_eq!(after.reused - before.reused, 3);
        // Another buffer with the same bytes is compressed again (identity, not content).
        let copy = Message::binary(text.clone());
        let mut wire = Vec::new();
        DeflateContext::new(params(15, 15, true, true), true, 6).compress(&copy, &text, &mut wire);
        assert_eq!(wire, outputs[0]);
        assert_eq!(
            loop_zlib::broadcast_counts().compressed - after.compressed,
            1
        );
    }

    #[test]
    fn client_checks_the_answer() {
        let config = DeflateConfig::new();
        assert!(config.client_offer().contains("client_max_window_bits"));
        assert_eq!(
            accept_answer("permessage-deflate", &config).unwrap(),
            params(15, 15, false, false)
        );
        assert_eq!(
            accept_answer(
                "permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
                &config
            )
            .unwrap(),
            params(15, 10, true, false)
        );
        assert!(accept_answer("permessage-deflate; client_max_window_bits", &config).is_err());
        assert!(accept_answer("permessage-deflate; foo=1", &config).is_err());
        assert!(accept_answer("other", &config).is_err());
        let asking = DeflateConfig::new().server_max_window_bits(10);
        assert!(accept_answer("permessage-deflate", &asking).is_err());
    }
}
