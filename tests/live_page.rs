//! The live page's server side, over real sockets (the drawing itself is tested in a browser,
//! `tests/live_page_browser.rs`): the page, its event stream and its snapshot are served under
//! their path; a `Host` naming another address is refused; viewers are limited; a reader that
//! goes away ends the components that served it, and another viewer sees them go; a slow reader
//! holds its stream back without any box growing, then catches up.
//!
//! Each test runs its own server on its own scheduler, and reads the stream over HTTP/1.0 so that
//! the body is the events themselves (close-delimited, not chunked). Every wait has a deadline.

mod live_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use kamaelia::axon::{BoxKind, ComponentRef, Scheduler};
use kamaelia::chassis::{ServerCore, ServerHandle};
use kamaelia::http::{factory, request_handlers, HTTPServer, HelloHandler};
use kamaelia::live::{live_page, LiveSettings, DEFAULT_PATH};
use serde_json::Value;

/// The class of a component named `name`: without its module path and its `_<id>`
/// (`kamaelia_http::parser::HTTPParser_12` is `HTTPParser`).
fn class(name: &str) -> &str {
    let name = name.rsplit("::").next().unwrap_or(name);
    name.rsplit_once('_').map_or(name, |(class, id)| if id.parse::<u64>().is_ok() { class } else { name })
}

/// How long anything here may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

/// A server with the live page at its default path and `/hello`, on a scheduler of its own.
struct Server {
    scheduler: Scheduler,
    address: SocketAddr,
    handle: ServerHandle,
    running: ComponentRef,
}

impl Server {
    fn start(settings: LiveSettings) -> Server {
        let routes = request_handlers([(DEFAULT_PATH, live_page(settings)), ("/hello", factory(HelloHandler::new))]);
        let scheduler = Scheduler::new();
        let server = ServerCore::new(move |c| HTTPServer::for_connection(c, routes.clone()), 0);
        let server = scheduler.runtime_handle().block_on(server.bind()).expect("a free port");
        let (address, handle) = (server.local_addr(), server.handle());
        let running = scheduler.activate(server);
        Server { scheduler, address, handle, running }
    }

    /// How many live components are of class `of`.
    fn count(&self, of: &str) -> usize {
        self.scheduler.introspect().components.iter().filter(|c| class(&c.name) == of).count()
    }

    /// Waits until `done` holds; panics naming `what` at the deadline.
    fn until(&self, what: &str, done: impl Fn(&Server) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(self) {
            assert!(Instant::now() < end, "waiting for {what}; the graph is\n{}", self.scheduler.introspect());
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `request` on a new connection and reads the whole response (the request should ask
    /// the server to close).
    fn ask(&self, request: &str) -> String {
        let mut client = TcpStream::connect(self.address).unwrap();
        client.set_read_timeout(Some(DEADLINE)).unwrap();
        client.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).unwrap();
        response
    }

    fn get(&self, path: &str) -> String {
        self.ask(&format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.address))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.shutdown();
        self.running.stop();
    }
}

/// The graph as a reader of the stream sees it: components (id to name and parent) and linkages.
#[derive(Debug, Default, PartialEq, Eq)]
struct Copy {
    components: BTreeMap<u64, (String, Option<u64>)>,
    linkages: BTreeSet<u64>,
}

impl Copy {
    /// Applies one delta in its JSON form.
    fn apply(&mut self, delta: &Value) {
        if delta["full"] == true {
            *self = Copy::default();
        }
        for id in delta["removed"].as_array().unwrap() {
            self.components.remove(&id.as_u64().unwrap());
        }
        for id in delta["links_removed"].as_array().unwrap() {
            self.linkages.remove(&id.as_u64().unwrap());
        }
        for c in delta["added"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap().to_owned();
            self.components.insert(c["id"].as_u64().unwrap(), (name, c["parent"].as_u64()));
        }
        for l in delta["links_added"].as_array().unwrap() {
            self.linkages.insert(l["id"].as_u64().unwrap());
        }
        for change in delta["changed"].as_array().unwrap() {
            if let Some(c) = self.components.get_mut(&change["id"].as_u64().unwrap()) {
                c.1 = change["parent"].as_u64();
            }
        }
    }

    /// The graph now, as a copy.
    fn of(scheduler: &Scheduler) -> Copy {
        let snap = scheduler.introspect();
        Copy {
            components: snap
                .components
                .iter()
                .map(|c| (c.id.get(), (c.name.clone(), c.parent.map(|p| p.get()))))
                .collect(),
            linkages: snap.linkages.iter().map(|l| serde_json::to_value(l).unwrap()["id"].as_u64().unwrap()).collect(),
        }
    }

    fn count(&self, of: &str) -> usize {
        self.components.values().filter(|(name, _)| class(name) == of).count()
    }
}

/// A reader of the event stream, over HTTP/1.0.
struct Stream {
    reader: BufReader<TcpStream>,
    /// The status line and header section.
    head: String,
}

impl Stream {
    fn open(address: SocketAddr) -> Stream {
        Stream::over(TcpStream::connect(address).unwrap(), address)
    }

    fn over(client: TcpStream, address: SocketAddr) -> Stream {
        client.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut writer = client.try_clone().unwrap();
        writer.write_all(format!("GET {DEFAULT_PATH}/events HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes()).unwrap();
        let mut reader = BufReader::new(client);
        let mut head = String::new();
        while !head.ends_with("\r\n\r\n") {
            assert_ne!(reader.read_line(&mut head).unwrap(), 0, "the stream ended in its head: {head}");
        }
        Stream { reader, head }
    }

    /// The next event's `id` and data, skipping comment lines and `retry`.
    fn next(&mut self) -> (u64, Value) {
        let (mut id, mut data) = (None, None);
        loop {
            let mut line = String::new();
            assert_ne!(self.reader.read_line(&mut line).unwrap(), 0, "the stream ended");
            let line = line.trim_end_matches('\n');
            if line.is_empty() {
                if let (Some(id), Some(data)) = (id, data.take()) {
                    return (id, data);
                }
            } else if let Some(n) = line.strip_prefix("id: ") {
                id = Some(n.parse().unwrap());
            } else if let Some(json) = line.strip_prefix("data: ") {
                data = Some(serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}")));
            } else {
                assert!(line.starts_with(':') || line.starts_with("retry: ") || line == "event: graph", "{line:?}");
            }
        }
    }

    /// Applies events to `copy` until `done` holds of it; returns the ids seen.
    fn until(&mut self, copy: &mut Copy, what: &str, done: impl Fn(&Copy) -> bool) -> Vec<u64> {
        let end = Instant::now() + DEADLINE;
        let mut ids = Vec::new();
        while !done(copy) {
            assert!(Instant::now() < end, "waiting for {what}: {copy:?}");
            let (id, delta) = self.next();
            ids.push(id);
            copy.apply(&delta);
        }
        ids
    }
}

fn quick() -> LiveSettings {
    LiveSettings {
        interval: Duration::from_millis(10),
        heartbeat: Duration::from_millis(50),
        ..LiveSettings::default()
    }
}

#[test]
fn the_page_its_stream_and_its_snapshot_are_served_under_their_path() {
    let server = Server::start(quick());
    for path in ["/_introspect", "/_introspect/"] {
        let page = server.get(path);
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
        assert!(page.contains("\r\ncontent-type: text/html; charset=utf-8\r\n"), "{page}");
        assert!(page.contains("new EventSource(") && page.contains("<svg id=\"links\""), "{page}");
    }
    let snapshot = server.get("/_introspect/snapshot.json");
    assert!(snapshot.contains("\r\ncontent-type: application/json\r\n"), "{snapshot}");
    let json: Value = serde_json::from_str(snapshot.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let names: Vec<&str> =
        json["components"].as_array().unwrap().iter().map(|c| c["class"].as_str().unwrap()).collect();
    // (The snapshot's handler runs in the connection's handler host, under the host's name.)
    assert!(names.contains(&"ServerCore") && names.contains(&"HandlerHost"), "{names:?}");

    let mut stream = Stream::open(server.address);
    assert!(stream.head.starts_with("HTTP/1.1 200 OK\r\n"), "{}", stream.head);
    assert!(stream.head.contains("\r\ncontent-type: text/event-stream\r\n"), "{}", stream.head);
    assert!(stream.head.contains("\r\ncache-control: no-store\r\n"), "{}", stream.head);
    let (id, first) = stream.next();
    assert_eq!((id, &first["seq"], &first["full"]), (0, &Value::from(0), &Value::from(true)));
    let mut copy = Copy::default();
    copy.apply(&first);
    assert_eq!(copy.count("GraphEvents"), 1, "the stream sees itself: {copy:?}");
    assert_eq!(copy.count("Introspector"), 1, "{copy:?}");
    // The stream's components sit in the connection's request handler.
    let (events, (_, parent)) = copy.components.iter().find(|(_, (n, _))| n.starts_with("GraphEvents")).unwrap();
    assert!(copy.components[&parent.unwrap()].0.contains("HTTPRequestHandler"), "{copy:?}");
    assert!(copy.components.values().any(|(n, p)| n.starts_with("Introspector") && *p == Some(*events)));

    // Over HTTP/1.1 the stream is chunked.
    let mut client = TcpStream::connect(server.address).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client
        .write_all(format!("GET /_introspect/events HTTP/1.1\r\nHost: {}\r\n\r\n", server.address).as_bytes())
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0; 4096];
    while !String::from_utf8_lossy(&seen).contains("event: graph\n") {
        let n = client.read(&mut buf).unwrap();
        assert_ne!(n, 0);
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).to_lowercase().contains("\r\ntransfer-encoding: chunked\r\n"));
}

#[test]
fn bad_requests_get_a_status_and_a_reason() {
    let server = Server::start(quick());
    let elsewhere = server.ask(&format!(
        "GET /_introspect HTTP/1.1\r\nHost: rebound.example:{}\r\nConnection: close\r\n\r\n",
        server.address.port()
    ));
    assert!(elsewhere.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{elsewhere}");
    assert!(elsewhere.contains(&format!("http://{}/_introspect", server.address)), "names the address: {elsewhere}");
    let localhost = server.ask(&format!(
        "GET /_introspect HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
        server.address.port()
    ));
    assert!(localhost.starts_with("HTTP/1.1 200 OK\r\n"), "localhost is the loopback address");

    let post = server.ask(&format!(
        "POST /_introspect/events HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        server.address
    ));
    assert!(post.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "{post}");
    assert!(post.to_lowercase().contains("\r\nallow: get\r\n"), "{post}");
    assert!(post.contains("The method POST is not allowed here."), "{post}");
    let post = server.ask(&format!(
        "POST /_introspect HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        server.address
    ));
    assert!(post.to_lowercase().contains("\r\nallow: get, head\r\n"), "{post}");
    let head = server
        .ask(&format!("HEAD /_introspect/events HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.address));
    assert!(head.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"), "a stream has no end to HEAD: {head}");
    let head =
        server.ask(&format!("HEAD /_introspect HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.address));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"), "{head}");
    let unknown = server.get("/_introspect/nothing%0d");
    assert!(unknown.starts_with("HTTP/1.1 404 Not Found\r\n"), "{unknown}");
    assert!(unknown.contains("/_introspect/nothing%0d"), "{unknown}");
}

#[test]
fn past_the_viewer_limit_a_stream_is_refused_until_one_ends() {
    let server = Server::start(LiveSettings { max_viewers: 1, ..quick() });
    let mut first = Stream::open(server.address);
    first.next();
    let refused = server.get("/_introspect/events");
    assert!(refused.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{refused}");
    assert!(refused.contains("already has 1 viewers"), "{refused}");
    drop(first);
    server.until("the first stream to end", |s| s.count("GraphEvents") == 0);
    let mut again = Stream::open(server.address);
    assert!(again.next().1["full"] == true);
}

#[test]
fn a_reader_that_goes_away_ends_the_components_that_served_it_and_others_see_it() {
    let server = Server::start(quick());
    let mut watcher = Stream::open(server.address);
    let mut copy = Copy::default();
    watcher.until(&mut copy, "the watcher's own stream", |c| c.count("GraphEvents") == 1);

    let mut leaving = Stream::open(server.address);
    leaving.next();
    server.until("two streams", |s| s.count("GraphEvents") == 2 && s.count("Introspector") == 2);
    watcher.until(&mut copy, "the second stream", |c| c.count("GraphEvents") == 2 && c.count("Introspector") == 2);
    let connections = server.count("ConnectedSocketAdapter");

    drop(leaving);
    server.until("the leaving stream's components to end", |s| {
        s.count("GraphEvents") == 1
            && s.count("Introspector") == 1
            && s.count("ConnectedSocketAdapter") == connections - 1
    });
    watcher.until(&mut copy, "the watcher to see them go", |c| {
        c.count("GraphEvents") == 1
            && c.count("Introspector") == 1
            && c.count("ConnectedSocketAdapter") == connections - 1
    });
}

/// Opens `n` connections kept open, each having made one request (see `live_support`).
fn connections(address: SocketAddr, n: usize) -> Vec<TcpStream> {
    live_support::connections(address, n, DEADLINE)
}

/// The depth and capacity of the inbox `name` of the first component of class `of`.
fn inbox(scheduler: &Scheduler, of: &str, name: &str) -> Option<(usize, Option<usize>)> {
    let snap = scheduler.introspect();
    let c = snap.components.iter().find(|c| class(&c.name) == of)?;
    c.find_box(BoxKind::Inbox, name).map(|b| (b.depth, b.capacity))
}

#[test]
fn a_slow_reader_holds_its_stream_back_without_a_box_growing_then_catches_up() {
    let server = Server::start(quick());
    // A reader with a small receive window, which stops reading after the first event.
    let socket = server
        .scheduler
        .runtime_handle()
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_recv_buffer_size(4096)?;
            socket.connect(server.address).await?.into_std()
        })
        .unwrap();
    socket.set_nonblocking(false).unwrap();
    let mut slow = Stream::over(socket, server.address);
    let mut copy = Copy::default();
    let mut ids = slow.until(&mut copy, "the first event", |c| !c.components.is_empty());

    // Connections come and go until the stream is held back all the way to its introspector:
    // the stream's `_graph` holds a delta it cannot pass on, and the request handler's
    // `_handlerinbox` is full.
    let end = Instant::now() + DEADLINE;
    let mut rounds = 0;
    loop {
        drop(connections(server.address, 20));
        rounds += 1;
        let graph = inbox(&server.scheduler, "GraphEvents", "_graph");
        let handler = inbox(&server.scheduler, "HTTPRequestHandler", "_handlerinbox");
        if graph == Some((1, Some(1))) && handler.is_some_and(|(depth, capacity)| Some(depth) == capacity) {
            break;
        }
        assert!(Instant::now() < end, "never held back after {rounds} rounds: {graph:?} {handler:?}");
    }
    // More churn while held back: no box on the way grows past its capacity.
    for _ in 0..5 {
        drop(connections(server.address, 20));
        for c in server.scheduler.introspect().components {
            for b in c.boxes.iter().filter(|b| b.kind == BoxKind::Inbox) {
                assert!(
                    b.capacity.is_some_and(|cap| b.depth <= cap),
                    "{}.{}: {}/{:?}",
                    c.name,
                    b.name,
                    b.depth,
                    b.capacity
                );
            }
        }
    }
    let kept = connections(server.address, 3);

    // Now read: the stream catches up with the graph as it is.
    let truth = |copy: &Copy| {
        let now = Copy::of(&server.scheduler);
        copy.components.keys().eq(now.components.keys()) && copy.linkages == now.linkages
    };
    ids.extend(slow.until(&mut copy, "the copy to be the graph", truth));
    assert!(copy.count("HTTPParser") >= 3, "the 3 kept connections: {copy:?}");
    assert_eq!(ids, (ids[0]..ids[0] + ids.len() as u64).collect::<Vec<_>>(), "no event lost");
    drop(kept);
}
