//! `ConsoleReader` and `ConsoleEchoer` through their boxes, with in-memory input and output in
//! place of the console: lines and end of input, line endings, long lines, shutdown requests,
//! writing what is queued before acting on `control`, forwarding, and output failures.

use std::io::{BufRead, Cursor, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use axon_core::ipc::ShutdownMicroprocess;
use axon_core::prelude::*;
use axon_core::{Exit, RecvTimeoutError};
use kamaelia_chassis::console::{ConsoleEchoer, ConsoleReader, SharedBuffer};
use kamaelia_chassis::socket::Bytes;

const DEADLINE: Duration = Duration::from_secs(20);

fn lines_of(reader: ConsoleReader) -> (Vec<Bytes>, Ipc, Exit) {
    let mut h = Handle::new(reader, &Scheduler::new());
    let mut lines = Vec::new();
    loop {
        match h.recv_timeout(DEADLINE) {
            Ok(line) => lines.push(line),
            Err(RecvTimeoutError::Closed) => break,
            Err(RecvTimeoutError::Timeout) => panic!("the reader neither sent nor ended"),
        }
    }
    let signal = h.recv_signal_timeout(DEADLINE).expect("a final signal");
    (lines, signal, h.join_blocking())
}

#[test]
fn console_reader_sends_each_line_then_producer_finished_at_end_of_input() {
    let (lines, signal, exit) = lines_of(ConsoleReader::from_reader(Cursor::new("one\ntwo\n")));
    assert_eq!(lines, [Bytes::from_static(b"one\n"), Bytes::from_static(b"two\n")]);
    assert!(signal.is_producer_finished());
    assert_eq!(exit, Exit::Finished);
}

#[test]
fn console_reader_replaces_each_line_ending_with_its_eol_and_sends_a_last_unterminated_line_as_it_is() {
    let reader = ConsoleReader::from_reader(Cursor::new("dos\r\nunix\nlast")).with_eol("\r\n");
    let (lines, _, _) = lines_of(reader);
    assert_eq!(lines, [Bytes::from_static(b"dos\r\n"), Bytes::from_static(b"unix\r\n"), Bytes::from_static(b"last")]);
}

#[test]
fn console_reader_sends_lines_longer_than_its_limit_in_pieces() {
    let reader = ConsoleReader::from_reader(Cursor::new("abcdefgh\nij\n")).max_line_length(3);
    let (lines, _, _) = lines_of(reader);
    let pieces: Vec<&[u8]> = lines.iter().map(|b| b.as_ref()).collect();
    assert_eq!(pieces, [&b"abc"[..], b"def", b"gh\n", b"ij\n"]);
    assert!(lines.iter().all(|l| l.len() <= 3));
}

/// Input fed line by line from the test; end of input when the sender is dropped.
struct Typed {
    lines: mpsc::Receiver<&'static str>,
    current: Vec<u8>,
    at: usize,
}

impl Read for Typed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Typed {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.at == self.current.len() {
            self.current = self.lines.recv().map(|l| l.as_bytes().to_vec()).unwrap_or_default();
            self.at = 0;
        }
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at += n;
    }
}

/// A read in progress cannot be interrupted: the request is acted on before the next read, or,
/// if it arrived while the reader was already waiting for a line, after that line. Either way it
/// is passed on, and nothing more is read.
#[test]
fn console_reader_ends_on_a_shutdown_request_after_at_most_the_current_line() {
    let (typing, lines) = mpsc::channel();
    let reader = ConsoleReader::from_reader(Typed { lines, current: Vec::new(), at: 0 });
    let mut h = Handle::new(reader, &Scheduler::new());
    typing.send("first\n").unwrap();
    assert_eq!(h.recv_timeout(DEADLINE).unwrap(), Bytes::from_static(b"first\n"));
    h.send_control_blocking(ShutdownMicroprocess::new());
    typing.send("second\n").unwrap();
    let mut after = Vec::new();
    loop {
        match h.recv_timeout(DEADLINE) {
            Ok(line) => after.push(line),
            Err(RecvTimeoutError::Closed) => break,
            Err(RecvTimeoutError::Timeout) => panic!("the reader did not end"),
        }
    }
    assert!(after.is_empty() || after == [Bytes::from_static(b"second\n")], "{after:?}");
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_shutdown_microprocess());
    assert_eq!(h.join_blocking(), Exit::Finished);
    assert!(typing.send("third\n").is_err(), "the reader has ended and let go of its input");
}

#[test]
fn console_echoer_writes_each_message_as_it_is() {
    let out = SharedBuffer::default();
    let mut h = Handle::new(ConsoleEchoer::new().writing_to(out.clone()), &Scheduler::new());
    h.send_blocking(Bytes::from_static(b"no newline, "));
    h.send_blocking(Bytes::from_static(b"then one\n"));
    h.send_control_blocking(ProducerFinished::new());
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_producer_finished());
    assert_eq!(h.join_blocking(), Exit::Finished);
    assert_eq!(out.contents(), b"no newline, then one\n");
    assert!(h.get().is_err(), "not a forwarder: nothing leaves outbox");
}

/// Data sent before a shutdown request is written before the request is acted on, even though
/// both are waiting when the echoer first looks.
#[test]
fn console_echoer_writes_what_is_queued_before_acting_on_a_shutdown() {
    let out = SharedBuffer::default();
    let echoer = Instance::new(ConsoleEchoer::new().writing_to(out.clone()));
    for part in ["a", "b", "c"] {
        echoer.component().deliver("inbox", Bytes::from_static(part.as_bytes())).unwrap();
    }
    echoer.component().deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
    let mut h = Handle::new(echoer, &Scheduler::new());
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_shutdown_microprocess(), "passed on");
    assert_eq!(h.join_blocking(), Exit::Finished);
    assert_eq!(out.contents(), b"abc");
}

#[test]
fn console_echoer_passes_other_control_messages_on_and_keeps_going() {
    let out = SharedBuffer::default();
    let mut h = Handle::new(ConsoleEchoer::new().writing_to(out.clone()), &Scheduler::new());
    h.send_control_blocking("flurble");
    assert!(matches!(h.recv_signal_timeout(DEADLINE).unwrap(), Ipc::Other(s) if s == "flurble"));
    h.send_blocking(Bytes::from_static(b"still here"));
    h.send_control_blocking(ProducerFinished::new());
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_producer_finished());
    assert_eq!(out.contents(), b"still here");
}

#[test]
fn console_echoer_as_a_forwarder_sends_on_what_it_wrote() {
    let out = SharedBuffer::default();
    let mut h = Handle::new(ConsoleEchoer::new().forwarder(true).writing_to(out.clone()), &Scheduler::new());
    h.send_blocking(Bytes::from_static(b"pass me on"));
    assert_eq!(h.recv_timeout(DEADLINE).unwrap(), Bytes::from_static(b"pass me on"));
    assert_eq!(out.contents(), b"pass me on");
}

#[test]
fn console_echoer_carries_strings_too() {
    let out = SharedBuffer::default();
    let mut h = Handle::new(ConsoleEchoer::<String>::default().writing_to(out.clone()), &Scheduler::new());
    h.send_blocking("text\n".to_owned());
    h.send_control_blocking(ProducerFinished::new());
    assert_eq!(h.join_blocking(), Exit::Finished);
    assert_eq!(out.contents(), b"text\n");
}

#[test]
fn console_echoer_ends_when_everything_upstream_has_ended() {
    let out = SharedBuffer::default();
    let scheduler = Scheduler::new();
    let source = Instance::new(from_fn("Source", |mut ctx: Context<(), Bytes>| async move {
        ctx.outbox.send(Bytes::from_static(b"last words")).await;
        Ok(()) // ends without a signal: the echoer's inbox closes
    }));
    let echoer = Instance::new(ConsoleEchoer::new().writing_to(out.clone()));
    scheduler.link((&source, "outbox"), (&echoer, "inbox")).unwrap();
    source.activate(&scheduler);
    let echoer = echoer.activate(&scheduler);
    scheduler.run_async_blocking();
    assert_eq!(echoer.exit(), Some(Exit::Finished));
    assert_eq!(out.contents(), b"last words");
}

struct Broken;

impl Write for Broken {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn console_echoer_fails_when_its_output_fails() {
    let mut h = Handle::new(ConsoleEchoer::new().writing_to(Broken), &Scheduler::new());
    h.send_blocking(Bytes::from_static(b"into the void"));
    match h.join_blocking() {
        Exit::Failed(why) => assert!(why.starts_with("cannot write to the given writer"), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

trait RunBlocking {
    fn run_async_blocking(&self);
}

impl RunBlocking for Scheduler {
    /// Runs to the end with a deadline (the plain `run` has none).
    fn run_async_blocking(&self) {
        let s = self.clone();
        self.runtime_handle()
            .block_on(async move { tokio::time::timeout(DEADLINE, s.run_async()).await })
            .expect("everything ends before the deadline")
            .expect("nothing failed");
    }
}
