//! `peer_hyper`: the hyper 1.x peer of the HTTP suite (`bench/run.sh`). A minimal server, written
//! the way hyper's own examples write one: a tokio multi-thread runtime (`--threads N` workers,
//! the suite's as many as our server's threads; one per core by default), HTTP/1.1 only,
//! keep-alive, one task per connection, `TCP_NODELAY` set as our server sets it. A connection
//! serves at most `--max-requests N` requests (the suite's cap, the same for every server; 10,000
//! by default, as ours): the last is answered with `Connection: close`, and hyper closes.
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin peer_hyper -- --port 8083 --threads 2
//! curl -si http://127.0.0.1:8083/hello
//! ```
//!
//! `GET /hello` answers what the cookbook server's `/hello` answers (`curl -si` against
//! `target/release/kamaelia`): status `200 OK`, the headers `Date`, `Server`,
//! `Transfer-Encoding: chunked` and `content-type: text/html`, and the body
//! `<html><body><h1>Hello World</h1><P>Woo!!</body></html>` in one chunk. The bytes on the wire
//! have the same length; two things differ, both allowed by HTTP and neither costing anything:
//! hyper writes header names in lower case (its fast path; title case takes a slower, `#[cold]`
//! path), and appends its own cached `date` header after the others. Anything else gets an empty
//! 404.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{Empty, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, SERVER, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use kamaelia_bench::PeerOptions;
use tokio::net::TcpListener;

/// The cookbook's `/hello` body, byte for byte.
const HELLO: &[u8] = kamaelia_http::handlers::HELLO_PAGE.as_bytes();
/// The `Server` header our server sends, so that the heads have the same length.
const SERVER_NAME: &str = kamaelia_http::settings::DEFAULT_SERVER_NAME;

type Body = http_body_util::Either<Full<Bytes>, Empty<Bytes>>;

/// Answers `request`, the `served`th on its connection (counting from 1), of at most `cap`.
async fn hello(request: Request<Incoming>, served: usize, cap: usize) -> Result<Response<Body>, Infallible> {
    let mut response = answer(&request);
    if served >= cap {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(response)
}

fn answer(request: &Request<Incoming>) -> Response<Body> {
    if request.method() == Method::GET && request.uri().path() == "/hello" {
        let mut response = Response::new(Body::Left(Full::new(Bytes::from_static(HELLO))));
        let headers = response.headers_mut();
        headers.insert(SERVER, HeaderValue::from_static(SERVER_NAME));
        // An explicit `transfer-encoding: chunked` makes hyper frame even a known-length body in
        // chunks, as our server does, rather than with Content-Length.
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        response
    } else {
        let mut response = Response::new(Body::Right(Empty::new()));
        *response.status_mut() = StatusCode::NOT_FOUND;
        response
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let options = PeerOptions::from_args("peer_hyper", 8083)?;
    options.runtime()?.block_on(serve(options))
}

async fn serve(options: PeerOptions) -> Result<(), Box<dyn std::error::Error>> {
    let cap = options.max_requests;
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, options.port))).await?;
    log::info!("peer_hyper listening on http://{}/hello", listener.local_addr()?);
    loop {
        let (stream, peer) = kamaelia_bench::accept(&listener).await;
        tokio::spawn(async move {
            let served = Arc::new(AtomicUsize::new(0));
            let service = service_fn(move |request| hello(request, served.fetch_add(1, Ordering::Relaxed) + 1, cap));
            let connection = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                log::debug!("{peer}: {e}");
            }
        });
    }
}
