//! The zlib contexts a loop lends to its connections, and the compressed payloads it remembers
//! so that one message written to many connections is compressed once.
//!
//! Without context takeover (the server's default, see [`DeflateConfig`]) no zlib state has to
//! outlive a message, so instead of each connection owning a compressor (~260 KiB at 15 bits)
//! and a decompressor (~40 KiB), the loop (one thread: every connection of a worker) keeps a
//! few spare ones, lends one for the length of a message and takes it back reset. A connection
//! in the middle of a fragmented compressed message keeps its decompressor until the message
//! ends: the only time an idle-looking connection holds zlib memory.
//!
//! # The broadcast cache
//!
//! With `server_no_context_takeover` a message's compressed bytes depend only on its payload,
//! the window size and the level. A room writing one [`Message`] clone to each member hands
//! every connection the same buffer (a clone of `Bytes` shares it), so the loop remembers the
//! last few compressed payloads keyed by (buffer address, length, window bits, level): the
//! first member's connection compresses, the others on the same loop copy the result. Each
//! entry holds a clone of the message, which keeps its buffer alive and unchanged (`Bytes` is
//! immutable), so an address cannot be reused by different bytes while its entry exists: equal
//! keys mean equal payloads.
//!
//! [`DeflateConfig`]: super::DeflateConfig

use std::cell::RefCell;
use std::collections::VecDeque;

use flate2::{Compress, Compression, Decompress};

use super::Message;

/// Spare compressors a loop keeps (one per window size and level in use, usually one).
pub const LOOP_SPARE_COMPRESSORS: usize = 4;
/// Spare decompressors a loop keeps. Each inflates any window (they are made with 15 bits).
pub const LOOP_SPARE_DECOMPRESSORS: usize = 4;
/// Compressed payloads a loop remembers for messages written to several connections. 32.
pub const BROADCAST_CACHE_ENTRIES: usize = 32;
/// Bytes (payloads kept alive plus their compressed forms) the broadcast cache may hold per
/// loop. 4 MiB.
pub const BROADCAST_CACHE_BYTES: usize = 4 * 1024 * 1024;
/// Payloads larger than this are not remembered (they would crowd out the rest). 1 MiB.
pub const BROADCAST_CACHE_MAX_PAYLOAD: usize = 1024 * 1024;

/// The window every lent decompressor has: inflating with a larger window than the peer
/// compressed with is always correct, so one size serves every connection.
const DECOMPRESS_BITS: u8 = 15;

/// What one loop holds for its connections.
#[derive(Default)]
struct LoopZlib {
    /// Reset compressors waiting to be lent: (window bits, level, compressor).
    compressors: Vec<(u8, u32, Compress)>,
    /// Reset 15-bit decompressors waiting to be lent.
    decompressors: Vec<Decompress>,
    /// Recently compressed payloads, oldest first.
    cache: VecDeque<CacheEntry>,
    /// Bytes the cache holds, by [`CacheEntry::weight`].
    cache_bytes: usize,
    /// How many payloads were compressed and how many were served from the cache.
    counts: BroadcastCounts,
}

/// One remembered compressed payload.
struct CacheEntry {
    /// Address of the payload's first byte.
    address: usize,
    /// Payload length.
    length: usize,
    /// Window the payload was compressed with.
    bits: u8,
    /// zlib level it was compressed at.
    level: u32,
    /// Keeps the payload's buffer alive (and so its address unique to these bytes).
    _keep: Message,
    /// The compressed payload, trailer stripped.
    compressed: Vec<u8>,
}

impl CacheEntry {
    fn weight(&self) -> usize {
        self.length + self.compressed.len()
    }
}

/// How often this loop compressed a payload and how often it reused one: what a broadcast
/// saved. Read with [`broadcast_counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastCounts {
    /// Payloads compressed (cache misses and uncacheable payloads).
    pub compressed: u64,
    /// Payloads served from the cache, already compressed.
    pub reused: u64,
}

thread_local! {
    /// Per loop: every connection of a worker runs on its thread, one at a time.
    static LOOP_ZLIB: RefCell<LoopZlib> = RefCell::new(LoopZlib::default());
}

/// This loop's (thread's) compression counts since it started.
pub fn broadcast_counts() -> BroadcastCounts {
    LOOP_ZLIB.with(|zlib| zlib.borrow().counts)
}

/// The payload's identity for the cache: `None` for control frames.
fn identity(message: &Message) -> Option<(usize, usize)> {
    let bytes: &[u8] = match message {
        Message::Text(text) => text.as_bytes(),
        Message::Binary(data) => data,
        _ => return None,
    };
    Some((bytes.as_ptr() as usize, bytes.len()))
}

/// Compresses `message`'s payload with a borrowed compressor as one message on its own (no
/// context taken over), appending it to `out` through `compress`; reuses an earlier result
/// for the same buffer when the loop still remembers it.
pub(crate) fn compress_alone(
    message: &Message,
    payload: &[u8],
    bits: u8,
    level: u32,
    out: &mut Vec<u8>,
    compress: impl FnOnce(&mut Compress, &[u8], &mut Vec<u8>),
) {
    let key = identity(message);
    let cacheable = key.is_some() && payload.len() <= BROADCAST_CACHE_MAX_PAYLOAD;
    let hit = LOOP_ZLIB.with(|zlib| {
        let mut zlib = zlib.borrow_mut();
        let (address, length) = key?;
        let index = zlib.cache.iter().position(|entry| {
            entry.address == address
                && entry.length == length
                && entry.bits == bits
                && entry.level == level
        })?;
        // Most recently used last: a broadcast still being written stays.
        let entry = zlib.cache.remove(index)?;
        out.extend_from_slice(&entry.compressed);
        zlib.cache.push_back(entry);
        zlib.counts.reused += 1;
        Some(())
    });
    if hit.is_some() {
        return;
    }
    let mut compressor = LOOP_ZLIB
        .with(|zlib| {
            let mut zlib = zlib.borrow_mut();
            let index = zlib
                .compressors
                .iter()
                .position(|(b, l, _)| *b == bits && *l == level)?;
            Some(zlib.compressors.swap_remove(index).2)
        })
        .unwrap_or_else(|| Compress::new_with_window_bits(Compression::new(level), false, bits));
    let start = out.len();
    compress(&mut compressor, payload, out);
    compressor.reset();
    LOOP_ZLIB.with(|zlib| {
        let mut zlib = zlib.borrow_mut();
        zlib.counts.compressed += 1;
        if zlib.compressors.len() >= LOOP_SPARE_COMPRESSORS {
            zlib.compressors.remove(0);
        }
        zlib.compressors.push((bits, level, compressor));
        if let (true, Some((address, length))) = (cacheable, key) {
            let entry = CacheEntry {
                address,
                length,
                bits,
                level,
                _keep: message.clone(),
                compressed: out[start..].to_vec(),
            };
            zlib.cache_bytes += entry.weight();
            zlib.cache.push_back(entry);
            while zlib.cache.len() > BROADCAST_CACHE_ENTRIES
                || zlib.cache_bytes > BROADCAST_CACHE_BYTES
            {
                match zlib.cache.pop_front() {
                    Some(old) => zlib.cache_bytes -= old.weight(),
                    None => break,
                }
            }
        }
    });
}

/// Lends a reset decompressor for one message.
pub(crate) fn borrow_decompressor() -> Decompress {
    LOOP_ZLIB
        .with(|zlib| zlib.borrow_mut().decompressors.pop())
        .unwrap_or_else(|| Decompress::new_with_window_bits(false, DECOMPRESS_BITS))
}

/// Takes a lent decompressor back at the end of its message.
pub(crate) fn return_decompressor(mut decompressor: Decompress) {
    decompressor.reset(false);
    LOOP_ZLIB.with(|zlib| {
        let mut zlib = zlib.borrow_mut();
        if zlib.decompressors.len() < LOOP_SPARE_DECOMPRESSORS {
            zlib.decompressors.push(decompressor);
        }
    });
}
