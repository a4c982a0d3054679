//! What the live page's tests share: clients that hold connections open.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Opens `n` connections, each making a request and reading its whole response, kept open;
/// every read waits at most `deadline`.
/// (Each request goes in one write, and without Nagle's delay: a request written in pieces waits
/// for the server's delayed acknowledgement, 40 ms a request.)
pub fn connections(address: SocketAddr, n: usize, deadline: Duration) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut client = TcpStream::connect(address).unwrap();
            client.set_nodelay(true).unwrap();
            client.set_read_timeout(Some(deadline)).unwrap();
            client.write_all(format!("GET /hello HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes()).unwrap();
            let mut response = Vec::new();
            let mut buf = [0; 1024];
            while !response.ends_with(b"0\r\n\r\n") {
                let n = client.read(&mut buf).unwrap();
                assert_ne!(n, 0, "closed early");
                response.extend_from_slice(&buf[..n]);
            }
            client
        })
        .collect()
}
