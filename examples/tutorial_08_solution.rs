//! Tutorial step 8, the exercise's solution (`docs/tutorial/08-threaded-component.md`): `cat -n`
//! from components, the file read by blocking calls on a thread of its own.
//!
//! ```text
//! Pipeline: Threaded(ReadLines) ──▶ PureTransformer (number the lines) ──▶ ConsoleEchoer
//!           its own thread
//! ```
//!
//! ```text
//! cargo run --example tutorial_08_solution                # prints its own source
//! cargo run --example tutorial_08_solution -- README.md   # or any file
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use kamaelia::axon::{ComponentError, RunError, Threaded, ThreadedComponent};
use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Sends each line of the file at `path`, then `ProducerFinished`.
struct ReadLines {
    path: PathBuf,
}

impl ThreadedComponent for ReadLines {
    type Inbox = ();
    type Outbox = String;

    fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        let cannot = |e: std::io::Error| ComponentError::msg(format!("cannot read {}: {e}", self.path.display()));
        let file = BufReader::new(File::open(&self.path).map_err(cannot)?);
        for line in file.lines() {
            ctx.outbox.send_blocking(line.map_err(cannot)?);
        }
        ctx.signal.send_blocking(ProducerFinished::from(ctx.id()).into());
        Ok(())
    }
}

/// Prints the file at `path` to `out`, its lines numbered.
pub fn run(path: PathBuf, out: impl Write + Send + 'static) -> Result<(), RunError> {
    let mut n = 0;
    pipeline![
        Threaded(ReadLines { path }),
        PureTransformer::new(move |line: String| {
            n += 1;
            format!("{n:>6}  {line}\n")
        }),
        ConsoleEchoer::default().writing_to(out),
    ]
    .run()
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let path = std::env::args().nth(1).unwrap_or_else(|| file!().to_owned());
    match run(path.into(), std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tutorial_08_solution: {e}"); // names the file and why
            ExitCode::FAILURE
        }
    }
}
