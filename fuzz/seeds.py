#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/seed-*: inputs taken from cyclone's
tests (requests, responses, chunked bodies, frames, forms, cookies, routes), each with the
choice bytes its target reads first (see fuzz/src/<target>.rs). Deterministic: run it again
and nothing changes. libFuzzer grows the corpora from these."""

import hashlib
import os
import re
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def rust_byte_strings(path):
    """Every b"..." literal in a Rust file, unescaped (line continuations joined)."""
    text = open(os.path.join(TOP, path), encoding="utf-8").read()
    found = []
    for match in re.finditer(r'b"((?:[^"\\]|\\.|\\\n)*)"', text, re.S):
        raw = match.group(1)
        raw = re.sub(r"\\\n\s*", "", raw)
        out = bytearray()
        i = 0
        while i < len(raw):
            c = raw[i]
            if c == "\\":
                n = raw[i + 1]
                if n == "x":
                    out.append(int(raw[i + 2 : i + 4], 16))
                    i += 4
                    continue
                out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", '"': b'"', "'": b"'"}[n]
                i += 2
            else:
                out += c.encode("utf-8")
                i += 1
        found.append(bytes(out))
    return found


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for data in seeds:
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(folder, name), "wb") as out:
            out.write(data)


def cuts(*positions):
    """The feeding plan prefix: how many cuts, then each as a little-endian u16."""
    return bytes([len(positions)]) + b"".join(struct.pack("<H", p) for p in positions)


def ws_frame(payload, opcode=2, fin=True, rsv1=False, mask=b"\x37\xfa\x21\x3d"):
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        head = bytes([first, (0x80 if mask else 0) | n])
    elif n < 65536:
        head = bytes([first, (0x80 if mask else 0) | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, (0x80 if mask else 0) | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def deflate(data, wbits=15):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4] if out.endswith(b"\x00\x00\xff\xff") else out


h1 = [s for f in ["protocol/tests/h1/request.rs", "protocol/tests/h1/body.rs",
                  "protocol/tests/h1/robustness.rs", "protocol/tests/h1/response.rs"]
      for s in rust_byte_strings(f)]
requests = [s for s in h1 if re.match(rb"^(\r?\n)*[A-Z]+ \S+", s) and not s.startswith(b"HTTP/")]
responses = [s for s in h1 if s.startswith(b"HTTP/")]
chunked_bodies = [s for s in rust_byte_strings("protocol/tests/h1/body.rs")
                  if re.match(rb"^[0-9a-fA-F]", s)]

write("http_request", [bytes([0]) + cuts(len(r) // 2) + r for r in requests]
      + [bytes([1]) + cuts(7, 30) + r for r in requests[:10]])
write("http_chunked", [bytes([0, 2]) + cuts(3) + b for b in chunked_bodies]
      + [bytes([1, 2]) + cuts(1, 9) + b"5;name=value\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
         bytes([0, 0, 5, 0]) + cuts() + b"hello",
         bytes([0, 1]) + cuts(2) + b"until close"])
write("http_response", [bytes([(m << 1)]) + cuts(len(r) // 3) + r for r in responses for m in (0, 3)])

frames = [
    ws_frame(b"hello", opcode=1),
    ws_frame(b"hel", opcode=1, fin=False) + ws_frame(b"\x89", opcode=9) + ws_frame(b"lo", opcode=0),
    ws_frame(b"\x03\xe8bye", opcode=8),
    ws_frame(b"x" * 200, opcode=2),
    ws_frame(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", opcode=1),
    ws_frame(b"\xff\xfe", opcode=1),
]
write("websocket_frames", [bytes([0]) + cuts(3) + f for f in frames]
      + [bytes([1]) + cuts(2) + ws_frame(b"hello", opcode=1, mask=b"")]
      + [bytes([4, 2, 1, 5]) + b"hello" + bytes([2, 3]) + b"abc" + cuts(1) + frames[0]])

text = b"Hello, hello, hello, WebSocket compression! " * 20
bomb = deflate(b"\0" * (4 << 20))
deflate_seeds = []
for payloads in ([deflate(text)], [deflate(text)[:10], deflate(text)[10:]], [bomb[:60000]], [b"\x00"]):
    spec = bytes([0, 0x66, 0, 0, len(payloads) - 1])
    for p in payloads:
        spec += struct.pack("<H", len(p)) + p
    deflate_seeds.append(spec)
deflate_seeds.append(bytes([4, 0x66, 1]) + struct.pack("<H", 40) + text[:40] + struct.pack("<H", 5) + b"again" + bytes([0, 0, 0]) + struct.pack("<H", 1) + b"\x00")
write("websocket_deflate", deflate_seeds)

config = bytes([0, 15, 15]) + struct.pack("<H", 20480)
write("websocket_extensions", [
    config + config + b"dGhlIHNhbXBsZSBub25jZQ==\nchat, superchat\npermessage-deflate; client_max_window_bits\npermessage-deflate",
    config + bytes([3, 10, 9]) + struct.pack("<H", 12800) + b"dGhlIHNhbXBsZSBub25jZQ==\n\nx-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover; client_max_window_bits=10\npermessage-deflate; client_max_window_bits=10; server_no_context_takeover",
])

curl = (b"--------------------------d74496d66958873e\r\n"
        b"Content-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n"
        b"--------------------------d74496d66958873e\r\n"
        b"Content-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n"
        b"Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n\r\n"
        b"--------------------------d74496d66958873e--\r\n")
write("multipart", [
    bytes([0]) + b"multipart/form-data; boundary=------------------------d74496d66958873e\n" + curl,
    bytes([1]) + b"multipart/form-data; boundary=\"b\"\n--b\r\nContent-Disposition: form-data; name=\"a\"; filename*=UTF-8''caf%C3%A9.txt\r\n\r\nx\r\n--b--",
    bytes([2, 2, 5]) + b"hello" + bytes([3]) + b"a\r\nb" + b"application/x-www-form-urlencoded\na=1&b=2",
])
write("urlencoded", [
    bytes([0]) + b"a=1+2&b=%zz&c=&&d",
    bytes([1]) + b"page=2&tag=rust&tag=tornado&comment=hi+there&x=%C3%A9",
    bytes([2, 2]) + b"name\0va lue/\xc3\xa9\0k\xc3\xa9y\0\0" + b"q=1",
])
write("cookie", [
    b"sid=abc\n" + b'sid=abc; theme="dark \\"blue\\""; lonely; sid=xyz',
    b'name="quoted"\n' + b'a="\\101\\102"; b=\\; c="\\"',
    b"_xsrf=2|aa|bb|1\n_xsrf=2|ab12|cd34|1700000000; user=\"2|1:0|10:1700000000|4:user|4:Ym9i|abc\"",
])
write("signed_value", [
    bytes([0]) + b"name\0value\0" + bytes([9, 0, 0x41]) + b"2|1:0|10:1300000000|4:name|8:dmFsdWU=|0123456789abcdef",
    bytes([1]) + b"user\0bob\0" + bytes([40, 0, 0x30]) + b"dmFsdWU=|1300000000|9e7727150808365bebff0a6404df2acfefd24d51",
    bytes([0]) + b"n|x\0\xff\x00\0" + bytes([0, 0, 0]) + b"2|1:3|10:1|1:n|0:|",
])
write("host", [
    b"\x00example.com:8888", b"\x00[::1]:80", b"\x01user@host", b"\x00a,b", b"\x00h%41st:80",
    b"\x00example.com:99999", b"\x01[v1.x]:8", b"\x00",
])
write("routing", [
    b"/story/([0-9]+)\0/story/7\0/story/x\0/story/%E9",
    b"/api/.*\0/api/ping\0/apix\0/ap",
    b"/a\\.txt$\0/a.txt\0/aXtxt",
    b"/(?P<name>\\w+)/(?P<id>\\d+)\0/x/1\0/x/",
    b"/ab?c\0/ac\0/abc\0/abbc",
    b"/a|/b\0/a\0/b\0/c",
])
write("urljoin", [
    b"/a/b?x=1\0c\0/photos/{0}\0/p/q",
    b"/a/b\0/.//evil.example/\0/{0}\0/evil.example",
    b"/\0./\\evil.example\0/{1}/{0}\0a\0b",
    b"/a\0../../c?y#z\0https://{0}/\0evil",
    b"/x\0//host/p\0{0}\0http://evil",
    b"/x\0?q\0/new/{name}\0x",
])
write("template_path", [b"index.html", b"a/b.txt", b"../secret.txt", b"a/../../secret.txt", b"/etc/passwd", b".hidden", b"a\\..\\..\\secret.txt"])
write("static_path", [b"\x00index.html", b"\x01a/", b"\x00../secret.txt", b"\x00out", b"\x00up/secret.txt",
                      b"\x01a", b"\x00a/./b.txt", b"\x00a/b.txt\x00", b"\x00C:\\secret.txt"])


def xsrf_v2(token, mask, timestamp):
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return b"2|" + mask.hex().encode() + b"|" + masked.hex().encode() + b"|" + str(timestamp).encode()


# The mask the check re-encodes with (4 bytes), the token sent (form or header), NUL, the cookie.
secret = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
page_mask = b"\x5a\xa5\x0f\xf0"
v2 = xsrf_v2(secret, b"\x12\x34\x56\x78", 1700000000)
v2_other = xsrf_v2(secret, b"\xde\xad\xbe\xef", 1700000000)
v1 = secret.hex().encode()
write("xsrf_token", [
    page_mask + v2 + b"\0" + v2_other,
    page_mask + v1 + b"\0" + v2,
    page_mask + v2.upper().replace(b"2|", b"2|", 1) + b"\0" + v1.upper(),
    page_mask + xsrf_v2(secret[:15] + b"\x00", b"\x12\x34\x56\x78", 1700000000) + b"\0" + v2,
    page_mask + b"\0",
    page_mask + b"2|\0" + v2,
    page_mask + b"2|zz34567g|" + v2[11:] + b"\0" + v2,
    page_mask + b"2|123456|" + v2[11:] + b"\0" + b"2|1234567890|" + v2[11:],
    page_mask + v2[:-10] + b"99999999999999999999999999\0" + v2[:-10] + b"+001700000000",
    page_mask + b"2|\xff\xfe\xfd\xfc|" + v2[11:] + b"\0" + b"\xc3\x28" + v1[2:],
    page_mask + b"3|" + v2[2:] + b"\0" + b"02|" + v2[2:],
    page_mask + v2 + b"\n\0" + v1[:-1],
])

# escape: the first byte picks linkify's options (1 shorten, 2 extra params, 4 require a
# scheme, 8 also ftp), the rest is the text.
write("escape", [
    b"\x00" + b"plain text",
    b"\x00" + b"<script>alert(\"x\" & 'y')</script>",
    b"\x01" + b"see http://example.com/a/very/long/path/that/needs/shortening?with=query&and=more",
    b"\x03" + b"www.example.com and https://example.com/(paren)/x. done",
    b"\x04" + b"www.example.com is not linked, http://example.com is",
    b"\x08" + b"ftp://files.example.com/pub and javascript:alert(1)",
    b"\x00" + b"&amp; &lt; &#39; &#x27; &nbsp; &unknown; &#99999999; &",
    b"\x00" + b"a+b c%20d %zz %4 %\xc3\xa9 / ~",
    b"\x00" + "caf\u00e9 \u30d5 \U0001f600 </script>".encode(),
    b"\x00" + b" \t\n spaced \x01\x02 out \r\n ",
    b"\x0f" + b"http://a.b/" + b"x" * 100 + b"&amp;y",
])
