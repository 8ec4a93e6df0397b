//! The HTTP/1.1 codec through its public API: every case is fed whole, split at every offset and
//! byte by byte, and must decode the same way.

mod body;
mod encode;
mod request;
mod response;
mod robustness;
mod support;
