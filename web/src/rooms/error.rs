//! [`RoomError`]: why a post, a join or a wait did not happen, and the one HTTP status each
//! maps to.

use http::StatusCode;

/// Why a room could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    /// A room name that is empty, too long, or not printable ASCII.
    #[error("a room name is 1 to {limit} printable ASCII characters")]
    InvalidName {
        /// The longest name allowed.
        limit: usize,
    },
    /// A message longer than [`RoomOptions::max_message_size`](super::RoomOptions::max_message_size).
    #[error("message of {size} bytes is longer than the room's limit of {limit}")]
    TooLong {
        /// The message's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The room's `on_post` hook refused the message, with its reason.
    #[error("message refused: {0}")]
    Rejected(String),
    /// The broker cannot take messages now (Redis is down): nothing was posted. Try again.
    #[error("the room's broker is unavailable: {0}")]
    Unavailable(String),
    /// The broker's URL is not one it can use (`redis://host:port/db`).
    #[error("bad broker URL: {0}")]
    BrokerUrl(String),
    /// The room restarted while handling this (a panic, logged): nothing was posted.
    #[error("the room restarted while posting; nothing was posted")]
    Restarted,
    /// The room has as many long-poll waiters as it takes
    /// ([`RoomOptions::max_waiters`](super::RoomOptions::max_waiters)).
    #[error("the room has {limit} waiting requests already")]
    TooManyWaiters {
        /// The limit.
        limit: usize,
    },
}

impl RoomError {
    /// The HTTP status that answers this error, one per kind: a client's fault is 400, a
    /// passing condition (broker down, room restarting, full) is 503, a bad broker URL 500.
    pub fn status(&self) -> StatusCode {
        match self {
            RoomError::InvalidName { .. } | RoomError::TooLong { .. } | RoomError::Rejected(_) => {
                StatusCode::BAD_REQUEST
            }
            RoomError::BrokerUrl(_) => StatusCode::INTERNAL_SERVER_ERROR,
            RoomError::Unavailable(_) | RoomError::Restarted | RoomError::TooManyWaiters { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

impl From<RoomError> for crate::HttpError {
    fn from(error: RoomError) -> crate::HttpError {
        crate::HttpError::new(error.status()).log_message(error.to_string())
    }
}
