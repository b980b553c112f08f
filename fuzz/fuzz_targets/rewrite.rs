//! The rewriter on arbitrary text, with settings that exercise every decision (registry map,
//! full destination, regex rule, exclude, namespaces). Properties:
//!
//! 1. no panic (plan and apply either succeed or return an error);
//! 2. a planned rewrite applies, and its output parses again;
//! 3. a second rewrite of the output changes nothing (idempotence);
//! 4. only image scalars differ: the output is the input with exactly the plan records' edits
//!    spliced in, each edit replacing the span of the image field its record names, and the
//!    second run reads back, at every edited field, the value the first run decided;
//! 5. the default plan (fast path: prefilter, quick reader, skip proofs) and the full parse
//!    agree exactly: the same records, counts and warnings, or the same error.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pullthrough::manifest::fastpath::Strategy;
use pullthrough::rewrite::{self, Input, Options, Plan};
use pullthrough::rules::Rules;
use pullthrough::settings::{Limits, RewriteSettings, RuleSetting};

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut s = RewriteSettings::default();
        s.mirror.set(
            Some("111111111111.dkr.ecr.eu-west-1.amazonaws.com".into()),
            "fuzz",
        );
        let map: BTreeMap<String, String> = [
            ("docker.io", "docker-hub"),
            ("quay.io", "quay"),
            ("ghcr.io", "mirror.internal:5000/ghcr"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        s.registries.set(map, "fuzz");
        s.exclude
            .set(vec!["docker.io/library/busybox".into()], "fuzz");
        s.namespaces_exclude.set(vec!["kube-system".into()], "fuzz");
        s.rules.set(
            vec![RuleSetting {
                registry: None,
                pattern: r"^gcr\.io/(.*)$".into(),
                replace: "111111111111.dkr.ecr.eu-west-1.amazonaws.com/gcr/$1".into(),
                require_capture: false,
                origin: None,
                name: None,
            }],
            "fuzz",
        );
        Rules::compile(&s).expect("fuzz settings compile")
    })
}

fn opts() -> Options {
    Options {
        strict: false,
        limits: Limits::default(),
        ..Options::default()
    }
}

fn run(text: &str) -> Option<(Vec<Input>, Plan)> {
    let inputs =
        vec![Input::from_bytes("fuzz", text.as_bytes().to_vec(), &Limits::default()).ok()?];
    let plan = rewrite::plan(&inputs, rules(), &opts()).ok()?;
    Some((inputs, plan))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // 5. Fast path and full parse agree.
    if let Ok(input) = Input::from_bytes("fuzz", text.as_bytes().to_vec(), &Limits::default()) {
        let inputs = [input];
        let fast = rewrite::plan(&inputs, rules(), &opts());
        let full = rewrite::plan_with(&inputs, rules(), &opts(), Strategy::Full);
        let show = |p: &Result<Plan, rewrite::RewriteError>| match p {
            Ok(p) => format!(
                "{:?} {} {} {:?}",
                p.records, p.documents, p.objects, p.warnings
            ),
            Err(e) => format!("error {e}"),
        };
        let (a, b) = (show(&fast), show(&full));
        assert!(
            a == b,
            "fast path and full parse disagree\nfast: {a}\nfull: {b}"
        );
    }
    let Some((inputs, plan)) = run(text) else {
        return;
    };
    let out = rewrite::apply(&inputs, &plan).expect("a planned rewrite applies");

    // 4a. The output is the input with the records' edits spliced in, nothing else.
    let mut edits: Vec<_> = plan
        .records
        .iter()
        .filter_map(|r| r.edit.as_ref().map(|e| (r, e)))
        .collect();
    edits.sort_by_key(|(_, e)| e.span.start());
    let mut expect = String::with_capacity(out.len());
    let mut pos = 0;
    for (r, e) in &edits {
        assert!(
            e.span.start() >= pos,
            "overlapping edits at {}",
            e.span.start()
        );
        assert_eq!(
            e.span.start(),
            r.offset,
            "edit of {} does not start at its field",
            r.path
        );
        assert!(!e.span.is_empty(), "empty edit span at {}", r.path);
        expect.push_str(&text[pos..e.span.start()]);
        expect.push_str(&e.text);
        pos = e.span.end();
    }
    expect.push_str(&text[pos..]);
    assert!(
        expect == out,
        "output differs from the input outside the edit spans"
    );

    // 2. The output parses, with the same image fields.
    let (inputs2, plan2) =
        run(&out).unwrap_or_else(|| panic!("rewritten output does not parse:\n{out}"));
    assert_eq!(
        plan2.records.len(),
        plan.records.len(),
        "image fields changed"
    );
    // 4b. Every edited field now reads what was decided.
    for (a, b) in plan.records.iter().zip(&plan2.records) {
        assert_eq!(a.path, b.path);
        if a.edit.is_some() {
            let to = a.decision.to.as_deref().expect("an edit has a value");
            assert_eq!(
                b.before, to,
                "{}: wrote {to:?}, reads back {:?}",
                a.path, b.before
            );
        }
    }
    // 3. Idempotence.
    let out2 = rewrite::apply(&inputs2, &plan2).expect("second rewrite applies");
    assert!(out2 == out, "second rewrite changed the output");
});
