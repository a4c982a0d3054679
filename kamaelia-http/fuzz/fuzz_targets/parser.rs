//! AFL++ fuzz target: the request parser and the chunked decoder, through the real
//! `HTTPParser` component. The first byte of an input chooses the settings and where the rest
//! is cut; the rest is what a client sends. A panic (in the parser, or a check that the answer
//! depends on the split) is a crash. See `tests/parsing/mod.rs` for `fuzz_one`, and README.md.

#[path = "../../tests/parsing/mod.rs"]
mod parsing;

fn main() {
    afl::fuzz!(|data: &[u8]| parsing::fuzz_one(data));
}
