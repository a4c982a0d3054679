//! Tutorial step 7, Carousel and Seq (`docs/tutorial/07-carousel-and-seq.md`): children one after
//! another, and one child at a time made anew for each request.
//!
//! ```text
//! Pipeline: Seq ──▶ ConsoleEchoer
//!
//! the Seq runs one child after another, each child's outbox passed through to its own:
//!   1. Say
//!   2. Say
//!   3. join_chooser_to_carousel(..), a Graphline:
//!        CHOOSER ──outbox→next─────────▶ CAROUSEL ──outbox──▶ self.outbox
//!                ◀──inbox←requestNext──           a new Words child for each sentence
//!   4. Say
//! ```
//!
//! The current child's `outbox` is passed through to the Seq's; the Seq's text items are logged
//! (`RUST_LOG=info`, on standard error), not printed.
//!
//! ```text
//! cargo run --example tutorial_07_carousel_and_seq
//! ```

use std::io::Write;

use kamaelia::axon::RunError;
use kamaelia::chassis::carousel::{join_chooser_to_carousel, Carousel, Child};
use kamaelia::chassis::{ConsoleEchoer, Seq};
use kamaelia::prelude::*;

/// Sends one line, then ends (Kamaelia's `OneShot`).
struct Say(&'static str);

impl Component for Say {
    type Inbox = ();
    type Outbox = String;

    async fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        ctx.outbox.send(format!("{}\n", self.0)).await;
        Ok(())
    }
}

/// Sends the words of one sentence, a line each, then ends: something that runs once.
struct Words(String);

impl Component for Words {
    type Inbox = ();
    type Outbox = String;

    async fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        for word in self.0.split_whitespace() {
            ctx.outbox.send(format!("  {word}\n")).await;
        }
        Ok(())
    }
}

/// Answers each `"NEXT"` with the next sentence; when it has none left, says it has finished
/// (Kamaelia's `ForwardIteratingChooser`).
struct Chooser(Vec<&'static str>);

impl Component for Chooser {
    type Inbox = String;
    type Outbox = String;

    async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
        for sentence in self.0 {
            if ctx.inbox.recv().await.is_none() {
                return Ok(()); // nobody will ask again
            }
            ctx.outbox.send(sentence.to_owned()).await;
        }
        ctx.inbox.recv().await; // the Carousel asks once more when the last child ends
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// The Seq, piped into a ConsoleEchoer writing to `out`, run to the end.
pub fn run(out: impl Write + Send + 'static) -> Result<(), RunError> {
    let reader = join_chooser_to_carousel(
        Chooser(vec!["one two", "three four five"]), // a Words child for each
        Carousel::new(Words, true),                  // true: ask for the first sentence at once
    )
    .expect("the chooser and the carousel fit together");
    let seq = Seq::new()
        .text("BEGIN SEQUENCE")
        .then(Say("a Seq runs its children one after another:"))
        .then(Say("each starts when the one before has ended."))
        .then(Child::from_instance(reader))
        .then(Say("the Seq ends after its last child."))
        .text("END SEQUENCE");
    pipeline![seq, ConsoleEchoer::default().writing_to(out)].run()
}

fn main() -> Result<(), RunError> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
