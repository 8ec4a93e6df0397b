//! What the integration tests share, so that each test file holds only its scenarios: raw
//! clients and servers that send and check exact bytes, test certificates, bounded waits and
//! log capture.
//!
//! Every test binary compiles this whole module (`mod support;`) and uses a part of it.

#![allow(dead_code)]

pub mod browser;
pub mod client_errors;
pub mod deps;
pub mod examples;
pub mod hostile;
pub mod lines;
pub mod logs;
pub mod net;
pub mod python;
pub mod raw_http;
pub mod raw_http2;
pub mod raw_server;
pub mod redis;
pub mod scratch;
pub mod servers;
pub mod target_actors;
pub mod tls;
pub mod wait;
pub mod ws;
