//! The quick line reader (`manifest::quick::events`) against the full parser on arbitrary text:
//! wherever the quick reader answers, its events are exactly the full parser's
//! (`quick::agrees_with_full` is `Ok`), with the default limits and with a small nesting limit
//! (the quick reader must decline what the full parser refuses as too deep). Panics, hangs
//! (libFuzzer's `-timeout`) and disagreements are findings; the message names the first
//! differing event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullthrough::manifest::quick::agrees_with_full;
use pullthrough::manifest::yaml::ParseLimits;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for limits in [ParseLimits::default(), ParseLimits { max_depth: 3 }] {
        if let Err(msg) = agrees_with_full(text, limits) {
            panic!(
                "quick reader disagrees with the full parser ({limits:?}): {msg}\ninput: {text:?}"
            );
        }
    }
});
