//! Rules from a native config file's text, as the binary builds them (`config::parse`, then
//! `RewriteSettings::apply_config`, then `Rules::compile`). A config that does not parse, is not
//! the native format, or does not compile panics with the file name and the error.

use pullthrough::rules::Rules;
use pullthrough::settings::{config, RewriteSettings};

/// The settings the native config `yaml` gives (`name` is the file name shown in errors).
pub fn settings_from_yaml(name: &str, yaml: &str) -> RewriteSettings {
    let parsed = config::parse(name, yaml).unwrap_or_else(|e| panic!("{name}: {e}"));
    let config::Loaded::Native(c) = parsed else {
        panic!("{name}: expected the native config format, not the seed chart's values")
    };
    let mut s = RewriteSettings::default();
    s.apply_config(name, &c);
    s
}

/// The compiled rules of the native config `yaml`.
pub fn rules_from_yaml(name: &str, yaml: &str) -> Rules {
    compile(&settings_from_yaml(name, yaml))
}

/// [`Rules::compile`], panicking with the error.
pub fn compile(s: &RewriteSettings) -> Rules {
    Rules::compile(s).unwrap_or_else(|e| panic!("rules: {e}"))
}
