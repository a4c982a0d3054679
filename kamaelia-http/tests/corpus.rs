//! The corpus: every input that once found a defect in the parser or the chunked decoder, kept in
//! `tests/corpus/` and replayed here (see `tests/corpus/README.md` for where each came from).
//!
//! A file is named for the status the first response to it must have, then what it is:
//! `414-long-target-cut-inside-a-character.http` must get 414. Each is replayed twice, with the
//! default settings:
//!
//! - through the parser component ([`parsing::parse`]): whole, split at every point (or at
//!   hundreds of points, for the long ones) and a byte at a time, with the same answer each
//!   time, that status first;
//! - over a real connection on 127.0.0.1 to a server, which must answer with that status and
//!   then close (a refusal) or serve on.
//!
//! The seeds of the fuzz targets (`fuzz/seeds/`) are run through the functions they fuzz
//! ([`parsing::fuzz_one`], [`differential::fuzz_differential`]), so that the targets' checks are
//! built and run with every test run.

mod differential;
mod parsing;
mod support;

use std::path::{Path, PathBuf};

use kamaelia_http::{HttpSettings, StatusCode};
use parsing::{fuzz_one, parse, same_whatever_the_split, shown, Event};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The inputs, with the status each must get first, in name order.
fn corpus() -> Vec<(PathBuf, u16, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "http"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name").to_owned();
            let status = name
                .split('-')
                .next()
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or_else(|| panic!("{name}: the name does not start with a status"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
            (path, status, bytes)
        })
        .collect()
}

/// The status of the first request in what the parser made of an input: 200 for one it serves.
fn first_status(events: &[Event]) -> Option<u16> {
    events.iter().find_map(|event| match event {
        Event::Head(_) => Some(200),
        Event::Refused(status) | Event::Abort(status) => Some(status.as_u16()),
        Event::Body(_) | Event::End => None,
    })
}

#[test]
fn the_corpus_is_there() {
    let corpus = corpus();
    assert!(corpus.len() >= 8, "only {} inputs in tests/corpus", corpus.len());
    // Issue 16's first defect: a target past the limit with a character across the 64 bytes the
    // parser keeps of it panicked the parser; the client got a close, not 414.
    let defect_1 =
        [b"GET /".as_slice(), &[b'a'; 62], "é".as_bytes(), &[b'a'; 9000], b" HTTP/1.1\r\nHost: a\r\n\r\n"].concat();
    assert!(
        corpus.iter().any(|(_, status, bytes)| *status == 414 && *bytes == defect_1),
        "issue 16's first defect is not in the corpus"
    );
}

#[test]
fn each_input_gets_its_status_from_the_parser_however_it_is_split() {
    let settings = HttpSettings::default();
    for (path, status, bytes) in corpus() {
        // Every split into two for the short inputs; for the long, every 97th point.
        let step = if bytes.len() <= 512 { 1 } else { 97 };
        let answer = same_whatever_the_split(&settings, &bytes, &(step..bytes.len()).step_by(step).collect::<Vec<_>>());
        for at in (1..bytes.len()).step_by(step) {
            assert_eq!(parse(&settings, &bytes, &[at]), answer, "{}: split at {at}", path.display());
        }
        assert_eq!(first_status(&answer), Some(status), "{}: {answer:?} for {}", path.display(), shown(&bytes));
    }
}

#[test]
fn the_fuzz_seeds_pass_the_fuzz_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
        let seed = std::fs::read(entry.expect("a directory entry").path()).expect("a seed");
        fuzz_one(&seed);
        differential::fuzz_differential(&seed);
        seeds += 1;
    }
    assert!(seeds >= 7, "only {seeds} seeds in {}", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_input_gets_its_status_from_a_server() {
    let server = serve(describe_everything(), HttpSettings::default()).await;
    for (path, status, bytes) in corpus() {
        let received = within(&format!("the answer to {}", path.display()), send_all(&server, &bytes)).await;
        let mut fields = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut fields);
        let parsed = response.parse(&received);
        assert!(
            matches!(parsed, Ok(httparse::Status::Complete(_))),
            "{}: no whole response in \"{}\"",
            path.display(),
            received.escape_ascii()
        );
        assert_eq!(response.code, Some(status), "{}: \"{}\"", path.display(), received.escape_ascii());
        if StatusCode::from_u16(status).is_ok_and(|s| s.is_client_error() || s.is_server_error()) {
            let close =
                response.headers.iter().any(|h| h.name.eq_ignore_ascii_case("connection") && h.value == b"close");
            assert!(close, "{}: a refusal without Connection: close", path.display());
        }
    }
    // None of them cost the server a component or a connection.
    server.wait_idle("every corpus connection has ended").await;
    server.stop().await;
}

/// Sends `bytes` on a new connection, closes the sending side, and reads until the server
/// closes. A server that refuses a request may close before it has read the rest.
async fn send_all(server: &TestServer, bytes: &[u8]) -> Vec<u8> {
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let write = async {
        if writer.write_all(bytes).await.is_ok() {
            let _ = writer.shutdown().await;
        }
    };
    let read = async {
        let mut received = Vec::new();
        while let Ok(n) = reader.read_buf(&mut received).await {
            if n == 0 {
                break;
            }
        }
        received
    };
    tokio::join!(write, read).1
}
