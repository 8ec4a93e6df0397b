//! [`Pieces`]: the body pieces a handler wrote since the last flush. Most handlers write once,
//! so one piece is kept inline and a list is allocated only for the second.

use bytes::{Bytes, BytesMut};

/// Written body pieces, in order.
#[derive(Debug, Default)]
pub(crate) enum Pieces {
    /// Nothing written.
    #[default]
    Empty,
    /// One piece: no list allocated.
    One(Bytes),
    /// Two or more.
    Many(Vec<Bytes>),
}

impl Pieces {
    /// Appends a piece (empty ones are the caller's to skip).
    #[inline]
    pub(crate) fn push(&mut self, piece: Bytes) {
        match self {
            Pieces::Empty => *self = Pieces::One(piece),
            Pieces::One(_) => {
                if let Pieces::One(first) = std::mem::take(self) {
                    *self = Pieces::Many(vec![first, piece]);
                }
            }
            Pieces::Many(pieces) => pieces.push(piece),
        }
    }

    /// The pieces, in order.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[Bytes] {
        match self {
            Pieces::Empty => &[],
            Pieces::One(piece) => std::slice::from_ref(piece),
            Pieces::Many(pieces) => pieces,
        }
    }

    /// Drops every piece.
    pub(crate) fn clear(&mut self) {
        *self = Pieces::Empty;
    }

    /// The pieces as one body, copied together only if there are several.
    #[inline]
    pub(crate) fn into_body(self) -> Bytes {
        match self {
            Pieces::Empty => Bytes::new(),
            Pieces::One(piece) => piece,
            Pieces::Many(pieces) => joined(pieces),
        }
    }
}

/// Several pieces copied into one body; out of line, so that the common cases of
/// [`Pieces::into_body`] inline where it is called.
#[inline(never)]
fn joined(pieces: Vec<Bytes>) -> Bytes {
    let mut whole = BytesMut::with_capacity(pieces.iter().map(Bytes::len).sum());
    for piece in pieces {
        whole.extend_from_slice(&piece);
    }
    whole.freeze()
}

impl IntoIterator for Pieces {
    type Item = Bytes;
    type IntoIter = std::iter::Chain<std::option::IntoIter<Bytes>, std::vec::IntoIter<Bytes>>;

    fn into_iter(self) -> Self::IntoIter {
        match self {
            Pieces::Empty => None.into_iter().chain(Vec::new()),
            Pieces::One(piece) => Some(piece).into_iter().chain(Vec::new()),
            Pieces::Many(pieces) => None.into_iter().chain(pieces),
        }
    }
}
