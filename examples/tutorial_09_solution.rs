//! Tutorial step 9, the exercise's solution (`docs/tutorial/09-tcp-server.md`): a protocol that
//! greets its client and numbers what it sends back. Each connection has its own, so each
//! client's count starts at 1.
//!
//! ```text
//! SimpleServer, and two children for each connection:
//!
//!   client A ⇄ socket ⇄ ConnectedSocketAdapter ⇄ Counted (A's count)
//!   client B ⇄ socket ⇄ ConnectedSocketAdapter ⇄ Counted (B's count)
//! ```
//!
//! ```text
//! cargo run --example tutorial_09_solution       # listens on 127.0.0.1:1601; Ctrl-C stops it
//! nc 127.0.0.1 1601
//! ```

use std::error::Error;

use kamaelia::chassis::server::BoundServer;
use kamaelia::chassis::{Bytes, ServerError, SimpleServer};
use kamaelia::prelude::*;

/// The protocol: says hello, then sends back each piece the client sends, numbered.
#[derive(Debug)]
pub struct Counted;

impl Component for Counted {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        ctx.outbox.send(Bytes::from_static(b"hello: I number what you send\n")).await;
        let mut count = 0;
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(bytes) => {
                    count += 1;
                    let text = String::from_utf8_lossy(&bytes);
                    ctx.outbox.send(format!("{count}: {text}").into()).await;
                }
                Event::Control(msg) => {
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// The server on `port` (0: any free port), bound and ready to activate.
pub async fn server(port: u16) -> Result<BoundServer<Counted>, ServerError> {
    SimpleServer::new(|| Counted, port).bind().await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let server = server(1601).await?;
    let address = server.local_addr();
    println!("numbering on {address}: try `nc {} {}`", address.ip(), address.port());
    let handle = server.handle();
    let running = Scheduler::new().activate(server);
    tokio::signal::ctrl_c().await?;
    handle.shutdown();
    running.join().await;
    Ok(())
}
