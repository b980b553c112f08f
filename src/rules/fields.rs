//! Compiles the configured image fields (`fields`, `args`, `env`) and the chosen `profiles` into
//! the scanner's [`FieldSet`]. Errors name the setting that holds the bad value.
//!
//! Order matters only for labels: the scanner applies every entry whose path, kinds, group and
//! names match, and names a site after the first of them; the admin's entries come before the
//! profiles', so `explain` shows the admin's entry when both reach a field.

use globset::Glob;

use super::RuleError;
use crate::manifest::fields::{
    parse_path, ArgField, EnvField, FieldSet, KindField, PathSeg, ValueFormat, ValueKind,
};
use crate::manifest::profiles::{self, Profile};
use crate::settings::RewriteSettings;

/// The value kind of an entry's `repository`/`prefix` flags (both set is an error).
fn kind_of(origin: &str, repository: bool, prefix: bool) -> Result<ValueKind, RuleError> {
    match (repository, prefix) {
        (true, true) => Err(RuleError {
            origin: origin.to_string(),
            msg: "repository and prefix exclude each other".into(),
        }),
        (true, false) => Ok(ValueKind::Repository),
        (false, true) => Ok(ValueKind::Prefix),
        (false, false) => Ok(ValueKind::Image),
    }
}

fn glob(origin: &str, pattern: &str) -> Result<globset::GlobMatcher, RuleError> {
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| RuleError {
            origin: origin.to_string(),
            msg: format!("invalid glob {pattern:?}: {}", e.kind()),
        })
}

fn paths(origin: &str, list: &[String]) -> Result<Vec<Vec<PathSeg>>, RuleError> {
    list.iter()
        .map(|p| {
            parse_path(p).map_err(|msg| RuleError {
                origin: origin.to_string(),
                msg,
            })
        })
        .collect()
}

/// The profiles named in `s.profiles` (`all`: every one), in order, without repeats.
fn chosen(s: &RewriteSettings) -> Result<Vec<&'static Profile>, RuleError> {
    let mut out: Vec<&'static Profile> = Vec::new();
    for name in &s.profiles.value {
        let add: Vec<&'static Profile> = if name == profiles::ALL {
            profiles::PROFILES.iter().collect()
        } else {
            vec![profiles::find(name).ok_or_else(|| RuleError {
                origin: s.profiles.origin.clone(),
                msg: format!(
                    "unknown profile {name:?} (known: {}, or {} for every one)",
                    profiles::PROFILES
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                    profiles::ALL
                ),
            })?]
        };
        for p in add {
            if !out.iter().any(|q| q.name == p.name) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// The field set for `s`. Fails on an unknown profile, a bad path, an empty flag, a bad glob, or
/// an entry that is both a repository and a prefix.
pub fn compile(s: &RewriteSettings) -> Result<FieldSet, RuleError> {
    let mut set = FieldSet::default();
    for (i, f) in s.fields.value.iter().enumerate() {
        let origin = format!("{}[{i}]", s.fields.origin);
        let value = kind_of(&origin, f.repository, f.prefix)?;
        let names = f
            .names
            .iter()
            .flatten()
            .map(|n| glob(&format!("{origin}.names"), n))
            .collect::<Result<Vec<_>, _>>()?;
        let embedded = if f.embedded {
            Some(paths(&format!("{origin}.innerPaths"), &f.inner_paths)?)
        } else if !f.inner_paths.is_empty() {
            return Err(RuleError {
                origin: format!("{origin}.innerPaths"),
                msg: "innerPaths need embedded: true".into(),
            });
        } else {
            None
        };
        for p in &f.paths {
            let path = parse_path(p).map_err(|msg| RuleError {
                origin: format!("{origin}.paths"),
                msg,
            })?;
            set.kinds.push(KindField {
                kinds: f.kinds.clone().unwrap_or_default(),
                group: f.group.clone(),
                names: names.clone(),
                path,
                value,
                format: ValueFormat {
                    separator: f.separator,
                    keyed: f.keyed,
                },
                qualified: f.qualified,
                embedded: embedded.clone(),
                label: format!("{origin}: {p}"),
            });
        }
    }
    for (i, a) in s.args.value.iter().enumerate() {
        let origin = format!("{}[{i}]", s.args.origin);
        if !a.flag.starts_with('-') || a.flag.contains('=') {
            return Err(RuleError {
                origin: format!("{origin}.flag"),
                msg: format!("{:?} is not a flag (`--name`, without `=`)", a.flag),
            });
        }
        let value = kind_of(&origin, a.repository, a.prefix)?;
        set.args.push(ArgField {
            flag: a.flag.clone(),
            value,
            label: format!("{origin}: arg {}", a.flag),
        });
    }
    for (i, e) in s.env.value.iter().enumerate() {
        let origin = format!("{}[{i}]", s.env.origin);
        set.env.push(EnvField {
            name: glob(&format!("{origin}.name"), &e.name)?,
            value: kind_of(&origin, e.repository, e.prefix)?,
            format: ValueFormat {
                separator: e.separator,
                keyed: e.keyed,
            },
            label: format!("{origin}: env {}", e.name),
        });
    }
    for p in chosen(s)? {
        let name = p.name;
        for f in p.fields {
            let names: Vec<globset::GlobMatcher> = f
                .names
                .iter()
                .map(|n| glob(&s.profiles.origin, n).expect("built-in profile globs compile"))
                .collect();
            let embedded = f.embedded.map(|inner| {
                inner
                    .iter()
                    .map(|p| parse_path(p).expect("built-in profile paths parse"))
                    .collect()
            });
            for path in f.paths {
                set.kinds.push(KindField {
                    kinds: f.kinds.iter().map(|k| k.to_string()).collect(),
                    group: (!f.group.is_empty()).then(|| f.group.to_string()),
                    names: names.clone(),
                    path: parse_path(path).expect("built-in profile paths parse"),
                    value: f.value,
                    format: ValueFormat::default(),
                    qualified: f.qualified,
                    embedded: embedded.clone(),
                    label: format!("profile {name}: {path}"),
                });
            }
        }
        for (flag, value) in p.args {
            set.args.push(ArgField {
                flag: flag.to_string(),
                value: *value,
                label: format!("profile {name}: arg {flag}"),
            });
        }
        for (pattern, value, format) in p.env {
            set.env.push(EnvField {
                name: glob(&s.profiles.origin, pattern)?,
                value: *value,
                format: *format,
                label: format!("profile {name}: env"),
            });
        }
    }
    Ok(set)
}
