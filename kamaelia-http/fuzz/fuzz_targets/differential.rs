//! AFL++ fuzz target: our parser's framing against hyper's. The input (after a first byte,
//! ignored, so that the two targets share their seeds) is read by the real `HTTPParser`
//! component with the default settings and by a hyper 1 HTTP/1 server over an in-memory pipe;
//! the two must accept the same requests with the same bodies, or part only where
//! `tests/differential/mod.rs` allows. A difference is a crash. See `fuzz_differential` there,
//! and README.md.

#[path = "../../tests/differential/mod.rs"]
mod differential;
#[path = "../../tests/parsing/mod.rs"]
mod parsing;

fn main() {
    afl::fuzz!(|data: &[u8]| differential::fuzz_differential(data));
}
