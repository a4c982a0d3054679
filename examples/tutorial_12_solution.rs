//! Tutorial step 12, the exercise's second part (`docs/tutorial/12-watching-it-live.md`): step
//! 10's chat server and the live page in one program, on one scheduler, so that the page draws
//! the chat as clients join and leave, as Kamaelia's introspection tutorial showed it.
//!
//! ```text
//! one Scheduler:
//!   Backplane "CHAT_ONE"
//!   SimpleServer on 127.0.0.1:1500  ── a Graphline per client: ANNOUNCE, TALK, LISTEN (step 10)
//!   ServerCore on 127.0.0.1:8082    ── an HTTPServer per connection, /_introspect its one route
//! ```
//!
//! ```text
//! cargo run --example tutorial_12_solution
//! # open http://127.0.0.1:8082/_introspect/ in a browser, then in two terminals:
//! nc 127.0.0.1 1500
//! ```
//!
//! Each `nc` adds its connection's Graphline to the page (its `Announce`, `PublishTo` and
//! `SubscribeTo` inside it), and takes it away when it quits. The page's own connection is there
//! too: a `GraphEvents` with its `Introspector`, streaming the changes to the browser.

use std::error::Error;

use kamaelia::axon::Scheduler;
use kamaelia::chassis::backplane::Backplane;
use kamaelia::chassis::server::BoundServer;
use kamaelia::chassis::{Bytes, ConnectionInfo, Graphline, Payload, ServerCore, SimpleServer};
use kamaelia::http::{request_handlers, HTTPServer};
use kamaelia::live::{live_page, LiveSettings, DEFAULT_PATH};

/// Step 10's solution, as it is: the chat protocol that announces who joins and who leaves.
#[path = "tutorial_10_solution.rs"]
#[allow(dead_code)]
mod chat;

pub use chat::echo_everyone;

/// The web server on `port` with the live page as its one route, at `/_introspect`. The page
/// shows the scheduler this server is activated on: activate it beside what it should draw.
pub async fn live_server(port: u16) -> Result<BoundServer<Graphline<Bytes, Payload>>, Box<dyn Error>> {
    let routes = request_handlers([(DEFAULT_PATH, live_page(LiveSettings::default()))]);
    let protocol = move |connection: &ConnectionInfo| HTTPServer::for_connection(connection, routes.clone());
    Ok(ServerCore::new(protocol, port).bind().await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let scheduler = Scheduler::new();
    scheduler.activate(Backplane::<Bytes>::new("CHAT_ONE"));
    let chat = SimpleServer::new(echo_everyone, 1500).bind().await?;
    let page = live_server(8082).await?;
    println!("the live page: http://{}{DEFAULT_PATH}/", page.local_addr());
    println!("the chat: `nc {} {}` from two terminals", chat.local_addr().ip(), chat.local_addr().port());
    let (chat_handle, page_handle) = (chat.handle(), page.handle());
    let chat = scheduler.activate(chat);
    let page = scheduler.activate(page);
    tokio::signal::ctrl_c().await?;
    chat_handle.shutdown();
    page_handle.shutdown();
    chat.join().await;
    page.join().await;
    Ok(())
}
