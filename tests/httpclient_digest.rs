//! Digest authentication in the HTTP client (RFC 7616, Tornado's `auth_mode="digest"`): a
//! server started here challenges, checks the answer with its own MD5, and counts the round
//! trips.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cyclone::httpclient::{AsyncHttpClient, AuthMode, HttpRequest};
use cyclone::httpserver::{HttpResponse, HttpServer, HttpServerRequest};
use http::HeaderValue;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use md5::{Digest, Md5};

const CHALLENGE: &str =
    r#"Digest realm="cyclone-test", qop="auth", algorithm=MD5, nonce="n0nce-42", opaque="op4que""#;

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The value of `name` in a Digest `Authorization` field.
fn field<'a>(authorization: &'a str, name: &str) -> Option<&'a str> {
    authorization.split(", ").find_map(|pair| {
        let pair = pair.trim_start_matches("Digest ");
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.trim_matches('"'))
    })
}

/// Whether `authorization` answers the challenge for Mufasa's password, per RFC 7616 §3.4.1.
fn valid(authorization: &str, method: &str) -> bool {
    let get = |name| field(authorization, name).unwrap_or("");
    if get("username") != "Mufasa" || get("nonce") != "n0nce-42" || get("opaque") != "op4que" {
        return false;
    }
    let ha1 = md5_hex("Mufasa:cyclone-test:Circle of Life");
    let ha2 = md5_hex(&format!("{method}:{}", get("uri")));
    let expected = md5_hex(&format!(
        "{ha1}:n0nce-42:{}:{}:auth:{ha2}",
        get("nc"),
        get("cnonce")
    ));
    get("qop") == "auth" && get("response") == expected
}

#[cyclone::test]
async fn the_client_answers_a_digest_challenge_once() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let mut server = HttpServer::new(move |request: HttpServerRequest| {
        counter.fetch_add(1, Ordering::SeqCst);
        let authorization = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let uri_ok = field(&authorization, "uri") == Some("/private?x=1");
        let answer = if valid(&authorization, request.method().as_str()) && uri_ok {
            HttpResponse::ok().text("welcome Mufasa")
        } else {
            HttpResponse::new(http::StatusCode::UNAUTHORIZED)
                .header(WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE))
        };
        async move { answer }
    });
    server.listen_on(0, Some("127.0.0.1")).unwrap();
    let url = format!(
        "http://127.0.0.1:{}/private?x=1",
        server.local_addrs()[0].port()
    );
    let client = AsyncHttpClient::new();

    let response = client
        .fetch(
            HttpRequest::new(&url)
                .auth("Mufasa", "Circle of Life")
                .auth_mode(AuthMode::Digest),
        )
        .await
        .unwrap();
    assert_eq!(&response.body[..], b"welcome Mufasa");
    assert_eq!(
        hits.swap(0, Ordering::SeqCst),
        2,
        "a challenge, then the answer"
    );

    // A wrong password: answered once, then the 401 is the response (no loop).
    let wrong = client
        .fetch(
            HttpRequest::new(&url)
                .auth("Mufasa", "wrong")
                .auth_mode(AuthMode::Digest)
                .raise_error(false),
        )
        .await
        .unwrap();
    assert_eq!(wrong.code, 401);
    assert_eq!(hits.swap(0, Ordering::SeqCst), 2);

    // Basic (the default) sends its credentials at once and is refused here.
    let basic = client
        .fetch(
            HttpRequest::new(&url)
                .auth("Mufasa", "Circle of Life")
                .raise_error(false),
        )
        .await
        .unwrap();
    assert_eq!(basic.code, 401);
    assert_eq!(hits.swap(0, Ordering::SeqCst), 1);
    server.shutdown(std::time::Duration::from_secs(1)).await;
}
