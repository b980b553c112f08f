//! Compiles the configured image fields (`fields`, `args`, `env`) and the chosen `profiles` into
//! the scanner's [`FieldSet`]. Errors name the setting that holds the bad value.

use globset::Glob;

use super::RewriteSettings;
use crate::manifest::fields::{parse_path, ArgField, EnvField, FieldSet, KindField, ValueFormat, ValueKind};
use crate::manifest::profiles;
use crate::rules::RuleError;

fn kind_of(repository: bool) -> ValueKind {
    if repository {
        ValueKind::Repository
    } else {
        ValueKind::Image
    }
}

fn env_glob(origin: &str, name: &str) -> Result<globset::GlobMatcher, RuleError> {
    Glob::new(name)
        .map(|g| g.compile_matcher())
        .map_err(|e| RuleError { origin: origin.to_string(), msg: format!("invalid glob {name:?}: {}", e.kind()) })
}

/// The field set for `s`. Fails on an unknown profile, a bad path, an empty flag or a bad glob.
pub fn compile(s: &RewriteSettings) -> Result<FieldSet, RuleError> {
    let mut set = FieldSet::default();
    for (i, f) in s.fields.value.iter().enumerate() {
        let origin = format!("{}[{i}]", s.fields.origin);
        for p in &f.paths {
            let path = parse_path(p).map_err(|msg| RuleError { origin: format!("{origin}.paths"), msg })?;
            set.kinds.push(KindField {
                kinds: f.kinds.clone().unwrap_or_default(),
                group: f.group.clone(),
                path,
                value: kind_of(f.repository),
                format: ValueFormat { separator: f.separator, keyed: f.keyed },
                label: format!("{origin}: {p}"),
            });
        }
    }
    for (i, a) in s.args.value.iter().enumerate() {
        let origin = format!("{}[{i}]", s.args.origin);
        if !a.flag.starts_with('-') || a.flag.contains('=') {
            return Err(RuleError { origin: format!("{origin}.flag"), msg: format!("{:?} is not a flag (`--name`, without `=`)", a.flag) });
        }
        set.args.push(ArgField { flag: a.flag.clone(), value: kind_of(a.repository), label: format!("{origin}: arg {}", a.flag) });
    }
    for (i, e) in s.env.value.iter().enumerate() {
        let origin = format!("{}[{i}]", s.env.origin);
        set.env.push(EnvField {
            name: env_glob(&format!("{origin}.name"), &e.name)?,
            value: kind_of(e.repository),
            format: ValueFormat { separator: e.separator, keyed: e.keyed },
            label: format!("{origin}: env {}", e.name),
        });
    }
    for name in &s.profiles.value {
        let p = profiles::find(name).ok_or_else(|| RuleError {
            origin: s.profiles.origin.clone(),
            msg: format!(
                "unknown profile {name:?} (known: {})",
                profiles::PROFILES.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
            ),
        })?;
        for (kinds, group, paths) in p.fields {
            for path in *paths {
                set.kinds.push(KindField {
                    kinds: kinds.iter().map(|k| k.to_string()).collect(),
                    group: Some(group.to_string()),
                    path: parse_path(path).expect("built-in profile paths parse"),
                    value: ValueKind::Image,
                    format: ValueFormat::default(),
                    label: format!("profile {name}: {path}"),
                });
            }
        }
        for flag in p.args {
            set.args.push(ArgField { flag: flag.to_string(), value: ValueKind::Image, label: format!("profile {name}: arg {flag}") });
        }
        for (glob, kind, sep) in p.env {
            set.env.push(EnvField {
                name: env_glob(&s.profiles.origin, glob)?,
                value: *kind,
                format: ValueFormat { separator: *sep, keyed: false },
                label: format!("profile {name}: env"),
            });
        }
    }
    Ok(set)
}
