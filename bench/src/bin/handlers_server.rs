//! `handlers_server`: our server for the handler benchmarks of the suite (`bench/run.sh`, part
//! `handlers`): `GET /hello` answered by the kind of handler `--hello` names, and the 50 routes
//! of [`kamaelia_bench::route_table`] answered by a function, all on one [`Routes`] table. It
//! runs as the `kamaelia` binary runs (its default settings; a runtime on each of `--threads N`
//! threads, one per core by default), with the access log off unless `RUST_LOG=info`. A
//! connection serves at most `--max-requests N` requests (10,000 by default), as `peer_hyper`'s.
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin handlers_server -- --port 8084 --hello fn
//! curl -si http://127.0.0.1:8084/hello
//! curl -si http://127.0.0.1:8084/api/r3/42/items/1
//! ```
//!
//! `--hello component` is the cookbook's `HelloHandler`, a component per request (run in the
//! connection's handler host); `fn` an `async fn`; `tower` a `tower_service::Service` written
//! as `peer_hyper`'s `hello` is. All three send the bytes the cookbook server's `/hello` sends
//! (chunked, `text/html`), the bytes `peer_hyper` sends.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axon_core::Scheduler;
use bytes::Bytes;
use http_body_util::Full;
use kamaelia_bench::PeerOptions;
use kamaelia_chassis::{ConnectionInfo, SimpleServer, SocketOptions};
use kamaelia_http::handlers::HELLO_PAGE;
use kamaelia_http::http_server::shared_factory;
use kamaelia_http::routes::{get, Routes};
use kamaelia_http::{HTTPServer, HelloHandler, HttpSettings, Request, RequestBody, Response, ResponseHead, StatusCode};

/// `/hello` as an `async fn`: the head without a length (so chunked, as `HelloHandler`'s).
async fn hello_fn(_request: Request) -> Response {
    Response::new(
        ResponseHead::new(StatusCode::OK).content_type("text/html"),
        Bytes::from_static(HELLO_PAGE.as_bytes()),
    )
}

/// `/hello` as a tower service, answering as `peer_hyper` does.
#[derive(Clone)]
struct HelloService;

impl tower_service::Service<http::Request<RequestBody>> for HelloService {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: http::Request<RequestBody>) -> Self::Future {
        let mut response = http::Response::new(Full::new(Bytes::from_static(HELLO_PAGE.as_bytes())));
        let headers = response.headers_mut();
        headers.insert(http::header::TRANSFER_ENCODING, http::HeaderValue::from_static("chunked"));
        headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/html"));
        std::future::ready(Ok(response))
    }
}

/// The answer of every route of the table.
async fn table_answer(_request: Request) -> Response {
    Response::text("ok")
}

fn routes(hello: &str) -> Result<Routes, String> {
    let mut routes = Routes::new();
    for pattern in kamaelia_bench::route_table() {
        routes = routes.route(&pattern, get(table_answer)).map_err(|e| e.to_string())?;
    }
    let hello = match hello {
        "fn" => get(hello_fn),
        "tower" => get(HelloService),
        "component" => get(HelloHandler::new),
        other => return Err(format!("--hello: `{other}` is not fn, tower or component")),
    };
    routes.route("/hello", hello).map_err(|e| e.to_string())
}

/// The command line: `--hello fn|tower|component` (fn), and the options every server of the
/// suite takes ([`PeerOptions`]: `--port N`, 8084 here; `--threads N`, 0 for one per core;
/// `--max-requests N`, 10,000), so that the suite runs it at the strength of the others.
fn options_from_args() -> Result<(PeerOptions, String), String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let hello = match args.iter().position(|a| a == "--hello") {
        Some(at) if at + 1 < args.len() => args.drain(at..at + 2).nth(1).unwrap_or_default(),
        Some(_) => return Err("--hello needs a value: fn, tower or component".to_owned()),
        None => "fn".to_owned(),
    };
    Ok((PeerOptions::parse("handlers_server [--hello fn|tower|component]", 8084, args)?, hello))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let (PeerOptions { port, threads, max_requests }, hello) = options_from_args()?;
    let create = shared_factory(routes(&hello)?.into_factory());
    let settings = Arc::new(HttpSettings { max_requests_per_connection: max_requests, ..HttpSettings::default() });
    let protocol =
        move |connection: &ConnectionInfo| HTTPServer::with_settings(connection, create.clone(), settings.clone());
    // As the `kamaelia` binary makes its server (src/main.rs), with its default settings.
    let server = SimpleServer {
        socket_options: SocketOptions { reuse_address: true, ..SocketOptions::default() },
        ..SimpleServer::new(protocol, port)
    };
    let server = server.bind().await?;
    log::info!("handlers_server ({hello}) listening on http://{}/hello", server.local_addr());
    let scheduler = Scheduler::per_thread(threads);
    let running = scheduler.activate(server);
    running.join().await;
    Ok(())
}
