//! Tutorial step 7, the exercise's solution (`docs/tutorial/07-carousel-and-seq.md`): two Seqs
//! side by side in a PAR.
//!
//! ```text
//! Pipeline: PAR ──▶ ConsoleEchoer
//!
//! the PAR runs its children side by side, their outboxes into its own:
//!   Seq: Say("left 3")  ──then──▶ Say("left 2")  ──then──▶ Say("left 1")
//!   Seq: Say("right 3") ──then──▶ Say("right 2") ──then──▶ Say("right 1")
//! ```
//!
//! The two Seqs run at the same time; each keeps its own order, and the lines of the two mix
//! in whatever order the threads run them.
//!
//! ```text
//! cargo run --example tutorial_07_solution
//! ```

use std::io::Write;

use kamaelia::axon::RunError;
use kamaelia::chassis::{ConsoleEchoer, Seq, PAR};
use kamaelia::prelude::*;

/// Sends one line, then ends.
struct Say(String);

impl Component for Say {
    type Inbox = ();
    type Outbox = String;

    async fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
        ctx.outbox.send(format!("{}\n", self.0)).await;
        Ok(())
    }
}

/// A Seq counting down from 3, each line saying whose it is.
fn countdown(who: &str) -> Seq<(), String> {
    Seq::new().then(Say(format!("{who} 3"))).then(Say(format!("{who} 2"))).then(Say(format!("{who} 1")))
}

/// Two countdowns side by side, piped into a ConsoleEchoer writing to `out`, run to the end.
pub fn run(out: impl Write + Send + 'static) -> Result<(), RunError> {
    let both = PAR::new().with(countdown("left")).with(countdown("right"));
    pipeline![both, ConsoleEchoer::default().writing_to(out)].run()
}

fn main() -> Result<(), RunError> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    run(std::io::stdout())
}
