//! The live page: a web server built of components shows its own running graph in a browser,
//! kept current as clients come and go.
//!
//! [`live_page`] is a route for [`request_handlers`](kamaelia_http::request_handlers): put it
//! first, under a path of its own ([`DEFAULT_PATH`], `/_introspect`), and the server answers
//! there with
//!
//! | path | what |
//! |---|---|
//! | `/_introspect` (or `/_introspect/`) | the page: HTML, CSS and script in one response, nothing fetched from elsewhere |
//! | `/_introspect/events` | the graph's changes as Server-Sent Events ([`GraphEvents`]): one `graph` event per [`GraphDelta`](axon_core::introspect::GraphDelta), in its JSON form, the first one full |
//! | `/_introspect/snapshot.json` | the whole graph now, as JSON ([`Snapshot`](axon_core::introspect::Snapshot)'s serde form) |
//!
//! The web server binary serves it with `--introspect` (off by default).
//!
//! # Example
//!
//! A server with the page beside its own routes, asked for the graph once:
//!
//! ```
//! use std::io::{Read, Write};
//!
//! use kamaelia::axon::Scheduler;
//! use kamaelia::chassis::ServerCore;
//! use kamaelia::http::{factory, request_handlers, HTTPServer, HelloHandler};
//! use kamaelia::live::{live_page, LiveSettings, DEFAULT_PATH};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let routes = request_handlers([
//!     (DEFAULT_PATH, live_page(LiveSettings::default())),
//!     ("/hello", factory(HelloHandler::new)),
//! ]);
//! let server = ServerCore::new(move |c| HTTPServer::for_connection(c, routes.clone()), 0).bind().await?;
//! let (address, handle) = (server.local_addr(), server.handle());
//! let scheduler = Scheduler::new();
//! let running = scheduler.activate(server);
//!
//! let graph = tokio::task::spawn_blocking(move || {
//!     let mut client = std::net::TcpStream::connect(address).unwrap();
//!     let ask = format!("GET /_introspect/snapshot.json HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
//!     client.write_all(ask.as_bytes()).unwrap();
//!     let mut response = String::new();
//!     client.read_to_string(&mut response).unwrap();
//!     response
//! })
//! .await?;
//! assert!(graph.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(graph.contains(r#""class":"ServerCore""#), "{graph}");
//! handle.shutdown();
//! running.join().await;
//! # Ok(()) }
//! ```
//!
//! # How it works
//!
//! The page is a small script (`src/live/page.js`, compiled into the crate with the page and its
//! style). It opens an `EventSource` on `events`, keeps a copy of the graph with each delta (as
//! [`Snapshot::apply`](axon_core::introspect::Snapshot::apply) does), and redraws at most a few
//! times a second: each component a card inside its parent's card (a connection's `Graphline`
//! holds its `HTTPParser`, `HTTPRequestHandler` and shutdown logic, the request handler holds
//! the handler of the request under way), its inboxes on the left with a bar showing how full each
//! is against its capacity, its outboxes on the right, and each linkage an arrow between two
//! boxes (dashed for passthroughs). The browser lays the cards out (nested flex boxes); the
//! arrows are drawn over them in SVG, hand-written, with no library: a layered graph layout
//! (dagre, elkjs) would place components freely, where here the nesting is the layout, and it
//! would cost more script than the page itself.
//!
//! Beyond a few dozen components a drawing stops being readable, and drawing thousands would
//! freeze the browser, so the page folds: siblings of the same shape (same class, same children's
//! classes: the graphs of two connections) are drawn up to a threshold (`?fold=N`, 6 by default)
//! and the rest are counted on one card (`+ 240 more Graphline`); past a budget of cards
//! (`?max=N`, 400 by default) the rest of a level is counted on one card too.
//!
//! Each viewer's stream is a [`GraphEvents`] component, made per request like any handler, with
//! an [`Introspector`](axon_core::introspector::Introspector) as its child. The page therefore
//! shows its own stream too, and a second viewer sees the first one's.
//!
//! # Limits, and bad input
//!
//! * **Who may ask.** The page and its streams answer only on the address the server listens on:
//!   a request whose `Host` names anything else (a name that resolves to this machine by a DNS
//!   trick, from a page elsewhere) gets 403, naming the address to use. `localhost` is accepted
//!   for a loopback address. (A request with no `Host`, as HTTP/1.0 allows, is served.) There is
//!   no separate port: nothing listens that the server did not.
//! * **Methods and paths.** `GET` and `HEAD` (the stream: `GET` only, since it has no end to
//!   show a `HEAD`); anything else gets 405 with `Allow`. A path under the page's that is none
//!   of the three gets 404 naming it (escaped).
//! * **Viewers.** At most [`LiveSettings::max_viewers`] streams run at once ([`DEFAULT_MAX_VIEWERS`]);
//!   past it, 503 with the count.
//! * **A slow reader** holds its stream back instead of filling a box: the stream sends an event
//!   only when the connection can take it, its introspector looks only when the stream can take a
//!   delta, and the next delta covers everything that changed meanwhile (the page never sees the
//!   states in between; if that delta would be no shorter than the graph, it is the whole graph).
//!   Every box on the way is bounded.
//! * **A reader that goes away** ends the components that served it: the connection's socket
//!   adapter ends at the next write (the stream writes a comment line every
//!   [`LiveSettings::heartbeat`] when the graph is quiet, so this happens within two heartbeats),
//!   the request handler stops the stream, and the stream's introspector stops with it. Another
//!   viewer sees them go.
//! * **Cost.** Nothing when no one watches: the scheduler has no hook for the page. Each viewer
//!   costs one look at the graph per [`LiveSettings::interval`] (`docs/benchmarks.md` measures
//!   it).
//!
//! # Limitations
//!
//! The folding is the page's: the stream carries the whole graph, so its first event grows with
//! it (about 1.6 KB a component, box descriptions included: 2 MB for 1,200 components), and under
//! load each later one carries every state and depth that moved (145 KB every 250 ms for those
//! 1,200). A component born and gone between two looks is never seen. The page draws nesting and
//! linkages, not message flow: it shows where messages wait, not how many pass.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axon_core::ipc::ProducerFinished;
use axon_core::prelude::*;
use kamaelia_http::{Bytes, ErrorPages, Factory, Handler, Method, Request, Resource, ResponseHead, StatusCode};

mod events;

pub use events::GraphEvents;

/// The path the binary serves the page at: `/_introspect`.
pub const DEFAULT_PATH: &str = "/_introspect";

/// How many streams may run at once by default: 4.
pub const DEFAULT_MAX_VIEWERS: usize = 4;

/// How long a quiet stream waits before writing a comment line, by default: 5 s. That write is
/// how a reader that has gone away is noticed (the next write after it fails).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);

/// The page, its style and its script, in one response.
const PAGE: &str = concat!(
    include_str!("page.html"),
    "<style>\n",
    include_str!("page.css"),
    "</style>\n<script>\n",
    include_str!("page.js"),
    "</script>\n</body>\n</html>\n"
);

/// What the live page's streams do: how often they look, how long a quiet one waits, and how
/// many may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSettings {
    /// How often each stream's introspector looks at the graph
    /// ([`DEFAULT_INTERVAL`](axon_core::introspector::DEFAULT_INTERVAL), 250 ms; at least
    /// [`MIN_INTERVAL`](axon_core::introspector::MIN_INTERVAL)).
    pub interval: Duration,
    /// How long a stream with nothing to send waits before writing a comment line
    /// ([`DEFAULT_HEARTBEAT`]; the binary's `--introspect-heartbeat`): a reader that has gone is
    /// noticed at the next write after it went, and the components that served it end.
    pub heartbeat: Duration,
    /// How many streams may run at once ([`DEFAULT_MAX_VIEWERS`]); past it, 503.
    pub max_viewers: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            interval: axon_core::introspector::DEFAULT_INTERVAL,
            heartbeat: DEFAULT_HEARTBEAT,
            max_viewers: DEFAULT_MAX_VIEWERS,
        }
    }
}

/// The route serving the live page, its stream and its snapshot, for
/// [`request_handlers`](kamaelia_http::request_handlers): see the [module docs](self).
pub fn live_page(settings: LiveSettings) -> Factory {
    let viewers = Arc::new(AtomicUsize::new(0));
    Arc::new(move |request: Request| answer(request, &settings, &viewers))
}

/// The handler for one request under the page's path.
fn answer(request: Request, settings: &LiveSettings, viewers: &Arc<AtomicUsize>) -> Handler {
    if let Err(refused) = check_host(&request) {
        return refused.into();
    }
    let suffix = request.uri_suffix.as_str();
    // The stream never ends, so a HEAD (a head and no body) cannot be answered as a GET would be.
    let allowed: &[Method] = if suffix == "/events" { &[Method::GET] } else { &[Method::GET, Method::HEAD] };
    if !allowed.contains(&request.method) {
        return ErrorPages::method_not_allowed(&request.method, allowed).into();
    }
    match suffix {
        "" | "/" => static_page(PAGE).into(),
        "/snapshot.json" => snapshot().into(),
        "/events" => match ViewerSlot::take(viewers, settings.max_viewers) {
            Some(slot) => GraphEvents::new(settings.interval, settings.heartbeat).holding(slot).into(),
            None => ErrorPages::website_error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "The live page already has {} viewers, its limit (--introspect-viewers).",
                    settings.max_viewers
                ),
            )
            .into(),
        },
        other => ErrorPages::website_error_page(
            StatusCode::NOT_FOUND,
            format!("The live page has no {}{}.", request.uri_prefix_trigger, escape(other)),
        )
        .into(),
    }
}

/// Keeps the page to the address the server listens on: `Err` with a 403 page if the request's
/// `Host` names another (see the module docs).
fn check_host(request: &Request) -> Result<(), ErrorPages> {
    let (Some(local), Some(host)) = (request.local, request.headers.get(http::header::HOST)) else {
        return Ok(());
    };
    let host = host.to_str().unwrap_or("");
    if host_names(host, local) {
        return Ok(());
    }
    Err(ErrorPages::website_error_page(
        StatusCode::FORBIDDEN,
        format!(
            "The live page answers only on the address the server listens on: ask for http://{local}{}, \
             not for Host {}.",
            request.uri_prefix_trigger,
            escape(host)
        ),
    ))
}

/// Whether the `Host` value `host` names `local`: its address and port, or `localhost` and its
/// port for a loopback address.
fn host_names(host: &str, local: SocketAddr) -> bool {
    if host.eq_ignore_ascii_case(&local.to_string()) {
        return true;
    }
    let port = local.port().to_string();
    let name = match host.rsplit_once(':') {
        Some((name, p)) if p == port => name,
        _ => return false,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    match name.parse::<IpAddr>() {
        Ok(ip) => ip == local.ip(),
        Err(_) => local.ip().is_loopback() && name.eq_ignore_ascii_case("localhost"),
    }
}

/// `text` with anything but printable ASCII shown as `\xNN` (it came from the network).
fn escape(text: &str) -> String {
    text.bytes().flat_map(std::ascii::escape_default).map(char::from).collect()
}

/// A handler sending `page` as HTML, whole, with its length.
fn static_page(page: &'static str) -> impl Component<Inbox = Bytes, Outbox = Resource> {
    from_fn("LivePage", move |mut ctx: Context<Bytes, Resource>| async move {
        let head = ResponseHead::new(StatusCode::OK)
            .content_type("text/html; charset=utf-8")
            .header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"))
            .length(page.len() as u64);
        ctx.outbox.send(head.into()).await;
        ctx.outbox.send(Resource::Data(Bytes::from_static(page.as_bytes()))).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    })
}

/// A handler sending the whole graph now, as JSON.
fn snapshot() -> impl Component<Inbox = Bytes, Outbox = Resource> {
    from_fn("LiveSnapshot", |mut ctx: Context<Bytes, Resource>| async move {
        let json = serde_json::to_vec(&ctx.scheduler().introspect())?;
        let head = ResponseHead::new(StatusCode::OK)
            .content_type("application/json")
            .header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"))
            .length(json.len() as u64);
        ctx.outbox.send(head.into()).await;
        ctx.outbox.send(Resource::Data(Bytes::from(json))).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    })
}

/// One of the [`LiveSettings::max_viewers`] places, held by a stream for its life and given back
/// when it is dropped (when the stream ends, however it ends, or if it never ran).
#[derive(Debug)]
pub(crate) struct ViewerSlot(Arc<AtomicUsize>);

impl ViewerSlot {
    /// A place among `max`, if one is free.
    fn take(viewers: &Arc<AtomicUsize>, max: usize) -> Option<ViewerSlot> {
        viewers.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1)).ok()?;
        Some(ViewerSlot(viewers.clone()))
    }
}

impl Drop for ViewerSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_must_name_the_listening_address() {
        let loopback: SocketAddr = "127.0.0.1:8082".parse().unwrap();
        for host in ["127.0.0.1:8082", "localhost:8082", "LOCALHOST:8082"] {
            assert!(host_names(host, loopback), "{host}");
        }
        for host in ["127.0.0.1:8083", "evil.example:8082", "127.0.0.2:8082", "localhost", "127.0.0.1"] {
            assert!(!host_names(host, loopback), "{host}");
        }
        let v6: SocketAddr = "[::1]:9000".parse().unwrap();
        assert!(host_names("[::1]:9000", v6));
        assert!(host_names("localhost:9000", v6));
        let lan: SocketAddr = "192.168.1.5:8082".parse().unwrap();
        assert!(host_names("192.168.1.5:8082", lan));
        assert!(!host_names("localhost:8082", lan), "localhost is not the LAN address");
    }

    #[test]
    fn viewer_slots_are_counted_and_given_back() {
        let viewers = Arc::new(AtomicUsize::new(0));
        let a = ViewerSlot::take(&viewers, 2).unwrap();
        let b = ViewerSlot::take(&viewers, 2).unwrap();
        assert!(ViewerSlot::take(&viewers, 2).is_none());
        drop(a);
        let c = ViewerSlot::take(&viewers, 2).unwrap();
        drop((b, c));
        assert_eq!(viewers.load(Ordering::Acquire), 0);
    }

    #[test]
    fn the_page_is_one_document_with_its_style_and_script() {
        assert!(PAGE.starts_with("<!doctype html>"));
        assert!(PAGE.contains("<style>") && PAGE.contains("<script>") && PAGE.ends_with("</html>\n"));
        assert!(!PAGE.contains("src=\"http") && !PAGE.contains("href=\"http"), "nothing fetched from elsewhere");
    }
}
