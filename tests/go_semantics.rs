//! Every image Go sees is found, and objects are what Argo CD reads (issues 15 and 19): inputs
//! whose Go reading differs from a naive walk of their text — duplicate keys, aliases of
//! collections and of keys, merge keys, `!!binary` keys, tagged images, Unicode line breaks,
//! List unpacking by `items`. Each case runs the real binary with both plans (the default fast
//! path and `PULLTHROUGH_PLAN=full`, which must agree) and reads input and output with the Go
//! oracle (Argo CD's own YAML stack):
//!
//! * `rewritten!`: exit 0; the images Go reads in the output are exactly the hand-written list
//!   (so every image Go sees in the input was rewritten as the config says), and Go reads the
//!   output as the input everywhere else.
//! * `refused!`: the exact one-line error, exit 2, nothing on stdout.

use crate::util;

use serde_json::Value;
use util::cmd::TestDir;
use util::oracle;

const M: &str = "mirror.example.com";
const CONFIG: &str = "\
mirror: mirror.example.com
registries:
  docker.io: hub
  quay.io: quay
namespaces:
  exclude: [kube-system]
";

fn run(plan: &str, input: &str) -> std::process::Output {
    let dir = TestDir::new();
    dir.write("c.yaml", CONFIG);
    dir.write("in.yaml", input);
    dir.cmd()
        .env("PULLTHROUGH_PLAN", plan)
        .args(["rewrite", "--config", "c.yaml", "in.yaml"])
        .output()
}

fn is_image_path(p: &str) -> bool {
    regex::Regex::new(r"(containers|initContainers|ephemeralContainers)\[\d+\]\.image$")
        .unwrap()
        .is_match(p)
}

/// Every string Go reads at a container image path, in document order.
fn images_go_reads(text: &str) -> Vec<String> {
    fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, e) in m {
                    walk(e, &format!("{path}.{k}"), out);
                }
            }
            Value::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    walk(e, &format!("{path}[{i}]"), out);
                }
            }
            Value::String(s) if is_image_path(path) => out.push(s.clone()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for d in oracle::read_bytes(text.as_bytes()) {
        let json = d
            .json
            .unwrap_or_else(|| panic!("Go refuses {text:?}: {:?}", d.error));
        walk(&json, "", &mut out);
    }
    out.sort();
    out
}

fn check_rewritten(name: &str, input: &str, want: &[&str]) {
    let mut first: Option<String> = None;
    for plan in ["validated", "full"] {
        let out = run(plan, input);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name} ({plan}): {stderr}");
        let got = String::from_utf8(out.stdout).unwrap();
        match &first {
            Some(f) => assert_eq!(&got, f, "{name}: the two plans disagree"),
            None => first = Some(got.clone()),
        }
        let mut want: Vec<String> = want.iter().map(|w| w.replace("$M", M)).collect();
        want.sort();
        assert_eq!(
            images_go_reads(&got),
            want,
            "{name} ({plan}): the images Go reads in\n{got}"
        );
        // Go reads everything else as before.
        let (a, b) = (
            oracle::read_bytes(input.as_bytes()),
            oracle::read_bytes(got.as_bytes()),
        );
        assert_eq!(a.len(), b.len(), "{name}");
        for (x, y) in a.iter().zip(&b) {
            for p in oracle::differing_paths(x.json.as_ref().unwrap(), y.json.as_ref().unwrap()) {
                assert!(
                    is_image_path(&p),
                    "{name} ({plan}): Go reads a different value at {p}"
                );
            }
        }
    }
}

fn check_refused(name: &str, input: &str, want: &str) {
    for plan in ["validated", "full"] {
        let out = run(plan, input);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} ({plan}): {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{name} ({plan}): output on a failure"
        );
        assert_eq!(
            stderr.trim_end(),
            format!("pullthrough: {want}"),
            "{name} ({plan})"
        );
    }
}

macro_rules! rewritten {
    ($($name:ident: $input:expr => [$($img:expr),* $(,)?];)*) => {
        $( #[test] fn $name() { check_rewritten(stringify!($name), $input, &[$($img),*]); } )*
    };
}

macro_rules! refused {
    ($($name:ident: $input:expr => $err:expr;)*) => {
        $( #[test] fn $name() { check_refused(stringify!($name), $input, $err); } )*
    };
}

rewritten! {
    // Duplicate keys: Go keeps the last value.
    duplicate_image_key_last_wins:
        "kind: Pod\nspec:\n  containers:\n  - image: nginx\n    image: redis\n" => ["$M/hub/library/redis:latest"];
    duplicate_kind_quoted_pod_after_crd:
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\"kind\": Pod\nspec:\n  containers:\n  - image: nginx\n" => ["$M/hub/library/nginx:latest"];
    duplicate_kind_crd_after_pod_is_untouched:
        "kind: Pod\nspec:\n  containers:\n  - image: nginx\nkind: CustomResourceDefinition\n" => ["nginx"];
    duplicate_containers_key_first_is_dead:
        "kind: Pod\nspec:\n  containers: [{image: nginx}]\n  containers: [{image: redis}]\n" => ["$M/hub/library/redis:latest"];
    duplicate_metadata_drops_the_namespace:
        "kind: Pod\nmetadata: {namespace: kube-system}\nmetadata: {name: p}\nspec:\n  containers: [{image: nginx}]\n" => ["$M/hub/library/nginx:latest"];
    duplicate_namespace_last_wins:
        "kind: Pod\nmetadata:\n  namespace: default\n  namespace: kube-system\nspec:\n  containers: [{image: nginx}]\n" => ["nginx"];
    non_string_kind_then_string:
        "kind: 1\nkind: Pod\nspec:\n  containers: [{image: nginx}]\n" => ["$M/hub/library/nginx:latest"];

    // Aliases are expanded as Go expands them.
    alias_of_container_list_defined_in_an_image_field:
        "kind: Pod\nspec:\n  containers: &c\n  - image: nginx\n  initContainers: *c\n" => ["$M/hub/library/nginx:latest", "$M/hub/library/nginx:latest"];
    alias_of_a_container_defined_in_an_image_field:
        "kind: Pod\nspec:\n  containers:\n  - &ctr {name: a, image: nginx}\n  initContainers:\n  - *ctr\n" => ["$M/hub/library/nginx:latest", "$M/hub/library/nginx:latest"];
    alias_as_the_containers_key:
        "kind: Pod\nk: &k containers\nspec:\n  *k :\n  - image: nginx\n" => ["$M/hub/library/nginx:latest"];
    alias_of_a_pod_spec_in_a_list_item:
        "kind: List\nitems:\n- kind: Pod\n  spec: &s\n    containers: [{image: nginx}]\n- kind: Pod\n  metadata: {name: b}\n  spec: *s\n" => ["$M/hub/library/nginx:latest", "$M/hub/library/nginx:latest"];
    // Found by fuzzing: a read through an alias under a value Go overwrote (a duplicate key)
    // is not a second read; the image is rewritten, not refused as shared.
    duplicate_key_drops_an_alias_read_in_an_image_field:
        "kind: Pod\nspec:\n  containers: &c\n  - image: nginx\n  initContainers: *c\n  initContainers: []\n" => ["$M/hub/library/nginx:latest"];
    duplicate_key_drops_an_alias_read_elsewhere:
        "kind: Pod\nspec:\n  containers: &c\n  - image: nginx\nx: *c\nx: 1\n" => ["$M/hub/library/nginx:latest"];
    binary_key_spelling_image:
        "kind: Pod\nspec:\n  containers:\n  - !!binary aW1hZ2U=: nginx\n" => ["$M/hub/library/nginx:latest"];
    binary_key_spelling_containers:
        "kind: Pod\nspec:\n  !!binary Y29udGFpbmVycw==:\n  - image: nginx\n" => ["$M/hub/library/nginx:latest"];

    // Merge keys, go-yaml v2's way.
    merge_sets_kind_after_crd:
        "kind: CustomResourceDefinition\n<<: {kind: Pod}\nspec:\n  containers:\n  - image: nginx\n" => ["$M/hub/library/nginx:latest"];
    merge_before_explicit_kind_loses:
        "<<: {kind: CustomResourceDefinition}\nkind: Pod\nspec:\n  containers: [{image: nginx}]\n" => ["$M/hub/library/nginx:latest"];
    merge_inline_image_in_container:
        "kind: Pod\nspec:\n  containers:\n  - <<: {image: nginx}\n    name: a\n" => ["$M/hub/library/nginx:latest"];
    merge_overrides_earlier_explicit_image:
        "kind: Pod\nspec:\n  containers:\n  - image: redis\n    <<: {image: nginx}\n" => ["$M/hub/library/nginx:latest"];
    explicit_image_after_merge_wins:
        "kind: Pod\nspec:\n  containers:\n  - <<: {image: nginx}\n    image: redis\n" => ["$M/hub/library/redis:latest"];
    merge_sequence_first_wins:
        "kind: Pod\nspec:\n  containers:\n  - <<: [{image: nginx}, {image: redis}]\n" => ["$M/hub/library/nginx:latest"];
    merge_of_a_container_anchored_in_an_image_field:
        "kind: Pod\nspec:\n  containers:\n  - &c {name: a, image: nginx}\n  - <<: *c\n    name: b\n" => ["$M/hub/library/nginx:latest", "$M/hub/library/nginx:latest"];
    merge_into_metadata_namespace:
        "kind: Pod\nmetadata:\n  <<: {namespace: kube-system}\nspec:\n  containers: [{image: nginx}]\n" => ["nginx"];
    quoted_merge_key_is_an_ordinary_key:
        "kind: Pod\n\"<<\": {kind: CustomResourceDefinition}\nspec:\n  containers: [{image: nginx}]\n" => ["$M/hub/library/nginx:latest"];

    // Objects as Argo CD reads them: a List is any root whose `items` is a sequence.
    list_by_items_any_kind:
        "kind: Bundle\nitems:\n- kind: Pod\n  metadata: {namespace: kube-system}\n  spec: {containers: [{image: nginx}]}\n- kind: Pod\n  spec: {containers: [{image: redis}]}\n" => ["nginx", "$M/hub/library/redis:latest"];
    list_wrapper_kind_does_not_protect_items:
        "kind: CustomResourceDefinition\nitems:\n- kind: Pod\n  spec: {containers: [{image: nginx}]}\n" => ["$M/hub/library/nginx:latest"];
    kind_ending_in_list_without_items_is_one_object:
        "kind: AllowList\nmetadata: {namespace: kube-system}\nspec:\n  containers: [{image: nginx}]\n" => ["nginx"];
    items_that_are_not_a_sequence_are_no_list:
        "kind: Pod\nmetadata: {namespace: kube-system}\nitems: {a: 1}\nspec:\n  containers: [{image: nginx}]\n" => ["nginx"];

    // Unicode line breaks inside quoted strings only fold: allowed.
    line_separator_in_a_quoted_string:
        "kind: Pod\nmetadata:\n  annotations: {a: \"x\u{2028}y\"}\nspec:\n  containers:\n  - image: nginx\n" => ["$M/hub/library/nginx:latest"];
}

refused! {
    line_separator_after_containers:
        "kind: Pod\nspec:\n  containers:\u{2028}  - image: nginx\n" =>
        "in.yaml:3:14: U+2028 (LINE SEPARATOR) outside a quoted string: Go's YAML reader (Argo CD) reads it as a line break, pullthrough's reader does not, so they would not see the same manifest; write it as \\u2028 in a double-quoted string";
    paragraph_separator_in_a_comment:
        "kind: Pod # note\u{2029}spec: {containers: [{image: nginx}]}\n" =>
        "in.yaml:1:17: U+2029 (PARAGRAPH SEPARATOR) outside a quoted string: Go's YAML reader (Argo CD) reads it as a line break, pullthrough's reader does not, so they would not see the same manifest; write it as \\u2029 in a double-quoted string";
    next_line_in_a_plain_scalar:
        "kind: Pod\nspec:\n  containers:\n  - image: nginx\u{85}x\n" =>
        "in.yaml:4:17: U+0085 (NEXT LINE) outside a quoted string: Go's YAML reader (Argo CD) reads it as a line break, pullthrough's reader does not, so they would not see the same manifest; write it as \\u0085 in a double-quoted string";
    alias_of_a_list_defined_outside_an_image_field:
        "kind: Pod\nx: &c\n- image: nginx\nspec:\n  containers: *c\n" =>
        "in.yaml:3:10: this image is inside an anchored collection that an alias makes Go read elsewhere too, not as an image; rewriting it would change that value as well: write the collection out instead of the alias";
    // Two shared images: the first in the text is named, on every run and plan.
    two_shared_images_first_named:
        "kind: Pod\nx: &a\n- image: nginx\ny: &b\n- image: redis\nspec:\n  containers: *a\n  initContainers: *b\n" =>
        "in.yaml:3:10: this image is inside an anchored collection that an alias makes Go read elsewhere too, not as an image; rewriting it would change that value as well: write the collection out instead of the alias";
    alias_of_a_container_defined_outside_an_image_field:
        "kind: Pod\nx: &ctr {name: a, image: nginx}\nspec:\n  containers:\n  - *ctr\n" =>
        "in.yaml:2:26: this image is inside an anchored collection that an alias makes Go read elsewhere too, not as an image; rewriting it would change that value as well: write the collection out instead of the alias";
    anchored_image_used_as_a_key:
        "kind: Pod\nspec:\n  containers:\n  - image: &img nginx\nmetadata:\n  annotations: {*img : \"true\"}\n" =>
        "in.yaml:6:17: alias *img reads an anchored image that is being rewritten, outside an image field; rewriting it would change this value too: write the value out instead of the alias";
    merge_of_a_container_anchored_outside_an_image_field:
        "kind: Pod\nx: &c {image: nginx}\nspec:\n  containers:\n  - <<: *c\n" =>
        "in.yaml:2:15: this image is inside an anchored collection that an alias makes Go read elsewhere too, not as an image; rewriting it would change that value as well: write the collection out instead of the alias";
    binary_image_value:
        "kind: Pod\nspec:\n  containers:\n  - image: !!binary bmdpbng=\n" =>
        "in.yaml:4:21: spec.containers[0].image: image \"nginx\" is written with the tag !!binary; Go reads it as that string and the rules rewrite it to \"mirror.example.com/hub/library/nginx:latest\", but pullthrough does not rewrite tagged scalars: write the image as a plain string";
    custom_tag_image_value:
        "kind: Pod\nspec:\n  containers:\n  - image: !mine nginx\n" =>
        "in.yaml:4:18: spec.containers[0].image: image \"nginx\" is written with the tag !mine; Go reads it as that string and the rules rewrite it to \"mirror.example.com/hub/library/nginx:latest\", but pullthrough does not rewrite tagged scalars: write the image as a plain string";

    // What Argo CD refuses is refused here, with the place.
    no_kind:
        "apiVersion: v1\nspec:\n  containers: [{image: nginx}]\n" =>
        "in.yaml:1:1: document has no `kind`; Argo CD refuses it (Object 'Kind' is missing)";
    kind_that_is_not_a_string:
        "kind: true\nspec:\n  containers: [{image: nginx}]\n" =>
        "in.yaml:1:1: document has no `kind`; Argo CD refuses it (Object 'Kind' is missing)";
    list_item_that_is_not_a_mapping:
        "kind: List\nitems:\n- kind: Pod\n  spec: {containers: [{image: nginx}]}\n- just a string\n" =>
        "in.yaml:5:3: an item of this List's `items` is not a mapping; Argo CD refuses it (items member is not an object)";
    merge_of_a_scalar:
        "kind: Pod\n<<: oops\n" =>
        "in.yaml:2:5: `<<` merges something that is not a mapping; Go's YAML reader (and so Argo CD) refuses it (map merge requires map or sequence of maps as the value)";
    collection_as_a_key:
        "kind: Pod\n? [a, b]\n: c\n" =>
        "in.yaml:2:3: a mapping or sequence used as a mapping key; Go's YAML-to-JSON conversion (and so Argo CD) refuses it";
    binary_key_that_is_not_base64:
        "kind: Pod\n!!binary x-y: 1\n" =>
        "in.yaml:2:10: `!!binary` value is not valid base64; Go's YAML reader (and so Argo CD) refuses it";
    slash_escape:
        "kind: Pod\nmetadata: {annotations: {a: \"x\\/y\"}}\n" =>
        "in.yaml:2:29: the escape \\/ is YAML 1.2 only; Go's YAML 1.1 reader (and so Argo CD) refuses it (found unknown escape character): write / unescaped";
    null_key:
        "kind: Pod\nmetadata:\n  labels: {~: x}\n" =>
        "in.yaml:3:12: a null mapping key; Go's YAML-to-JSON conversion (and so Argo CD) refuses it";
    value_that_does_not_fit_its_tag:
        "kind: Pod\nspec: {replicas: !!int three}\n" =>
        "in.yaml:2:24: the value does not fit its tag; Go's YAML reader (and so Argo CD) refuses it (cannot decode … as …)";
    infinite_number:
        "kind: Pod\nspec: {ratio: .inf}\n" =>
        "in.yaml:2:15: an infinite or NaN number; Go's YAML-to-JSON conversion (and so Argo CD) refuses it (json: unsupported value)";
    directive:
        "%YAML 1.1\n---\nkind: Pod\n" =>
        "in.yaml:1:1: a `%` directive: Argo CD splits the stream at `---` lines, which leaves the directive in a document of its own that Go's YAML reader refuses; remove it";
}

/// Accepted by pullthrough exactly when Go accepts (issue 18): odd inputs from the YAML 1.1/1.2
/// and JSON corners, each read by the real binary and by the oracle. The only differences are
/// the documented ones: nesting beyond `limits.maxDepth` (pullthrough's limit, configurable), and
/// a byte-order mark inside the stream (granit-parser refuses it; go-yaml v2 skips it).
#[test]
fn accepted_exactly_when_go_accepts() {
    let cases: &[(&str, &str)] = &[
        ("slash escape", "kind: Pod\na: \"x\\/y\"\n"),
        ("e escape", "kind: Pod\na: \"x\\ey\"\n"),
        ("N L P escapes", "kind: Pod\na: \"x\\N\\L\\Py\"\n"),
        ("flow trailing comma", "kind: Pod\na: [x, y,]\n"),
        ("yaml directive", "%YAML 1.2\n---\nkind: Pod\n"),
        (
            "tag directive",
            "%TAG !e! tag:example.com,2000:\n---\nkind: Pod\na: !e!x y\n",
        ),
        ("json key without space", "kind: Pod\na: {\"x\":1}\n"),
        ("set tag", "kind: Pod\na: !!set {x, y}\n"),
        ("omap tag", "kind: Pod\na: !!omap [{x: 1}]\n"),
        (
            "long implicit key",
            &format!("kind: Pod\n{}: v\n", "k".repeat(1100)),
        ),
        ("tab separation", "kind: Pod\na:\tb\n"),
        ("anchor redefined", "kind: Pod\na: &x 1\nb: &x 2\nc: *x\n"),
        ("empty key", "kind: Pod\n: v\n"),
        ("null key", "kind: Pod\n~: v\n"),
        ("float key", "kind: Pod\n1.5: v\n"),
        ("bool key", "kind: Pod\nyes: v\n"),
        ("sequence as flow key", "kind: Pod\na: {[x]: 1}\n"),
        ("timestamp", "kind: Pod\na: 2001-12-14t21:59:43.10-05:00\n"),
        ("binary value", "kind: Pod\na: !!binary aGk=\n"),
        ("binary over lines", "kind: Pod\na: !!binary |\n  aGk=\n"),
        ("bad binary value", "kind: Pod\na: !!binary \"!!\"\n"),
        ("bad int tag", "kind: Pod\na: !!int abc\n"),
        ("float tag on int", "kind: Pod\na: !!float 1\n"),
        ("int tag on float", "kind: Pod\na: !!int 1.0\n"),
        ("bad bool tag", "kind: Pod\na: !!bool maybe\n"),
        ("bad null tag", "kind: Pod\na: !!null x\n"),
        ("timestamp tag", "kind: Pod\na: !!timestamp 2001-12-14\n"),
        ("bad timestamp tag", "kind: Pod\na: !!timestamp x\n"),
        ("map tag on sequence", "kind: Pod\na: !!map [x]\n"),
        ("str tag on mapping", "kind: Pod\na: !!str {x: 1}\n"),
        ("verbatim tag", "kind: Pod\na: !<tag:yaml.org,2002:str> x\n"),
        ("local tag on mapping", "kind: Pod\na: !foo {x: 1}\n"),
        ("huge int", "kind: Pod\na: 123456789012345678901234567890\n"),
        ("inf", "kind: Pod\na: .inf\n"),
        ("negative inf", "kind: Pod\na: -.Inf\n"),
        ("nan", "kind: Pod\na: .NaN\n"),
        ("inf key", "kind: Pod\n.inf: x\n"),
        ("octal key", "kind: Pod\n0644: v\n"),
        ("str-tagged merge key", "kind: Pod\n!!str <<: {a: 1}\n"),
        ("document end then content", "kind: Pod\n...\nkind: Svc\n"),
        ("colon in plain", "kind: Pod\na: x:y\n"),
        ("reserved at", "kind: Pod\na: @x\n"),
        ("reserved backtick", "kind: Pod\na: `x\n"),
        ("anchor on key", "kind: Pod\n&a b: c\nd: *a\n"),
        (
            "alias of a mapping as key",
            "kind: Pod\na: &m {x: 1}\n? *m\n: 2\n",
        ),
        ("block indent indicator", "kind: Pod\na: |2\n   x\n"),
        ("surrogate escape", "kind: Pod\na: \"\\ud800\"\n"),
        ("duplicate keys", "kind: Pod\na: 1\na: 2\n"),
        ("empty flow entries", "kind: Pod\na: [,]\n"),
        ("no kind", "apiVersion: v1\n"),
        ("kind null", "kind:\n"),
        ("list item scalar", "kind: List\nitems: [a]\n"),
    ];
    for (name, input) in cases {
        let out = run("validated", input);
        let go = oracle::read_bytes(input.as_bytes());
        let go_ok = go
            .iter()
            .all(|d| d.error.is_none() && d.unstructured_error.is_none());
        // Argo CD's List flattening refuses an item that is not a mapping, after the oracle's step.
        let go_ok = go_ok && *name != "list item scalar";
        assert_eq!(
            out.status.success(),
            go_ok,
            "{name}: pullthrough {} ({}), Go {go:?}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
}

/// Go refuses each refused input too (where the refusal is Go's), and reads each rewritten input:
/// the table above is about Argo CD's reading, not about pullthrough's taste.
#[test]
fn go_agrees_with_the_refusals_that_are_its_own() {
    for input in [
        "apiVersion: v1\nspec: {}\n",
        "kind: true\n",
        "kind: Pod\n<<: oops\n",
        "kind: Pod\n? [a, b]\n: c\n",
        "kind: Pod\n!!binary x-y: 1\n",
    ] {
        let docs = oracle::read_bytes(input.as_bytes());
        assert!(
            docs.iter()
                .any(|d| d.error.is_some() || d.unstructured_error.is_some()),
            "Go accepts {input:?}: {docs:?}"
        );
    }
    // A List item that is not a mapping passes Go's YAML reading; Argo CD's List flattening
    // (Unstructured.EachListItem) is what refuses it, after the oracle's step.
    let docs = oracle::read_bytes(b"kind: List\nitems: [a]\n");
    assert!(
        docs[0].json.is_some() && docs[0].unstructured_error.is_none(),
        "{docs:?}"
    );
}

/// Through `render` (the `generate` pipeline) on directory apps: the object count behind the
/// empty-output guard is Argo CD's.
#[test]
fn directory_apps_count_objects_as_argo_cd() {
    let render = |file: &str| {
        let dir = TestDir::new();
        dir.write("app/only.yaml", file);
        dir.write("c.yaml", CONFIG);
        dir.cmd()
            .args(["render", "app", "--config", "c.yaml"])
            .output()
    };
    // A kind ending in List is no List without a sequence of items: one object, rendered.
    let allow = "apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: a}\nspec: {cidrs: [10.0.0.0/8]}\n";
    let out = render(allow);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), allow);
    // Any kind with `items: []` is an empty List to Argo CD: nothing to apply, so refused.
    let out = render("apiVersion: example.com/v1\nkind: Foo\nmetadata: {name: f}\nitems: []\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "pullthrough: directory rendered no Kubernetes objects; Argo CD would prune every resource of this app. Set the parameter allow-empty to \"true\" if that is intended"
    );
    // `items: null` without spec/status is no object either (the repo-server's isNullList).
    let out = render("apiVersion: v1\nkind: ConfigMapList\nitems: null\n");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
