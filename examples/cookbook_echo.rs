//! The third program of Kamaelia's HTTPServer cookbook page, "Writing a response handler to use
//! a Pipeline": `EchoHandler(request) = Pipeline(Cat(request), ExampleWrapper())` shows the
//! request as a page on `/echo`; `/hello` and static files as before.
//!
//! ```text
//! cargo run --example cookbook_echo                     # on 127.0.0.1:8082, the bundled site
//! curl -i 'http://127.0.0.1:8082/echo?x=1'
//! ```
//!
//! The two reusable components it ports:
//!
//! ```python
//! class Cat(Axon.Component.component):
//!     def __init__(self, *args):
//!         super(Cat, self).__init__()
//!         self.args = args
//!     def main(self):
//!         self.send(self.args, "outbox")
//!         self.send(Axon.Ipc.producerFinished(self), "signal")
//!         yield 1
//!
//! class ExampleWrapper(Axon.Component.component):
//!     def main(self):
//!         # Tell the browser the type of data we're sending!
//!         self.send({"type": "text/html", "statuscode": "200"}, "outbox"); yield 1
//!         # Send the header
//!         self.send({"data": "<html><body>"}, "outbox"); yield 1
//!         # Wait for it....
//!         while not self.dataReady("inbox"):
//!             self.pause()
//!             yield 1
//!         # Send the data we recieve as the page body
//!         while self.dataReady("inbox"):
//!             self.send({"data": str(self.recv("inbox"))}, "outbox"); yield 1
//!         # send a footer
//!         self.send({"data": "</body></html>"}, "outbox"); yield 1
//!         # and shutdown nicely
//!         self.send(Axon.Ipc.producerFinished(self), "signal")
//!         yield 1
//!
//! def EchoHandler(request):
//!     return Pipeline ( Cat(request), ExampleWrapper() )
//! ```
//!
//! Here `ExampleWrapper` HTML-escapes what it shows (the cookbook's put the request, whatever the
//! client sent, into the page raw), and shows everything until `Cat` finishes.

mod cookbook;

use std::fmt::Display;
use std::path::PathBuf;
use std::sync::OnceLock;

use clap::Parser;
use kamaelia::axon::ipc::ProducerFinished;
use kamaelia::axon::{Component, ComponentResult, Context, Event, Instance};
use kamaelia::chassis::{ConnectionInfo, Graphline, Pipeline, SimpleServer, SocketOptions};
use kamaelia::http::error_pages::escape_text;
use kamaelia::http::{
    factory, request_handlers, Bytes, HTTPServer, HelloHandler, Minimal, Payload, Request, Resource, ResponseHead,
    StatusCode,
};
use kamaelia::site::bundled_site;

// Our configuration (from `--root`; by default, none: the bundled site, compiled into the program).
static HOMEDIRECTORY: OnceLock<Option<PathBuf>> = OnceLock::new();
const INDEXFILENAME: &str = "index.html";

fn serve_page(request: Request) -> Minimal {
    match HOMEDIRECTORY.get().expect("set in main") {
        Some(homedirectory) => Minimal::new(request, homedirectory, INDEXFILENAME),
        None => Minimal::embedded(request, bundled_site(), INDEXFILENAME),
    }
}

/// Takes an argument (the request) and sends it out of its outbox, so it can start a Pipeline.
struct Cat<T>(T);

impl<T: Send + 'static> Component for Cat<T> {
    type Inbox = Bytes;
    type Outbox = T;

    async fn main(self, mut ctx: Context<Bytes, T>) -> ComponentResult {
        ctx.outbox.send(self.0).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Takes what it sees and stuffs it into an HTML response.
struct ExampleWrapper<T>(std::marker::PhantomData<fn(T)>);

impl<T: Display + Send + 'static> Component for ExampleWrapper<T> {
    type Inbox = T;
    type Outbox = Resource;

    async fn main(self, mut ctx: Context<T, Resource>) -> ComponentResult {
        // Tell the browser the type of data we're sending!
        let resource = ResponseHead::new(StatusCode::OK).content_type("text/html; charset=utf-8");
        ctx.outbox.send(resource.into()).await;
        // Send the header
        ctx.outbox.send("<html><body>".into()).await;
        // Send the data we receive as the page body, until Cat has finished.
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(page_data) => ctx.outbox.send(escape_text(&page_data.to_string()).into()).await,
                // Cat has finished: everything it sent came before this.
                Event::Control(_) => break,
            }
        }
        // send a footer
        ctx.outbox.send("</body></html>".into()).await;
        // and shutdown nicely
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

fn echo_handler(request: Request) -> Pipeline<Bytes, Resource> {
    Pipeline::new(Cat(request)).then(ExampleWrapper(std::marker::PhantomData))
}

// A factory to create configured HTTPServer components - ie HTTP Protocol handling components
// (told its connection's addresses, which every request then carries)
fn http_protocol(connection: &ConnectionInfo) -> Instance<Graphline<Bytes, Payload>> {
    HTTPServer::for_connection(
        connection,
        request_handlers([
            ("/echo", factory(echo_handler)),
            ("/hello", factory(HelloHandler::new)),
            ("/", factory(serve_page)),
        ]),
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
