//! permessage-deflate (RFC 7692): negotiating its four parameters, and the per-connection
//! compressor and decompressor.
//!
//! # Memory
//!
//! zlib's compressor needs about `4 << window_bits` bytes plus 128 KiB of hash tables, its
//! decompressor `1 << window_bits` plus about 7 KiB: some 300 KiB per connection at the
//! default 15-bit windows, against a few KiB for an uncompressed connection. So:
//!
//! - a server shrinks its own window (which it may always do) until the estimate fits
//!   [`DeflateConfig::memory_budget`], and declines compression if even 9-bit windows do not;
//! - with `*_no_context_takeover` the contexts are freed after every message, so an idle
//!   connection holds none; with context takeover they live as long as the connection.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::error::ProtocolError;

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
        }
    }
}

impl DeflateConfig {
    /// 15-bit windows both ways, context takeover both ways, level 6, a 320 KiB budget.
    pub fn new() -> Self {
        Self::default()
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

    /// Whether the server compresses each message on its own. Default is `false`.
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Whether the client compresses each message on its own. Default is `false`.
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// zlib compression level, clamped to 0..=9 (Tornado's `compression_level`). Default is 6.
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Most memory one connection's compression contexts may take (server side); see the
    /// [module docs](crate::websocket). Default is 320 KiB.
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

/// Memory zlib needs for a compressor and a decompressor with these windows.
fn memory_estimate(compress_bits: u8, decompress_bits: u8) -> usize {
    (4usize << compress_bits) + 128 * 1024 + (1usize << decompress_bits) + 7 * 1024
}

/// Server side: picks the first acceptable permessage-deflate offer in the client's
/// `Sec-WebSocket-Extensions` values. Returns the agreed parameters and the answer header value,
/// or `None` (compression off) when no offer fits `config`.
pub fn negotiate<'a>(
    offers: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
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
            let inflate_bits = client_bits.max(MIN_ZLIB_WINDOW_BITS);
            while server_bits > MIN_ZLIB_WINDOW_BITS
                && memory_estimate(server_bits, inflate_bits) > config.memory_budget
            {
                server_bits -= 1;
            }
            if memory_estimate(server_bits, inflate_bits) > config.memory_budget {
                continue;
            }
            let params = DeflateParams {
                server_max_window_bits: server_bits,
                client_max_window_bits: client_bits,
                server_no_context_takeover: seen.server_no_context_takeover
                    || config.server_no_context_takeover,
                client_no_context_takeover: seen.client_no_context_takeover
                    || config.client_no_context_takeover,
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
/// peer sends.
#[derive(Debug)]
pub(crate) struct DeflateContext {
    /// Our compressor; `None` until first used, and again after each message without context
    /// takeover, so an idle connection holds no zlib state.
    compressor: Option<Compress>,
    /// The peer's messages' decompressor, kept or dropped the same way.
    decompressor: Option<Decompress>,
    /// Our window.
    compress_bits: u8,
    /// The peer's window.
    decompress_bits: u8,
    /// Drop our compressor after each message.
    compress_reset: bool,
    /// Drop the decompressor after each message.
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

    /// Compresses one whole message payload into `out` (the trailer stripped).
    pub(crate) fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let (bits, level) = (self.compress_bits, self.level);
        let compressor = self.compressor.get_or_insert_with(|| {
            Compress::new_with_window_bits(Compression::new(level), false, bits)
        });
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
        if out.ends_with(&SYNC_TRAILER) {
            out.truncate(out.len() - SYNC_TRAILER.len());
        }
        if out.is_empty() {
            // zlib emits nothing for an empty message right after a flush; RFC 7692 §7.2.3.6
            // sends it as one empty stored block, 0x00 once the trailer is stripped.
            out.push(0x00);
        }
        if self.compress_reset {
            self.compressor = None;
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
        self.inflate(input, out, max)?;
        if last {
            self.inflate(&SYNC_TRAILER, out, max)?;
            if self.decompress_reset {
                self.decompressor = None;
            }
        }
        Ok(())
    }

    fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<(), ProtocolError> {
        let bits = self.decompress_bits;
        let decompressor = self
            .decompressor
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, bits));
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
                self.decompressor = None;
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
            for _ in 0..3 {
                let mut wire = Vec::new();
                server.compress(&text, &mut wire);
                sizes.push(wire.len());
                let mut back = Vec::new();
                client.decompress(&wire, true, &mut back, 1 << 20).unwrap();
                assert_eq!(back, text);
                let mut wire = Vec::new();
                client.compress(&text, &mut wire);
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
        server.compress(&vec![0u8; 100_000], &mut wire);
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
        let config = DeflateConfig::new();
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
                &DeflateConfig::new().memory_budget(1024)
            ),
            None
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
