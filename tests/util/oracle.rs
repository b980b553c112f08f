//! What Argo CD reads from a manifest stream, according to the Go oracle
//! (`tests/oracle/yaml-oracle.go`, built into `.tools/bin/yaml-oracle`).
//!
//! Each non-empty document becomes an [`OracleDoc`]; `doc` numbers documents from 0 and
//! skips the ones Argo CD skips (empty, comment-only), so documents of an original and a
//! rewritten stream can be paired by position.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::tools;

/// One document as Argo CD reads it: either its JSON or a conversion error; with its JSON, the
/// error of decoding it into an Unstructured (no `kind`, …), when Argo CD would refuse it there.
#[derive(Debug, Clone, PartialEq)]
pub struct OracleDoc {
    pub doc: usize,
    pub json: Option<Value>,
    pub error: Option<String>,
    pub unstructured_error: Option<String>,
}

/// Runs the oracle on the file at `path`.
pub fn read(path: &Path) -> Vec<OracleDoc> {
    run(&[path.as_os_str()], None, &path.display().to_string())
}

/// Runs the oracle on `input` (given on stdin).
pub fn read_bytes(input: &[u8]) -> Vec<OracleDoc> {
    run(&["-".as_ref()], Some(input), "<stdin>")
}

fn run(args: &[&std::ffi::OsStr], stdin: Option<&[u8]>, what: &str) -> Vec<OracleDoc> {
    let oracle = tools::yaml_oracle();
    let mut child = Command::new(&oracle)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", oracle.display()));
    let writer = stdin.map(|input| {
        let mut pipe = child.stdin.take().expect("oracle stdin");
        let input = input.to_vec();
        std::thread::spawn(move || pipe.write_all(&input).expect("write oracle stdin"))
    });
    let output = child.wait_with_output().expect("wait for yaml-oracle");
    if let Some(w) = writer {
        w.join().expect("oracle stdin writer");
    }
    assert!(
        output.status.success(),
        "yaml-oracle failed on {what}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("oracle output is UTF-8");
    stdout.lines().map(|line| parse_line(line, what)).collect()
}

fn parse_line(line: &str, what: &str) -> OracleDoc {
    let mut v: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("bad oracle line for {what} ({e}): {line}"));
    let doc = v["doc"]
        .as_u64()
        .unwrap_or_else(|| panic!("oracle line without doc: {line}")) as usize;
    let json = v.get_mut("json").map(Value::take);
    let error = v.get("error").and_then(Value::as_str).map(str::to_owned);
    assert!(
        json.is_some() != error.is_some(),
        "oracle line needs json xor error: {line}"
    );
    let unstructured_error = v
        .get("unstructured_error")
        .and_then(Value::as_str)
        .map(str::to_owned);
    OracleDoc {
        doc,
        json,
        error,
        unstructured_error,
    }
}

/// JSON paths where `a` and `b` differ, e.g. `spec.template.spec.containers[0].image`.
///
/// Missing keys (on either side), type changes and value changes all count; for arrays of
/// different length every extra index is listed. Keys that are not plain identifiers are
/// written `["key"]` (`metadata.annotations["app.kubernetes.io/name"]`); a difference at the
/// top level is the empty path `""`. Object keys are visited in sorted order.
pub fn differing_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(a, b, &mut String::new(), &mut out);
    out
}

fn walk(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let len = path.len();
                push_key(path, key);
                match (x.get(key), y.get(key)) {
                    (Some(va), Some(vb)) => walk(va, vb, path, out),
                    _ => out.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => walk(va, vb, path, out),
                    _ => out.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        _ => {
            if a != b {
                out.push(path.clone());
            }
        }
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&serde_json::to_string(key).expect("quote key"));
        path.push(']');
    }
}
