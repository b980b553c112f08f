//! The image reference parser never panics, and every reference it accepts round-trips:
//! `parse(r.to_string()) == r` (and the normalized text is a fixed point).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullthrough_reference::{ImageRef, Reference};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = s.parse::<ImageRef>() {
        let text = r.to_string();
        let again: ImageRef = text
            .parse()
            .unwrap_or_else(|e| panic!("{s:?} -> {text:?} does not parse: {e}"));
        assert_eq!(again, r, "{s:?} -> {text:?}");
        assert_eq!(again.to_string(), text);
        // What the rewriter builds from a parsed reference parses too.
        let name = r.name();
        assert!(
            name.parse::<ImageRef>().is_ok() || r.domain().is_empty(),
            "{s:?}: name {name:?}"
        );
    }
    if let Ok(r) = Reference::parse(s) {
        let text = r.to_string();
        let again = Reference::parse(&text)
            .unwrap_or_else(|e| panic!("{s:?} -> {text:?} does not parse: {e}"));
        assert_eq!(again, r, "{s:?} -> {text:?}");
    }
    let _ = ImageRef::parse_named(s);
    let _ = ImageRef::parse_docker_ref(s);
});
