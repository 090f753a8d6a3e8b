//! Fuzzes the transform grammar: parsing never panics and every accepted string round-trips through its canonical form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // URLs reach the parser as UTF-8 strings; other bytes cannot get there.
    if let Ok(s) = std::str::from_utf8(data) {
        // The invariants live in the engine so its deterministic test checks the same ones.
        imgcloud_engine::transform::check_grammar_invariants(s);
    }
});
