//! The tutorial's programs (`examples/tutorial_*.rs`), run in this process, checked against what
//! the tutorial (`docs/tutorial/`) says they print.
//!
//! Each program keeps its logic in a function that `main` calls: `run(out)` writes what the
//! program prints to `out` (standard output in `main`, a buffer here), and a server's
//! `server(port)` (or protocol factory) is what `main` activates. This file includes every
//! example as a module and calls those functions. Why not run the built programs, as
//! `cookbook_examples.rs` does: the code tested here is always the code in `examples/` as it is
//! now, compiled into this test (a separately built example can be stale, and is not built at all
//! by `cargo test --test tutorial`); nothing is started and read back through a pipe or a log;
//! and every step is linked once, into one binary.
//!
//! What a page shows as a program's output is the fenced block after the line
//! `<!-- output: NAME -->`, and every `rust` block on a page must be found, as it is, in one of
//! that step's examples: the pages cannot drift from the programs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::future::Future;

use kamaelia::axon::{Component, ComponentRef, Exit, Instance, Scheduler};
use kamaelia::chassis::backplane::Backplane;
use kamaelia::chassis::console::SharedBuffer;
use kamaelia::chassis::server::BoundServer;
use kamaelia::chassis::socket::Outgoing;
use kamaelia::chassis::{Bytes, ConnectionInfo, Graphline, ServerHandle, SimpleServer};

#[path = "../examples/tutorial_01_first_component.rs"]
#[allow(dead_code)]
mod step01;
#[path = "../examples/tutorial_01_solution.rs"]
#[allow(dead_code)]
mod step01_solution;
#[path = "../examples/tutorial_02_linkages.rs"]
#[allow(dead_code)]
mod step02;
#[path = "../examples/tutorial_02_solution.rs"]
#[allow(dead_code)]
mod step02_solution;
#[path = "../examples/tutorial_03_pipeline.rs"]
#[allow(dead_code)]
mod step03;
#[path = "../examples/tutorial_03_solution.rs"]
#[allow(dead_code)]
mod step03_solution;
#[path = "../examples/tutorial_04_back_pressure.rs"]
#[allow(dead_code)]
mod step04;
#[path = "../examples/tutorial_04_solution.rs"]
#[allow(dead_code)]
mod step04_solution;
#[path = "../examples/tutorial_05_shutdown.rs"]
#[allow(dead_code)]
mod step05;
#[path = "../examples/tutorial_05_solution.rs"]
#[allow(dead_code)]
mod step05_solution;
#[path = "../examples/tutorial_06_graphline.rs"]
#[allow(dead_code)]
mod step06;
#[path = "../examples/tutorial_06_solution.rs"]
#[allow(dead_code)]
mod step06_solution;
#[path = "../examples/tutorial_07_carousel_and_seq.rs"]
#[allow(dead_code)]
mod step07;
#[path = "../examples/tutorial_07_solution.rs"]
#[allow(dead_code)]
mod step07_solution;
#[path = "../examples/tutorial_08_threaded.rs"]
#[allow(dead_code)]
mod step08;
#[path = "../examples/tutorial_08_solution.rs"]
#[allow(dead_code)]
mod step08_solution;
#[path = "../examples/tutorial_09_tcp_server.rs"]
#[allow(dead_code)]
mod step09;
#[path = "../examples/tutorial_09_solution.rs"]
#[allow(dead_code)]
mod step09_solution;
#[path = "../examples/tutorial_10_chat_server.rs"]
#[allow(dead_code)]
mod step10;
#[path = "../examples/tutorial_10_solution.rs"]
#[allow(dead_code)]
mod step10_solution;
#[path = "../examples/tutorial_11_web_handler.rs"]
#[allow(dead_code)]
mod step11;
#[path = "../examples/tutorial_11_solution.rs"]
#[allow(dead_code)]
mod step11_solution;
// Step 12's solution includes step 10's as a module of its own (it runs that chat server), so
// that file is compiled twice here, once as each step's.
#[path = "../examples/tutorial_12_solution.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod step12_solution;

/// How long anything here may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

// ---- what the pages say ----------------------------------------------------------------------

fn tutorial_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join("tutorial")
}

fn page(name: &str) -> String {
    let path = tutorial_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The fenced block that follows `<!-- output: EXAMPLE -->` on the page `name`.
fn documented_output(name: &str, example: &str) -> String {
    let text = page(name);
    let marker = format!("<!-- output: {example} -->");
    let after = text.split_once(&marker).unwrap_or_else(|| panic!("{name} has no {marker}")).1;
    let mut lines = after.lines().skip_while(|l| l.trim().is_empty());
    let fence = lines.next().unwrap_or_default();
    assert!(fence.starts_with("```"), "{name}: {marker} is not followed by a fenced block");
    let mut block: String = lines.take_while(|l| !l.starts_with("```")).map(|l| format!("{l}\n")).collect();
    if block.is_empty() {
        block.push('\n');
    }
    block
}

/// What a program writes with `run(out)`.
fn printed<E: std::fmt::Debug>(run: impl FnOnce(SharedBuffer) -> Result<(), E>) -> String {
    let out = SharedBuffer::default();
    run(out.clone()).expect("the program runs to its end");
    String::from_utf8(out.contents()).expect("text")
}

/// Makes what differs from one build or run to the next the same: the Rust path before a name
/// (`tutorial_02_linkages::Counter`, `tutorial::step02::Counter`, `alloc::string::String`) and
/// the id after a component's name (`Counter_1`, `Counter_17`).
fn normalise(text: &str) -> String {
    fn flush(out: &mut String, word: &mut String) {
        match word.rsplit_once('_') {
            Some((name, id)) if !name.is_empty() && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                out.push_str(name);
                out.push_str("_N");
            }
            _ => out.push_str(word),
        }
        word.clear();
    }
    let (mut out, mut word) = (String::new(), String::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else if c == ':' && chars.peek() == Some(&':') && !word.is_empty() {
            chars.next(); // a path segment: dropped
            word.clear();
        } else {
            flush(&mut out, &mut word);
            out.push(c);
        }
    }
    flush(&mut out, &mut word);
    out
}

/// Checks that the program prints exactly what the page shows (after [`normalise`]).
fn assert_prints_as_documented(page_name: &str, example: &str, printed: &str) {
    let documented = documented_output(page_name, example);
    assert_eq!(
        normalise(printed),
        normalise(&documented),
        "{example} printed\n{printed}\nbut {page_name} shows\n{documented}"
    );
}

#[test]
fn normalise_drops_paths_and_ids() {
    assert_eq!(normalise("`tutorial_02_linkages::Counter_1.outbox` (carries `alloc::string::String`)"), {
        "`Counter_N.outbox` (carries `String`)"
    });
    assert_eq!(normalise("tutorial::step02::Total_17.inbox"), "Total_N.inbox");
    assert_eq!(normalise("2 squared is 4"), "2 squared is 4");
}

// ---- the pages themselves --------------------------------------------------------------------

/// The step pages, `NN-name.md`, in order.
fn step_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(tutorial_dir())
        .expect("docs/tutorial")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md") && n.as_bytes()[0].is_ascii_digit())
        .collect();
    pages.sort();
    pages
}

#[test]
fn the_table_of_contents_links_every_step_in_order() {
    let contents = page("README.md");
    let pages = step_pages();
    assert_eq!(pages.len(), 12, "{pages:?}");
    let mut from = 0;
    for name in &pages {
        let at = contents[from..]
            .find(&format!("({name})"))
            .unwrap_or_else(|| panic!("README.md does not link {name} in order"));
        from += at + 1;
    }
}

#[test]
fn every_rust_block_on_a_page_is_in_that_steps_examples() {
    for name in step_pages() {
        let number = &name[..2];
        let mut sources = String::new();
        for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")).expect("examples") {
            let path = entry.expect("entry").path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            if file.starts_with(&format!("tutorial_{number}_")) {
                sources.push_str(&std::fs::read_to_string(&path).expect("example"));
            }
        }
        let text = page(&name);
        let mut blocks = text.split("```rust\n").skip(1);
        for block in blocks.by_ref() {
            let code = block.split_once("```").map(|(code, _)| code).unwrap_or(block);
            assert!(sources.contains(code), "{name}: this block is not in examples/tutorial_{number}_*.rs:\n{code}");
        }
    }
}

#[test]
fn every_example_a_page_names_exists_and_is_a_step_of_its_own() {
    for name in step_pages() {
        let text = page(&name);
        for (_, rest) in text.match_indices("--example ").map(|(i, _)| text.split_at(i + "--example ".len())) {
            let example: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(format!("{example}.rs"));
            assert!(path.exists(), "{name} names {example}, which is not in examples/");
            // A step runs its own programs, or one of the project's other examples (step 12 runs
            // the Introspector's), never another step's.
            let own = example.starts_with(&format!("tutorial_{}_", &name[..2]));
            assert!(own || !example.starts_with("tutorial_"), "{name} runs {example}, another step's");
        }
    }
}

// ---- steps 1 to 8: programs that print -------------------------------------------------------

#[test]
fn step01_a_first_component() {
    let out = printed(step01::run);
    assert_prints_as_documented("01-first-component.md", "tutorial_01_first_component", &out);
    let out = printed(step01_solution::run);
    assert_prints_as_documented("01-first-component.md", "tutorial_01_solution", &out);
}

#[test]
fn step02_two_components_linked() {
    let out = printed(step02::run);
    assert!(out.starts_with("refused: cannot link"), "{out}");
    assert_prints_as_documented("02-linkages.md", "tutorial_02_linkages", &out);
    let out = printed(step02_solution::run);
    assert!(out.contains("fan-out"), "{out}");
    assert_prints_as_documented("02-linkages.md", "tutorial_02_solution", &out);
}

#[test]
fn step03_a_pipeline() {
    let out = printed(step03::run);
    assert_prints_as_documented("03-pipeline.md", "tutorial_03_pipeline", &out);
    let out = printed(step03_solution::run);
    assert_prints_as_documented("03-pipeline.md", "tutorial_03_solution", &out);
}

#[test]
fn step04_back_pressure() {
    let out = printed(step04::run);
    assert_prints_as_documented("04-back-pressure.md", "tutorial_04_back_pressure", &out);
    // What the output shows, checked as such: the printer gets every number, in order, and the
    // producer never gets more than four ahead of it (three in the box, one in its hands).
    let printed_numbers: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("printer: ")).collect();
    assert_eq!(printed_numbers, ["1", "2", "3", "4", "5", "6"]);
    let mut printer_lines = 0;
    for line in out.lines() {
        if line.starts_with("printer: ") {
            printer_lines += 1;
        } else if let Some(n) = line.strip_prefix("producer: sent ").and_then(|r| r.split(' ').next()) {
            let n: usize = n.parse().expect("a number");
            assert!(n <= printer_lines + 4, "sent {n} when the printer had printed {printer_lines}:\n{out}");
        }
    }
    assert!(out.contains("it already holds 3 messages, its capacity"), "{out}");

    let out = printed(step04_solution::run);
    assert_prints_as_documented("04-back-pressure.md", "tutorial_04_solution", &out);
}

#[test]
fn step05_shutdown_in_band() {
    let out = printed(step05::run);
    assert_prints_as_documented("05-shutdown.md", "tutorial_05_shutdown", &out);
    let out = printed(step05_solution::run);
    assert_prints_as_documented("05-shutdown.md", "tutorial_05_solution", &out);
}

#[test]
fn step06_a_graphline() {
    let out = printed(step06::run);
    assert_prints_as_documented("06-graphline.md", "tutorial_06_graphline", &out);
    let out = printed(step06_solution::run);
    assert_prints_as_documented("06-graphline.md", "tutorial_06_solution", &out);
}

#[test]
fn step07_carousel_and_seq() {
    let out = printed(step07::run);
    assert_prints_as_documented("07-carousel-and-seq.md", "tutorial_07_carousel_and_seq", &out);
}

/// The PAR's two children run at once: the lines of the two mix in any order, but each child's
/// come in its own order, and all of them come.
#[test]
fn step07_solution_a_par_of_two_seqs() {
    let out = printed(step07_solution::run);
    let documented = documented_output("07-carousel-and-seq.md", "tutorial_07_solution");
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(&out), sorted(&documented), "{out}");
    for who in ["left", "right"] {
        let theirs: Vec<&str> = out.lines().filter(|l| l.starts_with(who)).collect();
        assert_eq!(theirs, [format!("{who} 3"), format!("{who} 2"), format!("{who} 1")], "{out}");
    }
}

#[test]
fn step08_a_threaded_component() {
    let out = printed(step08::run);
    assert_prints_as_documented("08-threaded-component.md", "tutorial_08_threaded", &out);
}

#[test]
fn step08_solution_numbers_the_lines_of_a_file_and_names_one_it_cannot_read() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("poem.txt");
    std::fs::write(&path, "so much depends\nupon\n\na red wheel\nbarrow\n").unwrap();
    let out = printed(|out| step08_solution::run(path.clone(), out));
    assert_eq!(out, "     1  so much depends\n     2  upon\n     3  \n     4  a red wheel\n     5  barrow\n");

    let missing = dir.path().join("missing.txt");
    let error = step08_solution::run(missing.clone(), SharedBuffer::default()).unwrap_err().to_string();
    assert!(error.contains(&format!("cannot read {}", missing.display())), "{error}");
}

// ---- steps 9 to 11: servers, tried with real clients ----------------------------------------

/// A server of the tutorial on a runtime of its own, as its `main` runs it.
struct Served {
    runtime: tokio::runtime::Runtime,
    scheduler: Scheduler,
    address: SocketAddr,
    handle: ServerHandle,
    server: ComponentRef,
    /// Other components it needs (a backplane), stopped after it.
    also: Vec<ComponentRef>,
}

impl Served {
    /// Activates what `before` makes (a backplane, say), then binds with `bind` and activates
    /// the server, on one scheduler.
    fn start<P, E>(
        before: impl FnOnce(&Scheduler) -> Vec<ComponentRef>,
        bind: impl Future<Output = Result<BoundServer<P>, E>>,
    ) -> Served
    where
        P: Component<Inbox = Bytes, Outbox: Outgoing>,
        E: std::fmt::Debug,
    {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let scheduler = Scheduler::on_runtime(runtime.handle().clone());
        let also = before(&scheduler);
        let server = runtime.block_on(bind).expect("binds a free port");
        let (address, handle) = (server.local_addr(), server.handle());
        let server = scheduler.activate(server);
        Served { runtime, scheduler, address, handle, server, also }
    }

    /// Asks the server to stop, checks that it does, then stops the rest and checks that too.
    fn stop(self) {
        self.handle.shutdown();
        let exit = self.runtime.block_on(async { tokio::time::timeout(DEADLINE, self.server.join()).await });
        assert_eq!(exit.expect("the server stops within the deadline"), Exit::Finished);
        for other in &self.also {
            other.stop();
            let ended = self.runtime.block_on(async { tokio::time::timeout(DEADLINE, other.join()).await });
            assert!(ended.is_ok(), "{} ends within the deadline", other.name());
        }
    }
}

/// A raw TCP client that remembers everything it has read.
struct Client {
    stream: TcpStream,
    seen: String,
}

impl Client {
    fn connect(address: SocketAddr) -> Client {
        let stream = TcpStream::connect(address).expect("connect");
        stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        Client { stream, seen: String::new() }
    }

    fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().unwrap()
    }

    fn say(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("write");
    }

    /// Reads until what it has read contains `needle`; fails at the deadline or at the end of
    /// the stream. Returns everything read so far.
    fn wait_for(&mut self, needle: &str) -> &str {
        let end = Instant::now() + DEADLINE;
        while !self.seen.contains(needle) {
            assert!(Instant::now() < end, "no {needle:?} within {DEADLINE:?}; read {:?}", self.seen);
            let mut piece = [0; 1024];
            match self.stream.read(&mut piece) {
                Ok(0) => panic!("the server closed before {needle:?}; read {:?}", self.seen),
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&piece[..n])),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
        &self.seen
    }

    /// Reads until the server closes the connection (within the deadline).
    fn wait_for_close(&mut self) {
        let end = Instant::now() + DEADLINE;
        loop {
            assert!(Instant::now() < end, "the server did not close within {DEADLINE:?}");
            let mut piece = [0; 1024];
            match self.stream.read(&mut piece) {
                Ok(0) => return,
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&piece[..n])),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return, // reset: closed too
            }
        }
    }
}

#[test]
fn step09_each_connection_gets_its_own_protocol_that_shouts_back() {
    let served = Served::start(|_| Vec::new(), step09::server(0));
    let mut a = Client::connect(served.address);
    let mut b = Client::connect(served.address);
    a.say("hello, components\n");
    b.say("quiet please\n");
    assert_eq!(a.wait_for("\n"), "HELLO, COMPONENTS\n");
    assert_eq!(b.wait_for("\n"), "QUIET PLEASE\n");
    // Stopping the server ends each connection's protocol, and the server closes the sockets.
    served.handle.shutdown();
    a.wait_for_close();
    b.wait_for_close();
    served.stop();
}

#[test]
fn step09_solution_greets_and_numbers_each_clients_pieces_from_one() {
    let served = Served::start(|_| Vec::new(), step09_solution::server(0));
    let mut a = Client::connect(served.address);
    a.wait_for("hello: I number what you send\n");
    a.say("first\n");
    a.wait_for("1: first\n");
    a.say("second\n");
    a.wait_for("2: second\n");
    let mut b = Client::connect(served.address); // a new connection, a new protocol: from 1
    b.say("mine\n");
    assert_eq!(b.wait_for("1: mine\n"), "hello: I number what you send\n1: mine\n");
    served.stop();
}

/// Runs a chat server made with `protocol`, with the backplane `CHAT_ONE` on its scheduler.
fn chat_server(protocol: fn(&ConnectionInfo) -> Instance<Graphline<Bytes, Bytes>>) -> Served {
    Served::start(
        |scheduler| vec![scheduler.activate(Backplane::<Bytes>::new("CHAT_ONE"))],
        SimpleServer::new(protocol, 0).bind(),
    )
}

#[test]
fn step10_two_clients_chat_through_the_backplane() {
    let served = chat_server(step10::echo_everyone);
    // Each client hears itself, labelled with its address: it is subscribed.
    let mut a = Client::connect(served.address);
    a.say("hello from a\n");
    a.wait_for(&format!("{} says hello from a\n", a.local_addr()));
    let mut b = Client::connect(served.address);
    b.say("hello from b\n");
    let b_said = format!("{} says hello from b\n", b.local_addr());
    b.wait_for(&b_said);
    // ...and hears the other, subscribed before it spoke.
    a.wait_for(&b_said);
    a.say("bye\n");
    let a_said = format!("{} says bye\n", a.local_addr());
    b.wait_for(&a_said);
    // One goes; the other chats on.
    drop(a);
    b.say("anyone?\n");
    b.wait_for(&format!("{} says anyone?\n", b.local_addr()));
    served.stop();
}

#[test]
fn step10_solution_announces_who_joins_and_who_leaves() {
    let served = chat_server(step10_solution::echo_everyone);
    let mut a = Client::connect(served.address);
    a.wait_for(&format!("* {} has joined\n", a.local_addr()));
    let mut b = Client::connect(served.address);
    let b_address = b.local_addr();
    b.wait_for(&format!("* {b_address} has joined\n"));
    a.wait_for(&format!("* {b_address} has joined\n"));
    b.say("hi\n");
    a.wait_for(&format!("{b_address} says hi\n"));
    drop(b);
    a.wait_for(&format!("* {b_address} has left\n"));
    served.stop();
}

/// A ureq agent (a real HTTP client crate) that hands back 4xx and 5xx answers instead of
/// turning them into errors.
fn http_client() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(DEADLINE)).build().into()
}

#[test]
fn step11_handlers_made_per_request_and_chosen_by_routes() {
    let served = Served::start(|_| Vec::new(), step11::server(0));
    let base = format!("http://{}", served.address);
    let client = http_client();

    let mut hello = client.get(format!("{base}/hello/world")).call().expect("GET");
    assert_eq!(hello.status().as_u16(), 200);
    assert_eq!(hello.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(hello.body_mut().read_to_string().unwrap(), "Hello, world!\n");
    let mut decoded = client.get(format!("{base}/hello/dear%20reader")).call().expect("GET");
    assert_eq!(decoded.body_mut().read_to_string().unwrap(), "Hello, dear reader!\n");

    let mut shout = client.post(format!("{base}/shout")).send(&b"please be quiet"[..]).expect("POST");
    assert_eq!(shout.status().as_u16(), 200);
    assert_eq!(shout.body_mut().read_to_string().unwrap(), "PLEASE BE QUIET");

    // What the routes do not answer: 405 with what they do, 404 elsewhere.
    let wrong_method = client.get(format!("{base}/shout")).call().expect("GET");
    assert_eq!(wrong_method.status().as_u16(), 405);
    assert_eq!(wrong_method.headers()["allow"], "POST, OPTIONS");
    assert_eq!(client.get(format!("{base}/nowhere")).call().expect("GET").status().as_u16(), 404);
    served.stop();
}

#[test]
fn step11_solution_counts_the_requests_it_is_asked() {
    let served = Served::start(|_| Vec::new(), step11_solution::server(0));
    let base = format!("http://{}", served.address);
    let client = http_client();
    let count = |client: &ureq::Agent| {
        client.get(format!("{base}/count")).call().expect("GET").body_mut().read_to_string().unwrap()
    };
    assert_eq!(count(&client), "asked 1 time(s)\n");
    client.get(format!("{base}/hello/you")).call().expect("GET");
    assert_eq!(client.get(format!("{base}/nowhere")).call().expect("GET").status().as_u16(), 404);
    assert_eq!(count(&client), "asked 4 time(s)\n");
    served.stop();
}

#[test]
fn step12_solution_the_live_page_draws_the_chat_as_clients_join_and_leave() {
    let served = chat_server(step12_solution::echo_everyone);
    // The page's server, on the chat's scheduler (as the program's `main` activates it).
    let page = served.runtime.block_on(step12_solution::live_server(0)).expect("binds a free port");
    let (page_address, page_handle) = (page.local_addr(), page.handle());
    let page = served.scheduler.activate(page);
    // Asked as the browser's page asks: the whole graph, as JSON.
    let client = http_client();
    let snapshot = format!("http://{page_address}/_introspect/snapshot.json");
    let chatting = || {
        let mut response = client.get(&snapshot).call().expect("GET snapshot.json");
        assert_eq!(response.status().as_u16(), 200);
        // Each client's `Announce`, by its class (a path ending in the type's name, as Axon's).
        response.body_mut().read_to_string().unwrap().matches(r#"::Announce""#).count()
    };
    let wait_until_chatting = |clients: usize| {
        let end = Instant::now() + DEADLINE;
        loop {
            let drawn = chatting();
            if drawn == clients {
                return;
            }
            assert!(Instant::now() < end, "the page shows {drawn} chat clients, not {clients}, after {DEADLINE:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_until_chatting(0);
    let mut a = Client::connect(served.address);
    a.wait_for("has joined\n");
    let mut b = Client::connect(served.address);
    b.wait_for(&format!("* {} has joined\n", b.local_addr()));
    wait_until_chatting(2);
    drop(b);
    a.wait_for("has left\n");
    wait_until_chatting(1);
    drop(a);
    wait_until_chatting(0);
    page_handle.shutdown();
    let exit = served.runtime.block_on(async { tokio::time::timeout(DEADLINE, page.join()).await });
    assert_eq!(exit.expect("the page's server stops within the deadline"), Exit::Finished);
    served.stop();
}
