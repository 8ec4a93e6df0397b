//! The WebSocket opening handshake's header values as a server and a client read them:
//! `Sec-WebSocket-Key`, `Sec-WebSocket-Protocol` and the permessage-deflate offers and answers
//! in `Sec-WebSocket-Extensions`. The contexts a server agrees to keep between messages fit its
//! memory budget (without context takeover it keeps none), and what it answers to our own
//! client's offer, our client accepts with the same parameters.

use cyclone_protocol::websocket::{
    DeflateConfig, DeflateParams, ServerHandshake, accept_answer, negotiate,
};
use http::{HeaderMap, HeaderValue, Method, Version};

use super::input::Input;

/// zlib's memory for the contexts a server keeps between messages under `agreed` (as the
/// negotiation estimates it; see `cyclone_protocol::websocket`'s module docs): its compressor
/// unless `server_no_context_takeover`, its decompressor unless `client_no_context_takeover`.
fn kept_memory(agreed: &DeflateParams) -> usize {
    let compress = if agreed.server_no_context_takeover {
        0
    } else {
        (4usize << agreed.server_max_window_bits) + 128 * 1024
    };
    let decompress = if agreed.client_no_context_takeover {
        0
    } else {
        (1usize << agreed.client_max_window_bits.max(9)) + 7 * 1024
    };
    compress + decompress
}

/// A configuration from five choice bytes, and its memory budget.
fn config(input: &mut Input<'_>) -> (DeflateConfig, usize) {
    let flags = input.byte();
    let (server_bits, client_bits) = (input.byte(), input.byte());
    let budget = usize::from(input.u16()) * 16;
    let config = DeflateConfig::new()
        .server_max_window_bits(server_bits)
        .client_max_window_bits(client_bits)
        .server_no_context_takeover(flags & 1 != 0)
        .client_no_context_takeover(flags & 2 != 0)
        .context_takeover(flags & 4 != 0)
        .memory_budget(budget);
    (config, budget)
}

/// Reads the handshake fields the input holds, as a server and as a client.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let (server_config, budget) = config(&mut input);
    let (client_config, _) = config(&mut input);

    // Our client's offer, answered by our server, accepted by our client.
    let offer = client_config.client_offer();
    if let Some((agreed, answer)) = negotiate([offer.as_str()], &server_config) {
        assert!(
            kept_memory(&agreed) <= budget,
            "agreed to {agreed:?} over a {budget} byte budget"
        );
        let accepted = accept_answer(&answer, &client_config)
            .unwrap_or_else(|error| panic!("our client refused our answer {answer:?}: {error}"));
        assert_eq!(accepted, agreed, "the two sides disagree on {answer:?}");
    }

    // Header values from the input.
    let key = input.text_until(b'\n');
    let protocols = input.text_until(b'\n');
    let extensions = input.text_until(b'\n');
    let answer = String::from_utf8_lossy(input.rest()).into_owned();
    let mut headers = HeaderMap::new();
    headers.insert("upgrade", HeaderValue::from_static("websocket"));
    headers.insert("connection", HeaderValue::from_static("Upgrade"));
    headers.insert("sec-websocket-version", HeaderValue::from_static("13"));
    for (name, value) in [
        ("sec-websocket-key", &key),
        ("sec-websocket-protocol", &protocols),
        ("sec-websocket-extensions", &extensions),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.append(name, value);
        }
    }
    if let Ok(handshake) = ServerHandshake::from_parts(&Method::GET, Version::HTTP_11, &headers) {
        let chosen = handshake.subprotocols().first().cloned();
        let accepted = handshake.accept(chosen.as_deref(), Some(&server_config));
        if let Some(agreed) = accepted.negotiated.deflate {
            assert!(
                kept_memory(&agreed) <= budget,
                "agreed to {agreed:?} over a {budget} byte budget"
            );
        }
    }
    let _ = negotiate([extensions.as_str()], &server_config);
    let _ = accept_answer(&answer, &client_config);
}
