//! What the cookbook examples share: their command line, `--port` and `--root`. Each example
//! takes it in with `mod cookbook;` (a folder without a `main.rs` is no example of its own).

use std::path::PathBuf;

use clap::Parser;

/// The command line of a cookbook example.
#[derive(Debug, Parser)]
#[command(about = "A Kamaelia cookbook example: an HTTP server on 127.0.0.1 (`--help` of the `kamaelia` \
                   binary lists the limits it also has)")]
pub struct Options {
    /// port to listen on; 0 picks a free one
    #[arg(long, value_name = "PORT", default_value_t = 8082)]
    pub port: u16,
    /// directory of static files (default: the bundled site, compiled into this program)
    #[arg(long, value_name = "DIR")]
    #[allow(dead_code)] // body_echo accepts --root, like the others, and serves no file
    pub root: Option<PathBuf>,
}
