//! `write_json`: Tornado's `write_message(dict)`, which sends a dict as JSON text.

use cyclone_protocol::websocket::{Flushed, Message};

use super::handler::WebSocketContext;

impl WebSocketContext<'_> {
    /// Sends `value` as a JSON text message (Tornado's `write_message(dict)`); the returned
    /// future is [`write_message`](Self::write_message)'s. A value that cannot be serialized
    /// is an error and nothing is sent.
    ///
    /// ```
    /// use cyclone_web::websocket::{Message, WebSocketContext, WebSocketHandler};
    ///
    /// struct Scores;
    /// impl WebSocketHandler for Scores {
    ///     fn on_message(&mut self, cx: &mut WebSocketContext<'_>, _message: Message) {
    ///         let _ = cx.write_json(&serde_json::json!({"home": 2, "away": 1}));
    ///     }
    /// }
    /// ```
    pub fn write_json<T: serde::Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<Flushed, serde_json::Error> {
        let text = serde_json::to_string(value)?;
        Ok(self.write_message(Message::text(text)))
    }
}
