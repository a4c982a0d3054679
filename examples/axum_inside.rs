//! The Rust web ecosystem inside Kamaelia's server: an axum `Router`, with tower-http's
//! compression as its middleware, mounted at `/api` of an `HTTPServer`, beside the cookbook's
//! routes (`/echo`, `/hello` and the bundled site), all on one route table. The router is a tower
//! service, a route target as a component factory is: the seeds' wish for "an adapter component
//! that adapts the framework to provide a WSGI interface", in Rust's terms.
//!
//! ```text
//! cargo run --example axum_inside                     # on 127.0.0.1:8082
//! cargo run --example axum_inside -- --port 8090 --root /srv/www/htdocs
//! curl -i http://127.0.0.1:8082/api/health            # ok        (axum)
//! curl -i http://127.0.0.1:8082/api/echo/kamaelia     # kamaelia  (axum's parameter)
//! curl -i --compressed http://127.0.0.1:8082/api/echo/kamaeliakamaeliakamaeliakamaeliakamaelia
//!                                                     # gzip (over 32 bytes), from tower-http
//! curl -i http://127.0.0.1:8082/hello                 # the cookbook's HelloHandler (a component)
//! curl -i http://127.0.0.1:8082/                      # Minimal: the bundled site
//! ```
//!
//! The requests under `/api` reach the router with the path below the prefix (`/health`), as
//! axum's own `nest_service` gives them; the router's answers are framed, logged and kept alive by
//! our server exactly as a component's are.

mod cookbook;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::extract::Path;
use clap::Parser;
use kamaelia::axon::Instance;
use kamaelia::chassis::{ConnectionInfo, Graphline, SimpleServer, SocketOptions};
use kamaelia::http::http_server::shared_factory;
use kamaelia::http::routes::Routes;
use kamaelia::http::{
    factory, request_handlers, Bytes, EchoHandler, HTTPServer, HelloHandler, HttpSettings, Minimal, Payload, Request,
};
use kamaelia::site::bundled_site;

static HOMEDIRECTORY: OnceLock<Option<PathBuf>> = OnceLock::new();

fn serve_page(request: Request) -> Minimal {
    match HOMEDIRECTORY.get().expect("set in main") {
        Some(homedirectory) => Minimal::new(request, homedirectory, "index.html"),
        None => Minimal::embedded(request, bundled_site(), "index.html"),
    }
}

/// The axum application: written as any axum application is, knowing nothing of Kamaelia.
fn api() -> axum::Router {
    axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/echo/{word}", axum::routing::get(|Path(word): Path<String>| async move { word }))
        .layer(tower_http::compression::CompressionLayer::new())
}

/// One table: the router under `/api`, the cookbook's prefix list under everything else.
fn routes() -> Routes {
    let cookbook = request_handlers([
        ("/echo", factory(EchoHandler::new)),
        ("/hello", factory(HelloHandler::new)),
        ("/", factory(serve_page)),
    ]);
    Routes::new()
        .mount("/api", api())
        .and_then(|routes| routes.mount("/", cookbook))
        .expect("the routes do not conflict")
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let options = cookbook::Options::parse();
    HOMEDIRECTORY.set(options.root).expect("set once");
    let create_request_handler = shared_factory(routes().into_factory());
    let settings = Arc::new(HttpSettings::default());
    let http_protocol = move |connection: &ConnectionInfo| -> Instance<Graphline<Bytes, Payload>> {
        HTTPServer::with_settings(connection, create_request_handler.clone(), settings.clone())
    };
    let server = SimpleServer {
        socket_options: SocketOptions { reuse_address: true, ..SocketOptions::default() },
        ..SimpleServer::new(http_protocol, options.port)
    };
    if let Err(e) = Instance::new(server).run() {
        log::error!("{e}");
        std::process::exit(1);
    }
}
