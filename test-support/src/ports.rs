//! Ports for servers in tests, on 127.0.0.1.

use std::net::TcpListener;

/// A free port on 127.0.0.1 (the OS picks it; nothing listens on it after).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}
