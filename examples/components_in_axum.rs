//! Kamaelia's components inside the Rust web ecosystem: an axum application, served by hyper,
//! answers `GET /health` itself and hands `/hello` to the cookbook's `HelloHandler` (a component
//! made per request) and everything else to `Minimal` (the bundled site, or `--root`), each
//! through [`KamaeliaService`], the tower service our handlers are to the ecosystem.
//!
//! ```text
//! cargo run --example components_in_axum              # on 127.0.0.1:8082
//! cargo run --example components_in_axum -- --port 8090 --root /srv/www/htdocs
//! curl -i http://127.0.0.1:8082/health                # ok                     (axum)
//! curl -i http://127.0.0.1:8082/hello                 # Hello World            (a component)
//! curl -i http://127.0.0.1:8082/                      # the site's index.html  (Minimal)
//! ```
//!
//! Here hyper owns the connections, and axum the routing: the components run on their own
//! scheduler, each driven through an axon `Handle`, the request body fed to its `inbox` as it
//! arrives and its answer streamed out as it sends it.

mod cookbook;

use std::path::PathBuf;

use clap::Parser;
use kamaelia::http::{HelloHandler, KamaeliaService, Minimal, Request};
use kamaelia::site::bundled_site;

/// The axum application, with our handlers mounted in it.
fn app(root: Option<PathBuf>) -> axum::Router {
    let serve_page = move |request: Request| match &root {
        Some(homedirectory) => Minimal::new(request, homedirectory, "index.html"),
        None => Minimal::embedded(request, bundled_site(), "index.html"),
    };
    axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route_service("/hello", KamaeliaService::new(HelloHandler::new))
        .fallback_service(KamaeliaService::new(serve_page))
}

#[tokio::main]
async fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let options = cookbook::Options::parse();
    let app = app(options.root);
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", options.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            log::error!("cannot listen on 127.0.0.1:{}: {e}", options.port);
            std::process::exit(1);
        }
    };
    let address = listener.local_addr().expect("a bound address");
    log::info!("components_in_axum: listening on {address}");
    // hyper serves each connection, with the axum application as its service.
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                log::warn!("accept failed: {e}");
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                log::debug!("{peer}: {e}");
            }
        });
    }
}
