//! `peer_axum`: the axum peer of the routing benchmark (`bench/run.sh`, part `handlers`): the 50
//! routes of [`kamaelia_bench::route_table`], each answering `ok` as `text/plain`, served the way
//! `peer_hyper` serves (a tokio multi-thread runtime, one worker per core, HTTP/1.1, keep-alive,
//! one task per connection, `TCP_NODELAY`), with the `Server` field our server sends.
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin peer_axum -- --port 8085
//! curl -si http://127.0.0.1:8085/api/r3/42/items/1
//! ```

use std::net::{Ipv4Addr, SocketAddr};

use axum::http::header::SERVER;
use axum::http::HeaderValue;
use axum::routing::get;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

const SERVER_NAME: &str = kamaelia_http::settings::DEFAULT_SERVER_NAME;

async fn answer() -> ([(axum::http::HeaderName, HeaderValue); 1], &'static str) {
    ([(SERVER, HeaderValue::from_static(SERVER_NAME))], "ok")
}

/// `--port N` (default 8085).
fn port_from_args() -> Result<u16, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(8085),
        [flag, port] if flag == "--port" => port.parse().map_err(|_| format!("--port: `{port}` is not a port number")),
        _ => Err(format!("usage: peer_axum [--port N]; got {args:?}")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let port = port_from_args()?;
    let mut app = axum::Router::new();
    for pattern in kamaelia_bench::route_table() {
        app = app.route(&pattern, get(answer));
    }
    // `/hello` too, so that the suite's start-up check finds it.
    app = app.route("/hello", get(answer));
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    log::info!("peer_axum listening on http://{}/", listener.local_addr()?);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                log::warn!("accept failed: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            log::debug!("{peer}: cannot set TCP_NODELAY: {e}");
        }
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                log::debug!("{peer}: {e}");
            }
        });
    }
}
