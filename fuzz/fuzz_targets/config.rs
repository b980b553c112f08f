//! The config loader (native format and the seed chart's values.yaml) never panics, and its
//! error is one line naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullthrough::rules::Rules;
use pullthrough::settings::{config, seed, RewriteSettings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::parse("config.yaml", text) {
        Ok(config::Loaded::Native(c)) => {
            let mut s = RewriteSettings::default();
            s.apply_config("config.yaml", &c);
            let _ = Rules::compile(&s);
        }
        Ok(config::Loaded::Seed(v)) => {
            let mut s = RewriteSettings::default();
            let _ = seed::apply(&mut s, "values.yaml", &v);
            let _ = Rules::compile(&s);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("config.yaml: "), "{msg:?}");
            assert!(!msg.contains('\n'), "multi-line error: {msg:?}");
        }
    }
});
