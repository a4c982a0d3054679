//! Tutorial step 10, a Backplane (`docs/tutorial/10-chat-server.md`): Kamaelia's chat server.
//! Everything a client types is published to the backplane `CHAT_ONE`, labelled with the
//! client's address, and every client receives everything published there.
//!
//! The Kamaelia original (from its introspection tutorial):
//!
//! ```python
//! Backplane("CHAT_ONE").activate()
//!
//! def EchoEveryone(**kwargs):
//!     peer = str(kwargs.get("peer", "<>"))
//!     peerport = str(kwargs.get("peerport", "<>"))
//!     return Pipeline(
//!         PureTransformer(lambda x: "%s:%s says %s" % (peer, peerport, x)),
//!         PublishTo("CHAT_ONE"),
//!         # ------------
//!         SubscribeTo("CHAT_ONE"),
//!     )
//!
//! FastRestartServer(protocol=EchoEveryone, port=1500).run()
//! ```
//!
//! Here each connection's protocol is that Pipeline drawn as a Graphline, so that the subscriber
//! is activated first (see the tutorial):
//!
//! ```text
//! EchoEveryone: a Graphline for each connection, one Backplane for all
//!
//!                          Backplane "CHAT_ONE"
//!                             ▲                      │ a copy to every subscriber
//!                             │                      ▼
//!   self.inbox ──▶ LABEL ──▶ TALK (PublishTo)      LISTEN (SubscribeTo) ──▶ self.outbox
//!
//!   the end travels: self.control ──▶ LABEL ──▶ TALK ──▶ LISTEN ──▶ self.signal
//!   (each signal linked to the next control); self.inbox brings the client's bytes,
//!   and what leaves self.outbox goes to the client
//! ```
//!
//! ```text
//! cargo run --example tutorial_10_chat_server    # listens on 127.0.0.1:1500; Ctrl-C stops it
//! nc 127.0.0.1 1500                              # in two or more terminals: type, and read
//! ```

use std::error::Error;

use kamaelia::axon::Instance;
use kamaelia::chassis::backplane::{Backplane, PublishTo, SubscribeTo};
use kamaelia::chassis::{Bytes, ConnectionInfo, SimpleServer};
use kamaelia::prelude::*;

/// One client's protocol (Kamaelia's `EchoEveryone`): what the client sends is labelled with its
/// address and published to `CHAT_ONE`; everything published there is sent to the client.
pub fn echo_everyone(connection: &ConnectionInfo) -> Instance<Graphline<Bytes, Bytes>> {
    let peer = connection.peer;
    let label = move |said: Bytes| Bytes::from(format!("{peer} says {}", String::from_utf8_lossy(&said)));
    graphline! {
        // First: a SubscribeTo subscribes when it is activated, and a Graphline activates its
        // children in this order, so the client hears all it says itself.
        LISTEN = SubscribeTo::<Bytes>::new("CHAT_ONE"),
        LABEL = PureTransformer::new(label),
        TALK = PublishTo::<Bytes>::new("CHAT_ONE"),
        linkages = {
            ("self", "inbox"): ("LABEL", "inbox"),
            ("LABEL", "outbox"): ("TALK", "inbox"),
            ("LISTEN", "outbox"): ("self", "outbox"),
            // the end travels as in the Pipeline: when the client goes, LABEL hears of it first
            ("self", "control"): ("LABEL", "control"),
            ("LABEL", "signal"): ("TALK", "control"),
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
    // The backplane first: publishers and subscribers find it by name when they start.
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
