//! Properties (proptest): image references round-trip, and the rewriter is deterministic,
//! idempotent and changes nothing but image scalars, on generated references and manifests.

use std::collections::BTreeMap;

use proptest::prelude::*;
use pullthrough::rewrite::{self, Input, Options};
use pullthrough::rules::Rules;
use pullthrough::settings::{Limits, RewriteSettings};
use pullthrough_reference::ImageRef;

const MIRROR: &str = "111111111111.dkr.ecr.eu-west-1.amazonaws.com";

// ---------------------------------------------------------------------------------------------
// Generators for valid references (distribution/reference grammar)

fn component() -> impl Strategy<Value = String> {
    // path-component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
    prop::collection::vec(("(\\.|_|__|-{1,2})", "[a-z0-9]{1,6}"), 0..3)
        .prop_flat_map(|rest| ("[a-z0-9]{1,8}", Just(rest)))
        .prop_map(|(first, rest)| {
            let mut s = first;
            for (sep, part) in rest {
                s.push_str(&sep);
                s.push_str(&part);
            }
            s
        })
}

fn domain() -> impl Strategy<Value = Option<String>> {
    let label = "[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?";
    prop_oneof![
        Just(None),
        (label, label, prop::option::of(1u16..65535)).prop_map(|(a, b, port)| {
            Some(match port {
                Some(p) => format!("{a}.{b}:{p}"),
                None => format!("{a}.{b}"),
            })
        }),
        prop::option::of(1u16..65535).prop_map(|p| Some(match p {
            Some(p) => format!("localhost:{p}"),
            None => "localhost".to_string(),
        })),
    ]
}

/// (text, domain as written, path, tag, digest)
#[derive(Debug, Clone)]
struct GenRef {
    text: String,
    domain: Option<String>,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

fn reference() -> impl Strategy<Value = GenRef> {
    (
        domain(),
        prop::collection::vec(component(), 1..4),
        prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
        prop::option::of("[a-f0-9]{64}"),
    )
        .prop_map(|(domain, comps, tag, hex)| {
            let path = comps.join("/");
            let digest = hex.map(|h| format!("sha256:{h}"));
            let mut text = String::new();
            if let Some(d) = &domain {
                text.push_str(d);
                text.push('/');
            }
            text.push_str(&path);
            if let Some(t) = &tag {
                text.push(':');
                text.push_str(t);
            }
            if let Some(d) = &digest {
                text.push('@');
                text.push_str(d);
            }
            GenRef {
                text,
                domain,
                path,
                tag,
                digest,
            }
        })
        // 64 hex characters alone is an image ID, not a name (upstream refuses it).
        .prop_filter("not an identifier", |r| {
            !(r.domain.is_none()
                && r.tag.is_none()
                && r.digest.is_none()
                && r.path.len() == 64
                && r.path.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        // Without a domain, a first component that looks like a host would be read as one.
        .prop_filter("first component not a host", |r| {
            r.domain.is_some() || !r.path.contains('/') || {
                let first = r.path.split('/').next().unwrap();
                !(first.contains('.') || first == "localhost")
            }
        })
        // The whole name must stay within 255 bytes.
        .prop_filter("name within 255 bytes", |r| r.text.len() < 200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// parse(format(r)) == r, and the parts are the ones written.
    #[test]
    fn reference_round_trip(g in reference()) {
        let r: ImageRef = g.text.parse().unwrap_or_else(|e| panic!("{:?} does not parse: {e}", g.text));
        prop_assert_eq!(r.tag(), g.tag.as_deref());
        prop_assert_eq!(r.digest(), g.digest.as_deref());
        match &g.domain {
            Some(d) => {
                prop_assert_eq!(r.domain(), d.as_str());
                prop_assert_eq!(r.path(), g.path.as_str());
            }
            None => {
                prop_assert_eq!(r.domain(), "docker.io");
                let want = if g.path.contains('/') { g.path.clone() } else { format!("library/{}", g.path) };
                prop_assert_eq!(r.path(), want.as_str());
            }
        }
        let text = r.to_string();
        let again: ImageRef = text.parse().unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"));
        prop_assert_eq!(&again, &r);
        prop_assert_eq!(again.to_string(), text);
    }
}

// ---------------------------------------------------------------------------------------------
// Generated manifests

fn rules() -> Rules {
    let mut s = RewriteSettings::default();
    s.mirror.set(Some(MIRROR.into()), "test");
    let map: BTreeMap<String, String> = [
        ("docker.io", "docker-hub"),
        ("quay.io", "quay"),
        ("ghcr.io", "mirror.internal:5000/ghcr"),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect();
    s.registries.set(map, "test");
    s.exclude
        .set(vec!["docker.io/library/busybox".into()], "test");
    s.namespaces_exclude.set(vec!["kube-system".into()], "test");
    Rules::compile(&s).unwrap()
}

/// An image value as written: a generated reference (some on mapped registries), an odd
/// string, or a template leftover; in one of the scalar styles.
fn image_value() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        4 => reference().prop_map(|r| r.text),
        2 => (prop::sample::select(vec!["quay.io", "ghcr.io", "docker.io", "registry-1.docker.io", "gcr.io", MIRROR]), component(), prop::option::of("[a-z0-9.]{1,6}"))
            .prop_map(|(d, p, t)| match t { Some(t) => format!("{d}/{p}:{t}"), None => format!("{d}/{p}") }),
        1 => Just("busybox".to_string()),
        1 => Just("{{ .Values.image }}".to_string()),
        1 => Just("UPPER/case".to_string()),
    ];
    (text, 0..3u8).prop_map(|(t, style)| match style {
        0 if !t.starts_with('{') => t,
        1 => format!("'{}'", t.replace('\'', "''")),
        _ => format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")),
    })
}

#[derive(Debug, Clone)]
struct Doc {
    kind: &'static str,
    namespace: Option<&'static str>,
    images: Vec<String>,
    init: Option<String>,
    comment: bool,
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        prop::sample::select(vec![
            "Pod",
            "Deployment",
            "CronJob",
            "ConfigMap",
            "CustomResourceDefinition",
        ]),
        prop::option::of(prop::sample::select(vec!["prod", "kube-system"])),
        prop::collection::vec(image_value(), 1..4),
        prop::option::of(image_value()),
        any::<bool>(),
    )
        .prop_map(|(kind, namespace, images, init, comment)| Doc {
            kind,
            namespace,
            images,
            init,
            comment,
        })
}

/// The manifest text, and the byte ranges of every image value in it.
fn render(docs: &[Doc], crlf: bool) -> (String, Vec<std::ops::Range<usize>>) {
    let mut s = String::new();
    let mut spans = Vec::new();
    let nl = if crlf { "\r\n" } else { "\n" };
    for d in docs {
        s.push_str(&format!(
            "---{nl}apiVersion: v1{nl}kind: {}{nl}metadata:{nl}  name: x{nl}",
            d.kind
        ));
        if let Some(ns) = d.namespace {
            s.push_str(&format!("  namespace: {ns}{nl}"));
        }
        if d.kind == "ConfigMap" {
            // `image` keys outside a container list are not image fields.
            for img in &d.images {
                s.push_str(&format!("data:{nl}  image: {img}{nl}"));
            }
            continue;
        }
        let indent = match d.kind {
            "Deployment" => "    ",
            "CronJob" => "        ",
            _ => "",
        };
        match d.kind {
            "Deployment" => s.push_str(&format!("spec:{nl}  template:{nl}    spec:{nl}")),
            "CronJob" => s.push_str(&format!(
                "spec:{nl}  jobTemplate:{nl}    spec:{nl}      template:{nl}        spec:{nl}"
            )),
            _ => s.push_str(&format!("spec:{nl}")),
        }
        let mut list = |name: &str, imgs: &[String], s: &mut String| {
            s.push_str(&format!("{indent}  {name}:{nl}"));
            for (i, img) in imgs.iter().enumerate() {
                s.push_str(&format!("{indent}  - name: c{i}{nl}{indent}    image: "));
                let start = s.len();
                s.push_str(img);
                if d.kind != "CustomResourceDefinition" {
                    spans.push(start..s.len());
                }
                if d.comment {
                    s.push_str(" # pinned");
                }
                s.push_str(nl);
            }
        };
        list("containers", &d.images, &mut s);
        if let Some(init) = &d.init {
            list("initContainers", std::slice::from_ref(init), &mut s);
        }
    }
    (s, spans)
}

fn rewrite_text(text: &str, rules: &Rules) -> (String, rewrite::Plan) {
    let inputs =
        vec![Input::from_bytes("gen.yaml", text.as_bytes().to_vec(), &Limits::default()).unwrap()];
    let opts = Options {
        strict: false,
        limits: Limits::default(),
        ..Options::default()
    };
    let plan = rewrite::plan(&inputs, rules, &opts).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let out = rewrite::apply(&inputs, &plan).unwrap();
    (out, plan)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Two runs: byte-identical. A second rewrite: no change. Only image scalars differ: the
    /// output equals the input outside the generated image values, and each image value reads
    /// back as what the rules decided (or stays as written).
    #[test]
    fn rewrite_is_deterministic_idempotent_and_touches_only_images(docs in prop::collection::vec(doc(), 1..6), crlf in any::<bool>()) {
        let rules = rules();
        let (text, spans) = render(&docs, crlf);
        let (out1, plan) = rewrite_text(&text, &rules);
        let (out2, _) = rewrite_text(&text, &rules);
        prop_assert!(out1 == out2, "two runs differ");
        let (again, _) = rewrite_text(&out1, &rules);
        prop_assert!(again == out1, "a second rewrite changed the output");

        // Every edit lies exactly on a generated image value.
        let mut edits: Vec<_> = plan.records.iter().filter_map(|r| r.edit.as_ref()).collect();
        edits.sort_by_key(|e| e.span.start());
        for e in &edits {
            prop_assert!(spans.iter().any(|s| s.start == e.span.start() && s.end == e.span.end()), "edit {:?} is not on an image value", e.span);
        }
        // Outside the edits, the output is the input.
        let mut pos = 0;
        let mut rebuilt = String::new();
        for e in &edits {
            rebuilt.push_str(&text[pos..e.span.start()]);
            rebuilt.push_str(&e.text);
            pos = e.span.end();
        }
        rebuilt.push_str(&text[pos..]);
        prop_assert!(rebuilt == out1, "bytes outside image values changed");
        // Each image field reads back as decided.
        let (_, plan2) = rewrite_text(&out1, &rules);
        prop_assert_eq!(plan2.records.len(), plan.records.len());
        for (a, b) in plan.records.iter().zip(&plan2.records) {
            let want = a.decision.to.as_deref().unwrap_or(&a.before);
            prop_assert_eq!(&b.before, want, "{}", a.path);
        }
    }
}
