//! Tutorial step 11, the exercise's solution (`docs/tutorial/11-web-handler.md`): `GET /count`
//! says how many requests the server has been asked, counted by wrapping the routes' factory.
//!
//! ```text
//! SimpleServer ──▶ for each connection: ConnectedSocketAdapter ⇄ HTTPServer, a Graphline:
//!
//!   PARSER ──▶ HANDLER ──▶ for each request, counted, the handler the routes choose:
//!                            GET /hello/{name}  → Text (a greeting)
//!                            GET /count         → Text (the count so far)
//! ```
//!
//! ```text
//! cargo run --example tutorial_11_solution         # on 127.0.0.1:8082; Ctrl-C stops it
//! curl http://127.0.0.1:8082/count
//! ```

use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kamaelia::chassis::server::BoundServer;
use kamaelia::chassis::SimpleServer;
use kamaelia::http::routes::{get, RouteError, Routes};
use kamaelia::http::{Bytes, HTTPServer, Handler, Payload, Request, Resource, ResponseHead, StatusCode};
use kamaelia::prelude::*;

/// A page of one line of text, then the end of the response.
#[derive(Debug)]
pub struct Text(String);

impl Component for Text {
    type Inbox = Bytes;
    type Outbox = Resource;

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let head = ResponseHead::new(StatusCode::OK).content_type("text/plain; charset=utf-8");
        ctx.outbox.send(head.into()).await;
        ctx.outbox.send(format!("{}\n", self.0).into()).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// The routes; `/count` reads `asked`.
pub fn routes(asked: Arc<AtomicU64>) -> Result<Routes, RouteError> {
    let greeting = |request: Request| Text(format!("Hello, {}!", request.param("name").unwrap_or_default()));
    let count = move |_: Request| Text(format!("asked {} time(s)", asked.load(Ordering::Relaxed)));
    Routes::new().route("/hello/{name}", get(greeting))?.route("/count", get(count))
}

/// The server on `port`: each request counted, then handed to the routes.
pub async fn server(port: u16) -> Result<BoundServer<Graphline<Bytes, Payload>>, Box<dyn Error>> {
    let asked = Arc::new(AtomicU64::new(0));
    let routes = routes(asked.clone())?.into_factory();
    // A request handler factory is a function from a request to a handler: wrap it to count.
    let counted = move |request: Request| -> Handler {
        asked.fetch_add(1, Ordering::Relaxed);
        routes(request)
    };
    Ok(SimpleServer::new(move || HTTPServer::new(counted.clone()), port).bind().await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let server = server(8082).await?;
    println!("try `curl http://{}/count`", server.local_addr());
    let handle = server.handle();
    let running = Scheduler::new().activate(server);
    tokio::signal::ctrl_c().await?;
    handle.shutdown();
    running.join().await;
    Ok(())
}
