//! A server whose every route answers every method by sending the request body back, with the
//! request's `Content-Type`: the cookbook way to write a handler that reads its `inbox`
//! (`kamaelia::http::BodyEcho`, whose source is the example to read).
//!
//! ```text
//! cargo run --example body_echo                           # on 127.0.0.1:8082
//! curl -i -X PUT -H 'Content-Type: text/plain' --data-binary 'hello' http://127.0.0.1:8082/anything
//! curl -i -H 'Transfer-Encoding: chunked' --data-binary @Cargo.toml http://127.0.0.1:8082/
//! ```
//!
//! The body streams through: each piece is sent back as it arrives, so a body as large as the
//! server's `--max-body` passes in bounded memory. `--root` is accepted, like the other cookbook
//! examples, and unused.

mod cookbook;

use clap::Parser;
use kamaelia::axon::Instance;
use kamaelia::chassis::{ConnectionInfo, Graphline, SimpleServer, SocketOptions};
use kamaelia::http::{factory, request_handlers, BodyEcho, Bytes, HTTPServer, Payload};

fn http_protocol(connection: &ConnectionInfo) -> Instance<Graphline<Bytes, Payload>> {
    HTTPServer::for_connection(connection, request_handlers([("/", factory(BodyEcho::new))]))
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let options = cookbook::Options::parse();
    let server = SimpleServer {
        socket_options: SocketOptions { reuse_address: true, ..SocketOptions::default() },
        ..SimpleServer::new(http_protocol, options.port)
    };
    if let Err(e) = Instance::new(server).run() {
        log::error!("{e}");
        std::process::exit(1);
    }
}
