//! `peer_actix`: the actix-web 4 peer of the HTTP suite (`bench/run.sh`). A minimal server with
//! two workers (the machine's two cores), actix-web's defaults otherwise (keep-alive on).
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin peer_actix -- --port 8084
//! curl -si http://127.0.0.1:8084/hello
//! ```
//!
//! `GET /hello` answers what the cookbook server's `/hello` answers: status `200 OK`, the headers
//! `Date`, `Server`, `Transfer-Encoding: chunked` and `content-type: text/html`, and the body
//! `<html><body><h1>Hello World</h1><P>Woo!!</body></html>` in one chunk (a streaming body, which
//! actix-web frames in chunks). The bytes on the wire have the same length; actix-web writes
//! header names in lower case, `transfer-encoding` first and its own cached `date` last. Anything
//! else gets actix-web's default 404.

use std::convert::Infallible;

use actix_web::http::header::{CONTENT_TYPE, SERVER};
use actix_web::{web, App, HttpResponse, HttpServer};
use bytes::Bytes;

/// The cookbook's `/hello` body, byte for byte.
const HELLO: &[u8] = kamaelia_http::handlers::HELLO_PAGE.as_bytes();
/// The `Server` header our server sends, so that the heads have the same length.
const SERVER_NAME: &str = kamaelia_http::settings::DEFAULT_SERVER_NAME;
/// One worker per core of the benchmark machine.
const WORKERS: usize = 2;

async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((SERVER, SERVER_NAME))
        .insert_header((CONTENT_TYPE, "text/html"))
        .streaming(futures_util::stream::once(async { Ok::<_, Infallible>(Bytes::from_static(HELLO)) }))
}

/// `--port N` (default 8084).
fn port_from_args() -> std::io::Result<u16> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
    match args.as_slice() {
        [] => Ok(8084),
        [flag, port] if flag == "--port" => {
            port.parse().map_err(|_| bad(format!("--port: `{port}` is not a port number")))
        }
        _ => Err(bad(format!("usage: peer_actix [--port N]; got {args:?}"))),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let port = port_from_args()?;
    HttpServer::new(|| App::new().route("/hello", web::get().to(hello)))
        .workers(WORKERS)
        .bind(("127.0.0.1", port))?
        .run()
        .await
}
