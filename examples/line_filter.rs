//! A line filter (a small grep) built from components and driven as a file: standard input is
//! copied into a component graph with `std::io::copy`, and what the graph sends back is copied to
//! standard output the same way. Kamaelia's `LikeFile`, made for Rust (`axon_core::likefile`).
//!
//! ```text
//! stdin ──io::copy──▶ LikeFile ──▶ Pipeline[ Lines ──▶ Filter(PATTERN) ] ──▶ LikeFile ──io::copy──▶ stdout
//! ```
//!
//! `Lines` cuts the bytes written into lines (a chunk may end mid-line; a line may span chunks);
//! `Filter` keeps those that contain the pattern (or, with `--invert`, those that do not). The two
//! copies run on two threads: one writes while the other reads, so the boxes' bounds hold the
//! writer back when the output is slow, and nothing waits for ever. Closing the writer sends
//! `ProducerFinished` into the graph, which ends it once the last line is through; the reader then
//! sees the end of the file.
//!
//! A line longer than `--max-line` bytes (64 KiB by default) is refused: `Lines` fails, naming the
//! line and the limit, the graph ends, and the program says so and exits with status 1.
//!
//! Run it with:
//!
//! ```text
//! cargo run --example line_filter -- PATTERN < some.txt
//! printf 'apple\nbanana\ncherry\n' | cargo run --example line_filter -- an        # banana
//! printf 'apple\nbanana\ncherry\n' | cargo run --example line_filter -- --invert an
//! ```

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use kamaelia::axon::likefile::LikeFile;
use kamaelia::axon::prelude::*;
use kamaelia::axon::{ComponentError, Exit};
use kamaelia::chassis::{pipeline, Bytes, Filter};

/// The command line.
#[derive(Debug, Parser)]
#[command(about = "Copies the lines of standard input that contain PATTERN to standard output, through components")]
struct Options {
    /// the text to look for (bytes; an empty pattern keeps every line)
    pattern: String,
    /// keep the lines that do not contain PATTERN instead
    #[arg(long)]
    invert: bool,
    /// the longest line accepted, in bytes; a longer one ends the program with an error
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024)]
    max_line: usize,
}

/// Cuts a stream of bytes into lines, each sent with its `\n` (the last one without, if the input
/// does not end with one). Ends, passing the end on, when its input ends.
struct Lines {
    max_line: usize,
}

impl Component for Lines {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        let mut partial: Vec<u8> = Vec::new();
        let mut number = 0u64;
        let end = loop {
            match ctx.next_event().await {
                Some(Event::Data(chunk)) => {
                    let mut rest = &chunk[..];
                    while let Some(at) = rest.iter().position(|&b| b == b'\n') {
                        number += 1;
                        let line = if partial.is_empty() {
                            chunk.slice_ref(&rest[..=at])
                        } else {
                            partial.extend_from_slice(&rest[..=at]);
                            Bytes::from(std::mem::take(&mut partial))
                        };
                        if line.len() > self.max_line {
                            return Err(too_long(number, self.max_line));
                        }
                        ctx.outbox.send(line).await;
                        rest = &rest[at + 1..];
                    }
                    if partial.len() + rest.len() > self.max_line {
                        return Err(too_long(number + 1, self.max_line));
                    }
                    partial.extend_from_slice(rest);
                }
                Some(Event::Control(msg)) if msg.is_shutdown_request() => break msg,
                Some(Event::Control(_)) => {}
                None => break ProducerFinished::from(ctx.id()).into(),
            }
        };
        if !partial.is_empty() {
            ctx.outbox.send(Bytes::from(partial)).await;
        }
        ctx.signal.send(end).await;
        Ok(())
    }
}

fn too_long(number: u64, max: usize) -> ComponentError {
    ComponentError::msg(format!("line {number} is longer than {max} bytes (--max-line)"))
}

/// True if `line` contains `pattern`.
fn contains(line: &[u8], pattern: &[u8]) -> bool {
    pattern.is_empty() || line.windows(pattern.len()).any(|w| w == pattern)
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("error")).init();
    let options = Options::parse();
    let pattern = options.pattern.into_bytes();
    let invert = options.invert;

    let scheduler = Scheduler::new();
    let graph = pipeline![
        Lines { max_line: options.max_line },
        Filter::new(move |line: &Bytes| contains(line, &pattern) != invert),
    ];
    let (mut input, mut output) = LikeFile::new(graph, &scheduler).split();

    // One thread writes standard input into the graph while this one copies its output out.
    let (written, read) = std::thread::scope(|s| {
        let writer = s.spawn(move || {
            let copied = io::copy(&mut io::stdin().lock(), &mut input);
            // The end of the input: ProducerFinished into the graph.
            copied.and_then(|_| input.close())
        });
        let mut stdout = io::stdout().lock();
        let read = io::copy(&mut output, &mut stdout).and_then(|_| stdout.flush());
        (writer.join().expect("the writing thread does not panic"), read)
    });

    // A component that failed says why; the copies' errors are its consequences.
    if let Some(failure) = scheduler.failures().into_iter().find(|f| f.exit.is_failure()) {
        let why = match failure.exit {
            Exit::Failed(why) | Exit::Panicked(why) => why,
            other => other.to_string(),
        };
        eprintln!("line_filter: {why}");
        return ExitCode::FAILURE;
    }
    for (what, result) in [("reading standard input", written), ("writing standard output", read)] {
        match result {
            // A reader that went away (`| head`) is no error of ours.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            Err(e) => {
                eprintln!("line_filter: {what}: {e}");
                return ExitCode::FAILURE;
            }
            Ok(_) => {}
        }
    }
    ExitCode::SUCCESS
}
