//! The second program of Kamaelia's HTTPServer cookbook page, "Writing your own first response
//! handler": `HelloHandler` answers `/hello`, `Minimal` serves files for everything else.
//!
//! ```text
//! cargo run --example cookbook_hello                    # on 127.0.0.1:8082, the bundled site
//! cargo run --example cookbook_hello -- --port 8090 --root /srv/www/htdocs
//! curl -i http://127.0.0.1:8082/hello
//! ```
//!
//! The handler it ports:
//!
//! ```python
//! class HelloHandler(Axon.Component.component):
//!     def __init__(self, request):
//!         super(HelloHandler, self).__init__()
//!         self.request = request
//!
//!     def main(self):
//!         resource = {
//!            "type"           : "text/html",
//!            "statuscode"     : "200",
//!         }
//!         self.send(resource, "outbox"); yield 1
//!         page = {
//!           "data" : "<html><body><h1>Hello World</h1><P>Woo!!</body></html>",
//!         }
//!         self.send(page, "outbox"); yield 1
//!         self.send(Axon.Ipc.producerFinished(self), "signal")
//!         yield 1
//! ```
//!
//! and the routing: `HTTPServer(requestHandlers([["/hello", HelloHandler], ["/", servePage]]))`.
//! The order of handlers matters: the first whose prefix matches handles the request.

mod cookbook;

use std::path::PathBuf;
use std::sync::OnceLock;

// We need the component model to write components!
use clap::Parser;
use kamaelia::axon::ipc::ProducerFinished;
use kamaelia::axon::{Component, ComponentResult, Context, Instance};
use kamaelia::chassis::{ConnectionInfo, Graphline, SimpleServer, SocketOptions};
use kamaelia::http::{
    factory, request_handlers, Bytes, HTTPServer, Minimal, Payload, Request, Resource, ResponseHead, StatusCode,
};
use kamaelia::site::bundled_site;

// Our configuration (from `--root`; by default, none: the bundled site, compiled into the program).
static HOMEDIRECTORY: OnceLock<Option<PathBuf>> = OnceLock::new();
const INDEXFILENAME: &str = "index.html";

struct HelloHandler {
    #[allow(dead_code)] // kept, as in the cookbook, though the page does not use it
    request: Request,
}

impl HelloHandler {
    fn new(request: Request) -> Self {
        HelloHandler { request }
    }
}

impl Component for HelloHandler {
    type Inbox = Bytes;
    type Outbox = Resource;

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let resource = ResponseHead::new(StatusCode::OK).content_type("text/html");
        ctx.outbox.send(resource.into()).await;
        let page = "<html><body><h1>Hello World</h1><P>Woo!!</body></html>";
        ctx.outbox.send(page.into()).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

fn serve_page(request: Request) -> Minimal {
    match HOMEDIRECTORY.get().expect("set in main") {
        Some(homedirectory) => Minimal::new(request, homedirectory, INDEXFILENAME),
        None => Minimal::embedded(request, bundled_site(), INDEXFILENAME),
    }
}

// A factory to create configured HTTPServer components - ie HTTP Protocol handling components
// (told its connection's addresses, which every request then carries)
fn http_protocol(connection: &ConnectionInfo) -> Instance<Graphline<Bytes, Payload>> {
    HTTPServer::for_connection(
        connection,
        request_handlers([("/hello", factory(HelloHandler::new)), ("/", factory(serve_page))]),
    )
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let options = cookbook::Options::parse();
    HOMEDIRECTORY.set(options.root).expect("set once");

    // Finally we create the actual server and run it. (`http_protocol` takes the connection's
    // addresses, so every request carries them.)
    let server = SimpleServer {
        socket_options: SocketOptions { reuse_address: true, ..SocketOptions::default() },
        ..SimpleServer::new(http_protocol, options.port)
    };
    if let Err(e) = Instance::new(server).run() {
        log::error!("{e}");
        std::process::exit(1);
    }
}
