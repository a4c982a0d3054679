//! Tutorial step 11, a web handler (`docs/tutorial/11-web-handler.md`): request handlers are
//! components made for each request, chosen by method and path with `Routes`.
//!
//! ```text
//! SimpleServer ──▶ for each connection: ConnectedSocketAdapter ⇄ HTTPServer, a Graphline:
//!
//!   PARSER ──▶ HANDLER ──▶ for each request, the handler the routes choose:
//!                            GET  /hello/{name}  → Greeting
//!                            POST /shout         → Shout
//!                            anything else       → 404, or 405 with Allow
//! ```
//!
//! ```text
//! cargo run --example tutorial_11_web_handler         # on 127.0.0.1:8082; Ctrl-C stops it
//! curl http://127.0.0.1:8082/hello/world
//! curl --data 'please be quiet' http://127.0.0.1:8082/shout; echo
//! ```

use std::error::Error;

use kamaelia::chassis::server::BoundServer;
use kamaelia::chassis::SimpleServer;
use kamaelia::http::routes::{get, post, RouteError, Routes};
use kamaelia::http::{Bytes, HTTPServer, Payload, Request, Resource, ResponseHead, StatusCode};
use kamaelia::prelude::*;

/// `GET /hello/{name}`: a page of one line greeting `name`.
#[derive(Debug)]
pub struct Greeting {
    name: String,
}

impl Component for Greeting {
    type Inbox = Bytes; // the request's body, if any
    type Outbox = Resource; // the response: its head, then its body

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let head = ResponseHead::new(StatusCode::OK).content_type("text/plain; charset=utf-8");
        ctx.outbox.send(head.into()).await;
        ctx.outbox.send(format!("Hello, {}!\n", self.name).into()).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await; // the response is complete
        Ok(())
    }
}

/// `POST /shout`: answers with the request's body in capitals.
#[derive(Debug)]
pub struct Shout;

impl Component for Shout {
    type Inbox = Bytes;
    type Outbox = Resource;

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        // The body arrives in pieces on inbox; a ProducerFinished on control follows the last.
        let mut body = Vec::new();
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(piece) => body.extend_from_slice(&piece),
                Event::Control(_) => break,
            }
        }
        let head = ResponseHead::new(StatusCode::OK).content_type("text/plain; charset=utf-8");
        ctx.outbox.send(head.into()).await;
        ctx.outbox.send(body.to_ascii_uppercase().into()).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Which handler each request gets (a pattern that overlaps another is an error).
pub fn routes() -> Result<Routes, RouteError> {
    let greeting = |request: Request| Greeting { name: request.param("name").unwrap_or_default().to_owned() };
    Routes::new().route("/hello/{name}", get(greeting))?.route("/shout", post(|_| Shout))
}

/// The server on `port` (0: any free port), bound and ready to activate: an `HTTPServer` for
/// each connection, all sharing one table of routes.
pub async fn server(port: u16) -> Result<BoundServer<Graphline<Bytes, Payload>>, Box<dyn Error>> {
    let create_request_handler = routes()?.into_factory();
    Ok(SimpleServer::new(move || HTTPServer::new(create_request_handler.clone()), port).bind().await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let server = server(8082).await?;
    println!("try `curl http://{}/hello/world`", server.local_addr());
    let handle = server.handle();
    let running = Scheduler::new().activate(server);
    tokio::signal::ctrl_c().await?;
    handle.shutdown();
    running.join().await;
    Ok(())
}
