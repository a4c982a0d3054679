//! `peer_axum`: the axum peer of the routing benchmark (`bench/run.sh`, part `handlers`): the 50
//! routes of [`kamaelia_bench::route_table`], each answering `ok` as `text/plain`, served the way
//! `peer_hyper` serves (a tokio multi-thread runtime, `--threads N` workers, one per core by
//! default; HTTP/1.1, keep-alive, one task per connection, `TCP_NODELAY`; at most
//! `--max-requests N` requests a connection, 10,000 by default), with the `Server` field our
//! server sends.
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin peer_axum -- --port 8085
//! curl -si http://127.0.0.1:8085/api/r3/42/items/1
//! ```

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::header::{CONNECTION, SERVER};
use axum::http::HeaderValue;
use axum::routing::get;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use kamaelia_bench::PeerOptions;
use tokio::net::TcpListener;

const SERVER_NAME: &str = kamaelia_http::settings::DEFAULT_SERVER_NAME;

async fn answer() -> ([(axum::http::HeaderName, HeaderValue); 1], &'static str) {
    ([(SERVER, HeaderValue::from_static(SERVER_NAME))], "ok")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let options = PeerOptions::from_args("peer_axum", 8085)?;
    options.runtime()?.block_on(serve(options))
}

async fn serve(options: PeerOptions) -> Result<(), Box<dyn std::error::Error>> {
    let PeerOptions { port, max_requests: cap, .. } = options;
    let mut app = axum::Router::new();
    for pattern in kamaelia_bench::route_table() {
        app = app.route(&pattern, get(answer));
    }
    // `/hello` too, so that the suite's start-up check finds it.
    app = app.route("/hello", get(answer));
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    log::info!("peer_axum listening on http://{}/", listener.local_addr()?);
    loop {
        let (stream, peer) = kamaelia_bench::accept(&listener).await;
        let app = app.clone();
        let served = Arc::new(AtomicUsize::new(0));
        // The axum Router called as `TowerToHyperService` calls it (a clone per request), and the
        // suite's cap on requests per connection, as `peer_hyper` keeps it.
        let service = service_fn(move |request: Request<Incoming>| {
            let last = served.fetch_add(1, Ordering::Relaxed) + 1 >= cap;
            let answer = tower_service::Service::call(&mut app.clone(), request);
            async move {
                let mut response = answer.await?;
                if last {
                    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(response)
            }
        });
        tokio::spawn(async move {
            let connection = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                log::debug!("{peer}: {e}");
            }
        });
    }
}
