//! The process environment, read in exactly one place.
//!
//! [`Environ::from_process`] is the only call that touches `std::env`; everything downstream
//! takes an [`Environ`], and tests build one from a list of pairs ([`Environ::from_pairs`]), the
//! pure twin (ripgrep's `parse()` / `parse_low_raw(iter)`).

use std::collections::BTreeMap;
use std::ffi::OsString;

/// A snapshot of environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environ {
    vars: BTreeMap<String, String>,
    path: Option<OsString>,
}

impl Environ {
    /// Reads the real process environment. Variables whose name or value is not UTF-8 are
    /// skipped (none of the ones pullthrough reads can be, Argo CD writes UTF-8); `PATH` is kept
    /// as an OS string for tool discovery.
    pub fn from_process() -> Environ {
        let path = std::env::var_os("PATH");
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Environ { vars, path }
    }

    /// The pure twin for tests.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Environ {
        let vars: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let path = vars.get("PATH").map(OsString::from);
        Environ { vars, path }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// `PATH`, for finding helm and kustomize.
    pub fn path(&self) -> Option<&std::ffi::OsStr> {
        self.path.as_deref()
    }

    /// All variables whose name starts with `prefix`, prefix removed.
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.vars
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(move |(k, v)| (&k[prefix.len()..], v.as_str()))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
