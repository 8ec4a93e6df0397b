//! Parsing a typical request head and encoding a hello response: the per-request cost of the
//! codec on a keep-alive connection. Run with `cargo bench -p cyclone-protocol`.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cyclone_protocol::h1::{
    BodyLength, DateCache, Limits, RequestDecoder, ResponseContext, encode_response_head,
};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};

const REQUEST: &[u8] = b"GET /plaintext?name=world HTTP/1.1\r\n\
Host: localhost:8080\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Connection: keep-alive\r\n\
Cookie: session=0123456789abcdef; theme=dark\r\n\
\r\n";

fn parse_request(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("h1");
    group.throughput(Throughput::Bytes(REQUEST.len() as u64));
    let mut decoder = RequestDecoder::new(Limits::default());
    let mut buf = BytesMut::with_capacity(4096);
    group.bench_function("parse_request_head", |bench| {
        bench.iter(|| {
            buf.extend_from_slice(REQUEST);
            let head = decoder.decode(&mut buf);
            let end = decoder.decode(&mut buf);
            black_box((head, end))
        })
    });
    group.finish();
}

fn encode_hello(criterion: &mut Criterion) {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    let mut date = DateCache::new();
    let mut buf = BytesMut::with_capacity(4096);
    let context = ResponseContext::default();
    criterion.bench_function("h1/encode_hello_response", |bench| {
        bench.iter(|| {
            buf.clear();
            let mut body = encode_response_head(
                &context,
                StatusCode::OK,
                &headers,
                BodyLength::Known(13),
                &mut date,
                &mut buf,
            );
            let data = body.encode_data(b"Hello, world!", &mut buf);
            let end = body.encode_end(None, &mut buf);
            black_box((data, end, buf.len()))
        })
    });
}

criterion_group!(benches, parse_request, encode_hello);
criterion_main!(benches);
