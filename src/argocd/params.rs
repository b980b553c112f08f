//! Application parameters: `ARGOCD_APP_PARAMETERS` (the JSON Argo CD writes), the lossless
//! source, checked against the parameter table.
//!
//! The `PARAM_*` variables are never read: their names lose case and punctuation (a map key
//! `docker.io` becomes `_DOCKER_IO`), so they cannot carry a registry map.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::parameters::{self, Collection, ParamDef};

/// A parameter value of the shape its definition requires. A string parameter the table marks
/// `boolean` is read into [`Value::Bool`] when it is parsed, so a bad one is refused there, like
/// a value of the wrong collection type, before any policy looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    String(String),
    Bool(bool),
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

    /// The value of a boolean parameter. Panics like [`Value::string`].
    pub fn bool(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            other => panic!("a boolean parameter holds {other:?}"),
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
/// the wrong collection type, a boolean that is not `"true"`/`"false"`, or a name given twice.
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
        let value = typed(def, &format!("parameter {name}"), value)?;
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
        let value = typed(def, &format!("parameter {name}"), Value::String(v))?;
        push(&mut out, Param { def, value })?;
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
    let article = if def.collection == Collection::Array {
        "an"
    } else {
        "a"
    };
    Err(ParamError(format!(
        "parameter {}: is {article} {} parameter; use {right}, not {flag}",
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
        out.push(Param {
            def,
            value: typed(def, &var, value)?,
        });
    }
    Ok(out)
}

/// `value` as its definition types it: a boolean parameter's text becomes [`Value::Bool`]
/// (`origin` names it in the error); every other value is returned as it is.
fn typed(def: &ParamDef, origin: &str, value: Value) -> Result<Value, ParamError> {
    match value {
        Value::String(s) if def.boolean => parse_bool(origin, &s).map(Value::Bool),
        v => Ok(v),
    }
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

#[cfg(test)]
mod tests {
    //! One vector per line: the input of each source, and the parameters it gives (`name=value`,
    //! in order) or its error, exact text.
    use super::*;

    fn show(r: Result<Vec<Param>, ParamError>) -> String {
        match r {
            Err(e) => format!("error: {e}"),
            Ok(ps) => ps
                .iter()
                .map(|p| {
                    let v = match &p.value {
                        Value::String(s) => format!("{s:?}"),
                        Value::Bool(b) => b.to_string(),
                        Value::Array(a) => format!("{a:?}"),
                        Value::Map(m) => format!("{m:?}"),
                    };
                    format!("{}={v}", p.def.name)
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// `json!(ARGOCD_APP_PARAMETERS => shown)`.
    macro_rules! json {
        ($j:expr => $want:expr) => {
            assert_eq!(show(parse_json(Some($j))), $want, "{}", $j)
        };
    }
    /// `cli!([--param…], [--param-array…], [--param-map…] => shown)`.
    macro_rules! cli {
        ([$($s:expr),*], [$($a:expr),*], [$($m:expr),*] => $want:expr) => {{
            let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
            assert_eq!(show(from_cli(&v(&[$($s),*]), &v(&[$($a),*]), &v(&[$($m),*]))), $want)
        }};
    }
    /// `env!(VAR (without ARGOCD_ENV_) = value => shown)`.
    macro_rules! env {
        ($k:literal = $v:expr => $want:expr) => {
            assert_eq!(
                show(from_plugin_env(&[($k.to_string(), $v.to_string())].into())),
                $want,
                "{}={}",
                $k,
                $v
            )
        };
    }

    #[test]
    fn from_the_application_json() {
        json!("null" => "");
        json!("  " => "");
        json!("[]" => "");
        json!(r#"[{"name":"mirror","string":"m.example.com"}]"# => r#"mirror="m.example.com""#);
        json!(r#"[{"name":"exclude","array":["a/*","b"]}]"# => r#"exclude=["a/*", "b"]"#);
        json!(r#"[{"name":"registries","map":{"docker.io":"hub"}}]"# => r#"registries={"docker.io": "hub"}"#);
        json!(r#"[{"name":"enabled","string":"false"},{"name":"skip-crds","string":" TRUE "}]"# => "enabled=false skip-crds=true");
        json!(r#"[{"name":"enabled","string":"yes"}]"# => r#"error: parameter enabled: expected "true" or "false", got "yes""#);
        json!(r#"[{"name":"enabled","string":""}]"# => r#"error: parameter enabled: expected "true" or "false", got """#);
        json!(r#"[{"name":"enabled","array":["true"]}]"# => "error: parameter enabled: expected a string value (set `string:` in the Application)");
        json!(r#"[{"name":"nonsense","string":"x"}]"# => "error: parameter nonsense: unknown parameter (see `pullthrough parameters` for the list)");
        json!(r#"[{"string":"x"}]"# => "error: ARGOCD_APP_PARAMETERS: a parameter has no name");
        json!(r#"[{"name":"mirror","string":"a"},{"name":"mirror","string":"b"}]"# => "error: parameter mirror: given more than once");
        // The name is checked before the value, and the value's shape before a repetition.
        json!(r#"[{"name":"nonsense","array":[]}]"# => "error: parameter nonsense: unknown parameter (see `pullthrough parameters` for the list)");
        json!(r#"[{"name":"enabled","string":"true"},{"name":"enabled","string":"no"}]"# => r#"error: parameter enabled: expected "true" or "false", got "no""#);
        json!(r#"{"name":"mirror"}"# => "error: ARGOCD_APP_PARAMETERS: expected a JSON array of {name, string|array|map}: invalid type: map, expected a sequence at line 1 column 0");
        json!(r#"[{"name":"mirror","string":"a","extra":1}]"# => "error: ARGOCD_APP_PARAMETERS: expected a JSON array of {name, string|array|map}: unknown field `extra`, expected one of `name`, `string`, `array`, `map` at line 1 column 38");
    }

    #[test]
    fn from_the_command_line() {
        cli!(["mirror=m.example.com", "enabled=FALSE"], [], [] => r#"mirror="m.example.com" enabled=false"#);
        cli!([], ["exclude=a", "values-files=v.yaml", "exclude=b"], [] => r#"exclude=["a", "b"] values-files=["v.yaml"]"#);
        cli!([], [], ["registries.docker.io=hub", "registries.ghcr.io=gh"] => r#"registries={"docker.io": "hub", "ghcr.io": "gh"}"#);
        cli!(["enabled=maybe"], [], [] => r#"error: parameter enabled: expected "true" or "false", got "maybe""#);
        cli!(["mirror"], [], [] => r#"error: --param "mirror": expected NAME=VALUE"#);
        cli!([], [], ["registries=hub"] => r#"error: --param-map "registries=hub": expected NAME.KEY=VALUE"#);
        cli!(["exclude=a"], [], [] => "error: parameter exclude: is an array parameter; use --param-array, not --param");
        cli!([], ["mirror=a"], [] => "error: parameter mirror: is a string parameter; use --param, not --param-array");
        cli!(["mirror=a", "mirror=b"], [], [] => "error: parameter mirror: given more than once");
    }

    #[test]
    fn from_argocd_env_variables() {
        env!("ENABLED" = "False" => "enabled=false");
        env!("ENABLED" = "off" => r#"error: ARGOCD_ENV_ENABLED: expected "true" or "false", got "off""#);
        env!("EXCLUDE" = "a, b,,c" => r#"exclude=["a", "b", "c"]"#);
        env!("EXCLUDE" = r#"["a,b"]"# => r#"exclude=["a,b"]"#);
        env!("EXCLUDE" = "[a" => "error: ARGOCD_ENV_EXCLUDE: expected a JSON array of strings or a comma-separated list");
        env!("REGISTRIES" = "docker.io=hub, ghcr.io = gh" => r#"registries={"docker.io": "hub", "ghcr.io": "gh"}"#);
        env!("REGISTRIES" = r#"{"docker.io":"hub"}"# => r#"registries={"docker.io": "hub"}"#);
        env!("REGISTRIES" = "docker.io" => "error: ARGOCD_ENV_REGISTRIES: expected a JSON object of strings or k=v,k=v");
        // Variables that name no parameter are the app's own business: not read.
        env!("SOMETHING_ELSE" = "x" => "");
    }
}
