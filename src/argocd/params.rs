//! Application parameters: `ARGOCD_APP_PARAMETERS` (the JSON Argo CD writes), the lossless
//! source, checked against the parameter table.
//!
//! The `PARAM_*` variables are never read: their names lose case and punctuation (a map key
//! `docker.io` becomes `_DOCKER_IO`), so they cannot carry a registry map.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::parameters::{self, Collection, ParamDef};

/// A parameter value of the shape its definition requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    String(String),
    Array(Vec<String>),
    Map(BTreeMap<String, String>),
}

impl Value {
    /// The text of a string parameter.
    ///
    /// # Panics
    /// On an array or map: the parsers here build every value from its definition's
    /// [`Collection`], so a [`Param`]'s value always has its definition's shape.
    pub fn string(&self) -> &String {
        match self {
            Value::String(s) => s,
            other => panic!("a string parameter holds {other:?}"),
        }
    }

    /// The items of an array parameter. Panics like [`Value::string`].
    pub fn array(&self) -> &Vec<String> {
        match self {
            Value::Array(a) => a,
            other => panic!("an array parameter holds {other:?}"),
        }
    }

    /// The entries of a map parameter. Panics like [`Value::string`].
    pub fn map(&self) -> &BTreeMap<String, String> {
        match self {
            Value::Map(m) => m,
            other => panic!("a map parameter holds {other:?}"),
        }
    }
}

/// A set parameter (known name, right shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub def: &'static ParamDef,
    pub value: Value,
}

/// A parameter problem: the message names the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

/// One entry as Argo CD marshals it (`ApplicationSourcePluginParameter.MarshalJSON`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    name: Option<String>,
    string: Option<String>,
    array: Option<Vec<String>>,
    map: Option<BTreeMap<String, String>>,
}

/// Parses `ARGOCD_APP_PARAMETERS`. `null` (no parameters) or absent gives none.
///
/// Fails on malformed JSON, a non-array, an entry without a name, an unknown name, a value of
/// the wrong collection type, or a name given twice.
pub fn parse_json(json: Option<&str>) -> Result<Vec<Param>, ParamError> {
    let Some(json) = json
        .map(str::trim)
        .filter(|j| !j.is_empty() && *j != "null")
    else {
        return Ok(Vec::new());
    };
    let raw: Vec<RawParam> = serde_json::from_str(json).map_err(|e| {
        ParamError(format!(
            "ARGOCD_APP_PARAMETERS: expected a JSON array of {{name, string|array|map}}: {e}"
        ))
    })?;
    let mut out: Vec<Param> = Vec::new();
    for r in raw {
        let name = r.name.unwrap_or_default();
        let def = lookup(&name)?;
        let value = match def.collection {
            Collection::String => r.string.map(Value::String),
            Collection::Array => r.array.map(Value::Array),
            Collection::Map => r.map.map(Value::Map),
        };
        let value = value.ok_or_else(|| {
            ParamError(format!(
                "parameter {name}: expected a {} value (set `{}:` in the Application)",
                def.collection.as_str(),
                def.collection.as_str()
            ))
        })?;
        push(&mut out, Param { def, value })?;
    }
    Ok(out)
}

fn lookup(name: &str) -> Result<&'static ParamDef, ParamError> {
    if name.is_empty() {
        return Err(ParamError(
            "ARGOCD_APP_PARAMETERS: a parameter has no name".into(),
        ));
    }
    parameters::find(name).ok_or_else(|| {
        ParamError(format!(
            "parameter {name}: unknown parameter (see `pullthrough parameters` for the list)"
        ))
    })
}

fn push(out: &mut Vec<Param>, p: Param) -> Result<(), ParamError> {
    if out.iter().any(|q| q.def.name == p.def.name) {
        return Err(ParamError(format!(
            "parameter {}: given more than once",
            p.def.name
        )));
    }
    out.push(p);
    Ok(())
}

/// Parameters from the `render`/`explain` command line: `--param NAME=VALUE` (string),
/// `--param-array NAME=VALUE` (repeat to append), `--param-map NAME.KEY=VALUE`.
pub fn from_cli(
    strings: &[String],
    arrays: &[String],
    maps: &[String],
) -> Result<Vec<Param>, ParamError> {
    let split = |flag: &str, s: &str| -> Result<(String, String), ParamError> {
        s.split_once('=')
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .ok_or_else(|| ParamError(format!("{flag} {s:?}: expected NAME=VALUE")))
    };
    let mut out: Vec<Param> = Vec::new();
    for s in strings {
        let (name, v) = split("--param", s)?;
        let def = lookup(&name)?;
        expect(def, Collection::String, "--param")?;
        push(
            &mut out,
            Param {
                def,
                value: Value::String(v),
            },
        )?;
    }
    let mut arr: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut order = Vec::new();
    for s in arrays {
        let (name, v) = split("--param-array", s)?;
        let def = lookup(&name)?;
        expect(def, Collection::Array, "--param-array")?;
        if !arr.contains_key(def.name) {
            order.push(def);
        }
        arr.entry(def.name).or_default().push(v);
    }
    for def in order {
        push(
            &mut out,
            Param {
                def,
                value: Value::Array(arr.remove(def.name).unwrap_or_default()),
            },
        )?;
    }
    let mut map: BTreeMap<&'static str, BTreeMap<String, String>> = BTreeMap::new();
    let mut order = Vec::new();
    for s in maps {
        let (lhs, v) = split("--param-map", s)?;
        // The parameter name has no dots; the key (a registry host, a Helm path) may.
        let (name, key) = lhs
            .split_once('.')
            .ok_or_else(|| ParamError(format!("--param-map {s:?}: expected NAME.KEY=VALUE")))?;
        let def = lookup(name)?;
        expect(def, Collection::Map, "--param-map")?;
        if !map.contains_key(def.name) {
            order.push(def);
        }
        map.entry(def.name).or_default().insert(key.to_string(), v);
    }
    for def in order {
        push(
            &mut out,
            Param {
                def,
                value: Value::Map(map.remove(def.name).unwrap_or_default()),
            },
        )?;
    }
    Ok(out)
}

fn expect(def: &ParamDef, want: Collection, flag: &str) -> Result<(), ParamError> {
    if def.collection == want {
        return Ok(());
    }
    let right = match def.collection {
        Collection::String => "--param",
        Collection::Array => "--param-array",
        Collection::Map => "--param-map",
    };
    Err(ParamError(format!(
        "parameter {}: is a {} parameter; use {right}, not {flag}",
        def.name,
        def.collection.as_str()
    )))
}

/// The `ARGOCD_ENV_` fallback: `ARGOCD_ENV_VALUES_FILES` for `values-files`. Strings as is;
/// arrays as a JSON array or comma-separated; maps as a JSON object or `k=v,k=v`.
pub fn from_plugin_env(plugin_env: &BTreeMap<String, String>) -> Result<Vec<Param>, ParamError> {
    let mut out = Vec::new();
    for def in parameters::PARAMS {
        let var = parameters::env_name(def.name);
        let Some(raw) = plugin_env.get(&var["ARGOCD_ENV_".len()..]) else {
            continue;
        };
        let bad = |what: &str| ParamError(format!("{var}: expected {what}"));
        let value =
            match def.collection {
                Collection::String => Value::String(raw.clone()),
                Collection::Array => {
                    if raw.trim_start().starts_with('[') {
                        Value::Array(serde_json::from_str(raw).map_err(|_| {
                            bad("a JSON array of strings or a comma-separated list")
                        })?)
                    } else {
                        Value::Array(
                            raw.split(',')
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(str::to_string)
                                .collect(),
                        )
                    }
                }
                Collection::Map => {
                    if raw.trim_start().starts_with('{') {
                        Value::Map(
                            serde_json::from_str(raw)
                                .map_err(|_| bad("a JSON object of strings or k=v,k=v"))?,
                        )
                    } else {
                        let mut m = BTreeMap::new();
                        for kv in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                            let (k, v) = kv
                                .split_once('=')
                                .ok_or_else(|| bad("a JSON object of strings or k=v,k=v"))?;
                            m.insert(k.trim().to_string(), v.trim().to_string());
                        }
                        Value::Map(m)
                    }
                }
            };
        out.push(Param { def, value });
    }
    Ok(out)
}

/// `"true"`/`"false"` (case-insensitive) for boolean parameters.
pub fn parse_bool(origin: &str, s: &str) -> Result<bool, ParamError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ParamError(format!(
            "{origin}: expected \"true\" or \"false\", got {s:?}"
        ))),
    }
}
