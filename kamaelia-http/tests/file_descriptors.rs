//! Files sent with `sendfile` stay open only while they are being sent: clients that vanish in the
//! middle of large files, alone or with more requests pipelined behind, leave no file (and no
//! socket) open in the server. Its own test binary, so that no other test opens or closes files in
//! the process while the descriptors are counted.

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

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_vanishing_mid_file_leave_no_file_open() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let big: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(dir.path().join("big.bin"), &big).expect("big.bin");
    let root = std::fs::canonicalize(dir.path()).expect("the directory's real path");
    let file = root.join("big.bin");
    let server =
        serve_routes(vec![("/", factory(move |request| Minimal::new(request, root.clone(), "index.html")))]).await;
    // One whole download first, so that whatever the server opens once is open.
    let whole = get(server.addr, "/big.bin").await;
    assert!(whole.body == big, "the file arrived changed");
    server.wait_idle("the first connection to end").await;
    let baseline = open_descriptors();

    let mut clients = Vec::new();
    for i in 0..24 {
        let mut client = Client::connect_slow(server.addr, 1024).await;
        // A third send one request, a third three pipelined, a third a range and the whole file.
        let requests = match i % 3 {
            0 => request("GET", "/big.bin", ""),
            1 => request("GET", "/big.bin", "").repeat(3),
            _ => format!("{}{}", request("GET", "/big.bin", "Range: bytes=1000-\r\n"), request("GET", "/big.bin", "")),
        };
        client.send(requests).await;
        let head = client.read_until(b"\r\n\r\n").await;
        assert!(head.starts_with(b"HTTP/1.1 2"), "{}", shown(&head));
        client.read_exact(16 * 1024).await;
        clients.push(client);
    }
    // The regions are on their way: each connection holds the file open meanwhile.
    assert!(descriptors_of(&file) >= 24, "only {} descriptors of the file are open", descriptors_of(&file));
    // Half vanish with a reset, half with a plain close, all with data unread.
    for (i, client) in clients.into_iter().enumerate() {
        if i % 2 == 0 {
            client.reset();
        } else {
            drop(client);
        }
    }
    server.wait_idle("every connection's components to end").await;
    wait_until("the server to close every file and socket it opened", || {
        descriptors_of(&file) == 0 && open_descriptors() <= baseline
    })
    .await;
    server.stop().await;
}
