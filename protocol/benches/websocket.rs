//! The codec's share of one echo: decoding a masked 32-byte text frame from a client and
//! encoding the reply, as the server's connection does per message (the read buffer reused).
//! Run with `cargo bench -p cyclone-protocol --bench websocket`.

use std::hint::black_box;

use bytes::{BufMut, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cyclone_protocol::websocket::{Codec, Message, Role};

/// A client's masked text frame of `size` bytes (what wsload sends).
fn client_frame(size: usize) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = BytesMut::new();
    frame.put_u8(0x81);
    frame.put_u8(0x80 | size as u8);
    frame.put_slice(&key);
    frame.extend((0..size).map(|index| b'a' ^ key[index % 4]));
    frame.to_vec()
}

fn echo(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("websocket");
    for size in [32usize, 125] {
        let wire = client_frame(size);
        group.throughput(Throughput::Bytes(size as u64));
        let mut codec = Codec::new(Role::Server, 10 * 1024 * 1024, None);
        let mut read = BytesMut::with_capacity(4096);
        let mut write = BytesMut::with_capacity(4096);
        group.bench_function(format!("echo_text_{size}"), |bench| {
            bench.iter(|| {
                read.extend_from_slice(&wire);
                if let Ok(Some(message @ Message::Text(_))) = codec.decode(&mut read) {
                    codec.encode(&message, &mut write);
                }
                write.clear();
                black_box(&mut write);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, echo);
criterion_main!(benches);
