//! `peer_hyper`: the hyper 1.x peer of the HTTP suite (`bench/run.sh`). A minimal server, written
//! the way hyper's own examples write one: a tokio multi-thread runtime (one worker per core),
//! HTTP/1.1 only, keep-alive, one task per connection, `TCP_NODELAY` set as our server sets it.
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin peer_hyper -- --port 8083
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

use bytes::Bytes;
use http_body_util::{Empty, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, SERVER, TRANSFER_ENCODING};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The cookbook's `/hello` body, byte for byte.
const HELLO: &[u8] = kamaelia_http::handlers::HELLO_PAGE.as_bytes();
/// The `Server` header our server sends, so that the heads have the same length.
const SERVER_NAME: &str = kamaelia_http::settings::DEFAULT_SERVER_NAME;

type Body = http_body_util::Either<Full<Bytes>, Empty<Bytes>>;

async fn hello(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if request.method() == Method::GET && request.uri().path() == "/hello" {
        let mut response = Response::new(Body::Left(Full::new(Bytes::from_static(HELLO))));
        let headers = response.headers_mut();
        headers.insert(SERVER, HeaderValue::from_static(SERVER_NAME));
        // An explicit `transfer-encoding: chunked` makes hyper frame even a known-length body in
        // chunks, as our server does, rather than with Content-Length.
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        Ok(response)
    } else {
        let mut response = Response::new(Body::Right(Empty::new()));
        *response.status_mut() = StatusCode::NOT_FOUND;
        Ok(response)
    }
}

/// `--port N` (default 8083).
fn port_from_args() -> Result<u16, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(8083),
        [flag, port] if flag == "--port" => port.parse().map_err(|_| format!("--port: `{port}` is not a port number")),
        _ => Err(format!("usage: peer_hyper [--port N]; got {args:?}")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let port = port_from_args()?;
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    log::info!("peer_hyper listening on http://{}/hello", listener.local_addr()?);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // EMFILE and friends: report and go on accepting, as a server should.
                log::warn!("accept failed: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            log::debug!("{peer}: cannot set TCP_NODELAY: {e}");
        }
        tokio::spawn(async move {
            let connection =
                http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service_fn(hello));
            if let Err(e) = connection.await {
                log::debug!("{peer}: {e}");
            }
        });
    }
}
