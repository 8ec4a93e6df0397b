//! The Redis broker: every process with members of room R sees every message posted to R in
//! any process, in one order, through a Redis stream per room (`cyclone:room:<name>`).
//!
//! - A post is an `XADD ... MAXLEN ~ <history_size> * body <text>` through a reconnecting
//!   connection manager; the stream id it gets is the message's [`Cursor`]. When Redis is
//!   down the post fails with [`RoomError::Unavailable`] (503 / a WebSocket error frame):
//!   never a silent loss.
//! - One reader per process (not per member) runs `XREAD BLOCK` over the streams of the rooms
//!   alive in this process, from the last id it delivered to each, and hands each room its
//!   new messages, in order, as one batch. A room new in this process starts from the
//!   stream's beginning (what `MAXLEN` kept), which fills its history.
//! - When Redis goes away the reader logs it, backs off (100 ms doubling to 5 s) and resumes
//!   from the last id it delivered: messages posted meanwhile (and still in the stream)
//!   arrive, none twice (the room also ignores anything not newer than what it has).
//!   Members keep their connections and the local history meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{StreamMaxlen, StreamReadOptions, StreamReadReply};

use super::cursor::Cursor;
use super::error::RoomError;
use super::message::RoomMessage;
use super::registry::RoomsInner;
use super::room::Deliver;

/// Prefix of the room streams' keys.
pub const STREAM_PREFIX: &str = "cyclone:room:";
/// How long one `XREAD` blocks before the reader looks for rooms made meanwhile. A room new
/// in this process waits at most this long for its first read. 200 ms.
pub const READ_BLOCK: Duration = Duration::from_millis(200);
/// Messages one `XREAD` takes per stream at most. 500.
pub const READ_COUNT: usize = 500;
/// How long a post or a connection attempt waits on Redis before failing. 2 s.
pub const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// The reader's first and longest pause after a Redis error (doubling in between).
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// The writing side: a reconnecting connection for posts.
#[derive(Clone)]
pub(crate) struct RedisBroker {
    /// Posts go through it; it reconnects by itself after a fault.
    manager: ConnectionManager,
    /// How many messages each stream keeps (about: `MAXLEN ~`).
    history_size: usize,
}

impl RedisBroker {
    /// A broker on `url` (nothing is connected until the first use), and its reader's
    /// client.
    pub(crate) fn new(
        url: &str,
        history_size: usize,
    ) -> Result<(RedisBroker, redis::Client), RoomError> {
        let client =
            redis::Client::open(url).map_err(|error| RoomError::BrokerUrl(error.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|error| RoomError::BrokerUrl(error.to_string()))?;
        Ok((
            RedisBroker {
                manager,
                history_size,
            },
            client,
        ))
    }

    /// Appends `body` to `room`'s stream; the message with the id Redis gave it.
    pub(crate) async fn post(&self, room: &str, body: String) -> Result<RoomMessage, RoomError> {
        let mut manager = self.manager.clone();
        let key = format!("{STREAM_PREFIX}{room}");
        let added = tokio::time::timeout(
            REDIS_TIMEOUT,
            manager.xadd_maxlen::<_, _, _, _, Option<String>>(
                &key,
                StreamMaxlen::Approx(self.history_size),
                "*",
                &[("body", body.as_str())],
            ),
        )
        .await;
        let id = match added {
            Ok(Ok(Some(id))) => id,
            Ok(Ok(None)) => return Err(RoomError::Unavailable("XADD answered no id".into())),
            Ok(Err(error)) => return Err(RoomError::Unavailable(error.to_string())),
            Err(_) => {
                return Err(RoomError::Unavailable(
                    "Redis did not answer in time".into(),
                ));
            }
        };
        let id = id
            .parse::<Cursor>()
            .map_err(|error| RoomError::Unavailable(error.to_string()))?;
        Ok(RoomMessage::new(id, body))
    }
}

/// The process's reader: runs until the registry is dropped.
pub(crate) async fn read_loop(registry: Weak<RoomsInner>, client: redis::Client) {
    let mut last: HashMap<Arc<str>, Cursor> = HashMap::new();
    let mut connection: Option<MultiplexedConnection> = None;
    let mut backoff = BACKOFF.0;
    loop {
        let Some(inner) = registry.upgrade() else {
            return;
        };
        let rooms: Vec<_> = inner
            .rooms
            .iter()
            .map(|entry| (Arc::clone(entry.key()), entry.value().clone()))
            .collect();
        drop(inner);
        // A room that retired starts again from the stream's beginning if it comes back.
        last.retain(|name, _| rooms.iter().any(|(room, _)| room == name));
        if rooms.is_empty() {
            tokio::time::sleep(READ_BLOCK).await;
            continue;
        }
        let reading = match connection.take() {
            Some(connection) => Ok(connection),
            None => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(REDIS_TIMEOUT))
                    .set_response_timeout(Some(READ_BLOCK + REDIS_TIMEOUT));
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
            }
        };
        let read = match reading {
            Ok(mut reading) => {
                let keys: Vec<String> = rooms
                    .iter()
                    .map(|(name, _)| format!("{STREAM_PREFIX}{name}"))
                    .collect();
                let ids: Vec<String> = rooms
                    .iter()
                    .map(|(name, _)| last.get(name).copied().unwrap_or_default().to_string())
                    .collect();
                let options = StreamReadOptions::default()
                    .block(READ_BLOCK.as_millis() as usize)
                    .count(READ_COUNT);
                let read: redis::RedisResult<Option<StreamReadReply>> =
                    reading.xread_options(&keys, &ids, &options).await;
                connection = Some(reading);
                read
            }
            Err(error) => Err(error),
        };
        match read {
            Ok(reply) => {
                if backoff > BACKOFF.0 {
                    tracing::info!("Redis is back; rooms resume from their last message");
                }
                backoff = BACKOFF.0;
                for stream in reply.map(|reply| reply.keys).unwrap_or_default() {
                    let Some((name, addr)) = rooms
                        .iter()
                        .find(|(name, _)| stream.key.strip_prefix(STREAM_PREFIX) == Some(name))
                    else {
                        continue;
                    };
                    let messages: Vec<RoomMessage> = stream
                        .ids
                        .iter()
                        .filter_map(|entry| {
                            let id = entry.id.parse::<Cursor>().ok()?;
                            let body: String = entry.get("body").unwrap_or_default();
                            Some(RoomMessage::new(id, body))
                        })
                        .collect();
                    if let Some(newest) = messages.last() {
                        last.insert(Arc::clone(name), newest.id);
                        addr.do_send(Deliver(messages));
                    }
                }
            }
            Err(error) => {
                connection = None;
                tracing::warn!(%error, retry_in = ?backoff, "Redis read failed; rooms keep serving locally");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF.1);
            }
        }
    }
}
