//! The ways one byte string is fed to an incremental decoder: whole, cut at points the fuzz
//! input chooses, and byte by byte. A decoder must give the same answer for every one of
//! them: a peer chooses how its bytes are split into reads.

use super::input::Input;

/// Inputs longer than this are not also fed byte by byte (that costs one decode per byte).
const TRICKLE_LIMIT: usize = 512;

/// Reads a cut plan from the front of `input`: one byte for how many cuts (0 to 3), two bytes
/// for each position; returns the ways to feed the rest. The first is always the whole.
pub fn plans<'a>(input: &mut Input<'a>) -> (&'a [u8], Vec<Vec<&'a [u8]>>) {
    let count = input.byte() % 4;
    let mut cuts: Vec<u16> = (0..count).map(|_| input.u16()).collect();
    let bytes = input.rest();
    let mut plans = vec![vec![bytes]];
    if !bytes.is_empty() {
        let mut positions: Vec<usize> = cuts
            .drain(..)
            .map(|cut| usize::from(cut) % (bytes.len() + 1))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        let mut pieces = Vec::new();
        let mut start = 0;
        for position in positions {
            pieces.push(&bytes[start..position]);
            start = position;
        }
        pieces.push(&bytes[start..]);
        plans.push(pieces);
        if bytes.len() <= TRICKLE_LIMIT {
            plans.push(bytes.chunks(1).collect());
        }
    }
    (bytes, plans)
}
