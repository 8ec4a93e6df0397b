//! Requests through an HTTP proxy: plain http URLs go to the proxy in absolute form
//! (`GET http://host/path HTTP/1.1`); https URLs open a `CONNECT host:port` tunnel first and
//! run TLS to the origin inside it, so the proxy sees only ciphertext.

use bytes::BytesMut;
use http::header::{HOST, PROXY_AUTHORIZATION};
use http::{HeaderMap, HeaderValue, Method};

use super::connection::Connection;
use super::encode::{basic_credentials, encode_request_head};
use super::error::HttpClientError;
use super::request::Proxy;
use crate::h1::{Event, Limits, ResponseDecoder};

/// Adds `Proxy-Authorization` when the proxy has credentials.
pub(crate) fn add_proxy_authorization(proxy: &Proxy, headers: &mut HeaderMap) {
    if headers.contains_key(PROXY_AUTHORIZATION) {
        return;
    }
    let value = proxy
        .credentials
        .as_ref()
        .and_then(|(username, password)| basic_credentials(username, password));
    if let Some(value) = value {
        headers.insert(PROXY_AUTHORIZATION, value);
    }
}

/// Asks the proxy on `connection` for a tunnel to `host:port` and waits for its 2xx answer;
/// afterwards the connection carries bytes straight to the origin.
pub(crate) async fn open_tunnel(
    connection: &mut Connection,
    proxy: &Proxy,
    host: &str,
    port: u16,
    max_header_size: usize,
) -> Result<(), HttpClientError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut headers = HeaderMap::new();
    let host_value =
        HeaderValue::from_str(&authority).map_err(|_| HttpClientError::InvalidUrl {
            url: authority.clone(),
            reason: "host is not a valid field value".to_owned(),
        })?;
    headers.insert(HOST, host_value);
    add_proxy_authorization(proxy, &mut headers);
    let mut head = BytesMut::new();
    encode_request_head(&Method::CONNECT, &authority, &headers, &mut head);
    connection.write_all(&head).await?;

    let limits = Limits {
        max_head_size: max_header_size,
        ..Limits::default()
    };
    let mut decoder = ResponseDecoder::new(limits);
    let mut eof = false;
    loop {
        let event = if eof {
            decoder.decode_eof(&mut connection.read, &Method::CONNECT)?
        } else {
            decoder.decode(&mut connection.read, &Method::CONNECT)?
        };
        match event {
            Some(Event::Head(head)) if head.status.is_informational() => continue,
            Some(Event::Head(head)) if head.status.is_success() => {
                // The proxy must not speak for the origin before the client's first bytes.
                return if connection.read.is_empty() {
                    Ok(())
                } else {
                    Err(HttpClientError::ProxyRefused(head.status.as_u16()))
                };
            }
            Some(Event::Head(head)) => {
                return Err(HttpClientError::ProxyRefused(head.status.as_u16()));
            }
            Some(_) => continue,
            None if eof => return Err(HttpClientError::ConnectionClosed),
            None => eof = connection.read_more().await? == 0,
        }
    }
}
