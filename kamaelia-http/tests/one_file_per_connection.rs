//! A connection holds at most one open file, whatever its client pipelines (issue 16, defect 2:
//! 30 pipelined `GET /big.bin`, never read, held ten files open per connection, each region
//! queued in the socket adapter keeping its file). Its own test binary, so that no other test
//! opens or closes files in the process while the descriptors are counted.

mod support;

use kamaelia_http::{factory, Minimal};
use support::*;

/// The file descriptors open in this process.
#[cfg(target_os = "linux")]
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

/// How many of them are `file`.
#[cfg(target_os = "linux")]
fn descriptors_of(file: &std::path::Path) -> usize {
    let entries = std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd");
    entries.filter_map(Result::ok).filter(|e| std::fs::read_link(e.path()).is_ok_and(|target| target == file)).count()
}

/// How many of the server's request handlers have a full `inbox`: their connection's requests
/// have backed up all the way to them.
fn request_handlers_backed_up(server: &TestServer) -> usize {
    let snapshot = server.scheduler.introspect();
    snapshot
        .components
        .iter()
        .filter(|c| c.name.contains("HTTPRequestHandler"))
        .filter(|c| c.boxes.iter().any(|b| b.name == "inbox" && Some(b.depth) == b.capacity))
        .count()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_pipelining_large_files_holds_one_open_file_at_a_time() {
    const CONNECTIONS: usize = 4;
    const PIPELINED: usize = 200;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let big: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), &big).expect("big.bin");
    let root = std::fs::canonicalize(dir.path()).expect("the directory's real path");
    let file = root.join("big.bin");
    let server =
        serve_routes(vec![("/", factory(move |request| Minimal::new(request, root.clone(), "index.html")))]).await;
    // One whole download first, so that whatever the server opens once is open.
    assert!(get(server.addr, "/big.bin").await.body == big, "the file arrived changed");
    server.wait_idle("the first connection to end").await;
    let baseline = open_descriptors();

    // Clients that pipeline many requests for the file and read nothing.
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut client = Client::connect_slow(server.addr, 1024).await;
        client.send(request("GET", "/big.bin", "").repeat(PIPELINED)).await;
        clients.push(client);
    }
    // The requests back up to the request handlers once the server has made all the responses it
    // will make ahead of the clients' reading.
    wait_until("every connection's requests to back up to its request handler", || {
        request_handlers_backed_up(&server) == CONNECTIONS
    })
    .await;
    assert_eq!(descriptors_of(&file), CONNECTIONS, "one open file per connection, and no more");
    // Each connection: its socket, the client's end of it (in this process too), one file.
    let open = open_descriptors();
    assert!(
        open <= baseline + 3 * CONNECTIONS,
        "{open} descriptors open, {baseline} before the clients came: more than 3 per connection"
    );

    // A client that reads gets its files, whole and in order, one after another.
    let mut reader = clients.pop().expect("a client");
    for n in 1..=2 {
        let response = within("a pipelined file", reader.response()).await;
        response.assert_status(200);
        assert!(response.body == big, "response {n}: the file arrived changed");
        assert!(descriptors_of(&file) <= CONNECTIONS, "{} files open", descriptors_of(&file));
    }
    for client in clients {
        client.reset();
    }
    reader.reset();
    server.wait_idle("every connection's components to end").await;
    wait_until("the server to close every file it opened", || descriptors_of(&file) == 0).await;
    server.stop().await;
}
