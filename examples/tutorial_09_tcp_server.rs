//! Tutorial step 9, a TCP server (`docs/tutorial/09-tcp-server.md`): Kamaelia's
//! `SimpleServer(protocol=..., port=1601)`, with a protocol that shouts back what it hears.
//!
//! ```text
//! SimpleServer, and two children for each connection:
//!
//!   client A ⇄ socket ⇄ ConnectedSocketAdapter ──outbox→inbox──▶ Shout
//!                                              ◀──inbox←outbox──
//!                                              ◀──control←signal─
//!   client B ⇄ socket ⇄ ConnectedSocketAdapter ⇄ Shout
//!   ...
//! ```
//!
//! ```text
//! cargo run --example tutorial_09_tcp_server     # listens on 127.0.0.1:1601; Ctrl-C stops it
//! nc 127.0.0.1 1601                              # type a line: it comes back in capitals
//! ```

use std::error::Error;

use kamaelia::chassis::server::BoundServer;
use kamaelia::chassis::{Bytes, ServerError, SimpleServer};
use kamaelia::prelude::*;

/// The protocol: sends back what the client sends, in capitals. One is made for each
/// connection. When the connection ends (a message on `control`, which `next_event` hands over
/// after what the client sent before it), it passes the message on and ends.
#[derive(Debug)]
pub struct Shout;

impl Component for Shout {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(bytes) => ctx.outbox.send(bytes.to_ascii_uppercase().into()).await,
                Event::Control(msg) => {
                    ctx.signal.send(msg).await; // the socket adapter writes what it has, then closes
                    break;
                }
            }
        }
        Ok(())
    }
}

/// The server on `port` (0: any free port), bound and ready to activate.
pub async fn server(port: u16) -> Result<BoundServer<Shout>, ServerError> {
    SimpleServer::new(|| Shout, port).bind().await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let server = server(1601).await?;
    let address = server.local_addr();
    println!("shouting back on {address}: try `nc {} {}`", address.ip(), address.port());
    let handle = server.handle();
    let running = Scheduler::new().activate(server);
    tokio::signal::ctrl_c().await?;
    handle.shutdown(); // stop accepting; open connections get a grace period
    running.join().await;
    Ok(())
}
