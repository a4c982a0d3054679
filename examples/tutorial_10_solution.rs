//! Tutorial step 10, the exercise's solution (`docs/tutorial/10-chat-server.md`): the chat server
//! announces who joins and who leaves.
//!
//! ```text
//! a Graphline for each connection, one Backplane for all
//!
//!                             Backplane "CHAT_ONE"
//!                                ▲                      │ a copy to every subscriber
//!                                │                      ▼
//!   self.inbox ──▶ ANNOUNCE ──▶ TALK (PublishTo)      LISTEN (SubscribeTo) ──▶ self.outbox
//!
//!   the end travels: self.control ──▶ ANNOUNCE ──▶ TALK ──▶ LISTEN ──▶ self.signal
//!   (each signal linked to the next control); self.inbox brings the client's bytes,
//!   and what leaves self.outbox goes to the client
//! ```
//!
//! ```text
//! cargo run --example tutorial_10_solution       # listens on 127.0.0.1:1500; Ctrl-C stops it
//! ```

use std::error::Error;
use std::net::SocketAddr;

use kamaelia::axon::Instance;
use kamaelia::chassis::backplane::{Backplane, PublishTo, SubscribeTo};
use kamaelia::chassis::{Bytes, ConnectionInfo, SimpleServer};
use kamaelia::prelude::*;

/// Says that `peer` has joined, labels what it says, and says that it has left when the
/// connection ends (then passes the end on).
#[derive(Debug)]
pub struct Announce {
    peer: SocketAddr,
}

impl Component for Announce {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        let peer = self.peer;
        ctx.outbox.send(format!("* {peer} has joined\n").into()).await;
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(said) => {
                    ctx.outbox.send(format!("{peer} says {}", String::from_utf8_lossy(&said)).into()).await;
                }
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.outbox.send(format!("* {peer} has left\n").into()).await;
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

/// One client's protocol: step 10's, with `Announce` in place of the label.
pub fn echo_everyone(connection: &ConnectionInfo) -> Instance<Graphline<Bytes, Bytes>> {
    graphline! {
        LISTEN = SubscribeTo::<Bytes>::new("CHAT_ONE"),
        ANNOUNCE = Announce { peer: connection.peer },
        TALK = PublishTo::<Bytes>::new("CHAT_ONE"),
        linkages = {
            ("self", "inbox"): ("ANNOUNCE", "inbox"),
            ("ANNOUNCE", "outbox"): ("TALK", "inbox"),
            ("LISTEN", "outbox"): ("self", "outbox"),
            ("self", "control"): ("ANNOUNCE", "control"),
            ("ANNOUNCE", "signal"): ("TALK", "control"),
            ("TALK", "signal"): ("LISTEN", "control"),
            ("LISTEN", "signal"): ("self", "signal"),
        }
    }
    .expect("the linkages name boxes that exist, of matching types")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let scheduler = Scheduler::new();
    scheduler.activate(Backplane::<Bytes>::new("CHAT_ONE"));
    let server = SimpleServer::new(echo_everyone, 1500).bind().await?;
    let address = server.local_addr();
    println!("chat server on {address}: connect with `nc {} {}` from two terminals", address.ip(), address.port());
    let handle = server.handle();
    let running = scheduler.activate(server);
    tokio::signal::ctrl_c().await?;
    handle.shutdown();
    running.join().await;
    Ok(())
}
