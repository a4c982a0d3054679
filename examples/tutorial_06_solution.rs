//! Tutorial step 6, the exercise's solution (`docs/tutorial/06-graphline.md`): a fourth child,
//! `LENGTH`, between `SPLIT` and the Graphline's `outbox`, with the end of the stream passed
//! through it too.
//!
//! ```text
//! WORDS ──outbox→inbox───▶ SPLIT ──outbox→inbox───▶ LENGTH ──outbox──▶ self.outbox
//!       ──signal→control─▶       ──signal→control─▶        ──signal→control─┐
//!                                ──short→inbox────▶ COUNT ◀─────────────────┘
//!                                                         ──outbox──▶ self.outbox
//!                                                         ──signal──▶ self.signal
//! ```
//!
//! ```text
//! cargo run --example tutorial_06_solution
//! ```

use std::io::Write;

use kamaelia::axon::{Declarations, RunError};
use kamaelia::chassis::ConsoleEchoer;
use kamaelia::prelude::*;

/// Sends each word of `self.0`, then `ProducerFinished`.
struct Words(&'static str);

impl Component for Words {
    type Inbox = ();
    type Outbox = String;

    async fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        for word in self.0.split_whitespace() {
            ctx.outbox.send(word.to_owned()).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Sends words longer than `longer_than` out of `outbox` (a line each), the others out of
/// `short`.
struct Split {
    longer_than: usize,
}

impl Component for Split {
    type Inbox = String;
    type Outbox = String;

    fn declare(&self, boxes: &mut Declarations) {
        boxes.outbox::<String>("short", "The short words");
    }

    async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
        let mut short = ctx.take_outbox::<String>("short")?;
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(word) if word.len() > self.longer_than => ctx.outbox.send(format!("{word}\n")).await,
                Event::Data(word) => short.send(word).await,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

/// Counts what it receives; at the end of the stream, sends the count and passes the end on.
struct Count;

impl Component for Count {
    type Inbox = String;
    type Outbox = String;

    async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
        let mut count = 0;
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(_) => count += 1,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.outbox.send(format!("and {count} short words\n")).await;
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

/// The Graphline, piped into a ConsoleEchoer writing to `out`, run to the end.
pub fn run(out: impl Write + Send + 'static) -> Result<(), RunError> {
    let words: Instance<Graphline<(), String>> = graphline! {
        WORDS = Words("a component is a little program with boxes in and boxes out"),
        SPLIT = Split { longer_than: 3 },
        LENGTH = PureTransformer::new(|line: String| format!("{} ({})\n", line.trim_end(), line.trim_end().len())),
        COUNT = Count,
        linkages = {
            // data
            ("WORDS", "outbox"): ("SPLIT", "inbox"),
            ("SPLIT", "outbox"): ("LENGTH", "inbox"),
            ("LENGTH", "outbox"): ("self", "outbox"),
            ("SPLIT", "short"): ("COUNT", "inbox"),
            ("COUNT", "outbox"): ("self", "outbox"),
            // the end of the stream travels with the data
            ("WORDS", "signal"): ("SPLIT", "control"),
            ("SPLIT", "signal"): ("LENGTH", "control"),
            ("LENGTH", "signal"): ("COUNT", "control"),
            ("COUNT", "signal"): ("self", "signal"),
        }
    }
    .expect("the linkages name boxes that exist, of matching types");
    pipeline![words, ConsoleEchoer::default().writing_to(out)].run()
}

fn main() -> Result<(), RunError> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
