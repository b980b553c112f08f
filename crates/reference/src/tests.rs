//! Unit tests for the reference module: one upstream behaviour per line, plus a round-trip property
//! over every input the conformance vectors parse successfully.

use super::*;

/// `ok!(input => normalized)`: `ParseNormalizedNamed(input).String() == normalized`, and it
/// round-trips through `Display`/`FromStr`.
macro_rules! ok {
    ($input:expr => $normalized:expr) => {{
        let r: ImageRef = $input
            .parse()
            .unwrap_or_else(|e| panic!("{:?} failed: {e}", $input));
        assert_eq!(r.to_string(), $normalized, "input {:?}", $input);
        assert_eq!(
            r.to_string().parse::<ImageRef>().as_ref(),
            Ok(&r),
            "round trip of {:?}",
            $input
        );
    }};
}

/// `err!(input => text)`: `ParseNormalizedNamed(input)` fails with exactly `text`.
macro_rules! err {
    ($input:expr => $text:expr) => {{
        match ImageRef::parse_normalized($input) {
            Ok(r) => panic!("{:?} parsed as {r}, expected error {:?}", $input, $text),
            Err(e) => assert_eq!(e.to_string(), $text, "input {:?}", $input),
        }
    }};
}

/// `parts!(input => domain, path, tag, digest)` for `ParseNormalizedNamed`.
macro_rules! parts {
    ($input:expr => $domain:expr, $path:expr, $tag:expr, $digest:expr) => {{
        let r = ImageRef::parse_normalized($input).unwrap();
        assert_eq!(
            (r.domain(), r.path(), r.tag(), r.digest()),
            ($domain, $path, $tag, $digest),
            "input {:?}",
            $input
        );
    }};
}

const HEX: &str = "e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";

#[test]
fn docker_hub_normalization() {
    ok!("nginx" => "docker.io/library/nginx");
    ok!("nginx:1.25" => "docker.io/library/nginx:1.25");
    ok!("library/nginx" => "docker.io/library/nginx");
    ok!("docker.io/nginx" => "docker.io/library/nginx");
    ok!("docker.io/library/nginx:1.25" => "docker.io/library/nginx:1.25");
    ok!("index.docker.io/nginx" => "docker.io/library/nginx");
    ok!("index.docker.io/library/nginx:1.25" => "docker.io/library/nginx:1.25");
    ok!("bitnami/redis:7.2" => "docker.io/bitnami/redis:7.2");
    ok!("docker.io/library/foo/bar" => "docker.io/library/foo/bar");
    ok!("registry-1.docker.io/library/nginx" => "registry-1.docker.io/library/nginx");
    ok!("registry-1.docker.io/nginx" => "registry-1.docker.io/nginx");
}

#[test]
fn registries_and_ports() {
    ok!("gcr.io/busybox" => "gcr.io/busybox");
    ok!("localhost/foo" => "localhost/foo");
    ok!("localhost:5000/foo:1" => "localhost:5000/foo:1");
    ok!("localhost:5000" => "docker.io/library/localhost:5000");
    ok!("localhost" => "docker.io/library/localhost");
    ok!("example.com" => "docker.io/library/example.com");
    ok!("test.com:5000" => "docker.io/library/test.com:5000");
    ok!("127.0.0.1:5000/foo" => "127.0.0.1:5000/foo");
    ok!("[::1]:5000/foo" => "[::1]:5000/foo");
    ok!("[2001:db8::1]/repo:tag" => "[2001:db8::1]/repo:tag");
    ok!("my-registry:5000/foo" => "my-registry:5000/foo");
    ok!("my_registry/foo" => "docker.io/my_registry/foo");
    ok!("Foo/bar" => "Foo/bar");
    ok!("Example.com/foo" => "Example.com/foo");
    ok!("111111111111.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.25" => "111111111111.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx:1.25");
    // Normalization takes `foo_bar.com` for a registry, the grammar cannot read it as one, so
    // upstream ends up with no domain at all and the whole name as path.
    parts!("foo_bar.com/x" => "", "foo_bar.com/x", None, None);
    ok!("foo_bar.com/x" => "foo_bar.com/x");
}

#[test]
fn tags_and_digests() {
    let d = format!("sha256:{HEX}");
    ok!(format!("nginx@{d}").as_str() => format!("docker.io/library/nginx@{d}"));
    ok!(format!("nginx:1.25@{d}").as_str() => format!("docker.io/library/nginx:1.25@{d}"));
    parts!(format!("nginx:1.25@{d}").as_str() => "docker.io", "library/nginx", Some("1.25"), Some(d.as_str()));
    ok!("nginx:Latest" => "docker.io/library/nginx:Latest");
    ok!(format!("n:{}", "a".repeat(128)).as_str() => format!("docker.io/library/n:{}", "a".repeat(128)));
    err!(format!("n:{}", "a".repeat(129)).as_str() => "invalid reference format");
    err!(format!("nginx@sha256:{}", HEX.to_uppercase()).as_str() => "invalid checksum digest format");
    err!(format!("nginx@sha256:{}", &HEX[..34]).as_str() => "invalid checksum digest length");
    err!(format!("nginx@sha512:{HEX}{HEX}").as_str() => "unsupported digest algorithm");
    err!(format!("nginx@foo:{HEX}").as_str() => "unsupported digest algorithm");
    err!("nginx:" => "invalid reference format");
    err!("nginx@" => "invalid reference format");
    err!("nginx:invalid~tag" => "invalid reference format");
}

#[test]
fn rejected_names() {
    err!("" => "invalid reference format");
    err!(":tag" => "invalid reference format");
    err!("NGINX" => "invalid reference format: repository name (library/NGINX) must be lowercase");
    err!("docker/Docker" => "invalid reference format: repository name (docker/Docker) must be lowercase");
    err!("${IMAGE}" => "invalid reference format: repository name (library/${IMAGE}) must be lowercase");
    err!("nginx:{{ .Chart.AppVersion }}" => "invalid reference format");
    err!(HEX => format!("invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings"));
    ok!(&HEX[..63] => format!("docker.io/library/{}", &HEX[..63]));
    ok!(format!("docker.io/{HEX}").as_str() => format!("docker.io/library/{HEX}"));
    err!("https://github.com/docker/docker" => "invalid reference format");
    err!("docker///docker" => "invalid reference format");
    err!("-docker" => "invalid reference format");
    err!("[fc00::1]:5000" => "invalid reference format");
    err!("[fe80::1%eth0]:5000/debian" => "invalid reference format");
    err!("foo_bar.com:8080/app" => "invalid reference format");
}

#[test]
fn length_limits() {
    // 255 applies to the path only.
    ok!(format!("example.com/{}", "a".repeat(255)).as_str() => format!("example.com/{}", "a".repeat(255)));
    err!(format!("domain/{}", "a".repeat(256)).as_str() => "repository name must not be more than 255 characters");
    // "docker.io/library/" does not count either.
    ok!("a".repeat(247).as_str() => format!("docker.io/library/{}", "a".repeat(247)));
    err!("a".repeat(248).as_str() => "repository name must not be more than 255 characters");
    let long = format!("example.com/{}", "a/".repeat(MAX_INPUT_LEN));
    assert_eq!(
        ImageRef::parse_normalized(&long),
        Err(ReferenceError::InputTooLong(long.len()))
    );
    assert_eq!(
        Reference::parse(&long),
        Err(ReferenceError::InputTooLong(long.len()))
    );
}

#[test]
fn parse_is_not_normalizing() {
    let p = |s: &str| {
        Reference::parse(s).map(|r| (r.domain().to_owned(), r.path().to_owned(), r.to_string()))
    };
    assert_eq!(p("nginx"), Ok(("".into(), "nginx".into(), "nginx".into())));
    assert_eq!(
        p("library/nginx"),
        Ok(("library".into(), "nginx".into(), "library/nginx".into()))
    );
    assert_eq!(
        p("test_com/foo"),
        Ok(("".into(), "test_com/foo".into(), "test_com/foo".into()))
    );
    assert_eq!(
        p("foo/foo_bar.com:8080"),
        Ok((
            "foo".into(),
            "foo_bar.com".into(),
            "foo/foo_bar.com:8080".into()
        ))
    );
    assert_eq!(Reference::parse(""), Err(ReferenceError::NameEmpty));
    assert_eq!(
        Reference::parse("Uppercase:tag"),
        Err(ReferenceError::NameContainsUppercase)
    );
    assert_eq!(
        Reference::parse("aa/asdf$$^/aa"),
        Err(ReferenceError::InvalidFormat)
    );
}

#[test]
fn parse_named_and_docker_ref() {
    assert!(ImageRef::parse_named("docker.io/library/foo").is_ok());
    for s in ["docker.io/foo", "library/foo", "foo", "test.com"] {
        assert_eq!(
            ImageRef::parse_named(s),
            Err(ReferenceError::NameNotCanonical),
            "{s}"
        );
    }
    let d = format!("sha256:{HEX}");
    let dr = |s: &str| ImageRef::parse_docker_ref(s).unwrap().to_string();
    assert_eq!(dr("busybox"), "docker.io/library/busybox:latest");
    assert_eq!(
        dr(&format!("gcr.io/library/busybox:latest@{d}")),
        format!("gcr.io/library/busybox@{d}")
    );
    assert_eq!(
        dr(&format!("busybox@{d}")),
        format!("docker.io/library/busybox@{d}")
    );
}

#[test]
fn familiar_forms() {
    let f = |s: &str| s.parse::<ImageRef>().unwrap().familiar();
    assert_eq!(f("docker.io/library/nginx:1.25"), "nginx:1.25");
    assert_eq!(f("docker.io/bitnami/redis"), "bitnami/redis");
    assert_eq!(f("docker.io/library/foo/bar"), "library/foo/bar");
    assert_eq!(
        f("registry-1.docker.io/library/nginx"),
        "registry-1.docker.io/library/nginx"
    );
    assert_eq!(f("localhost/foo"), "localhost/foo");
    let r: ImageRef = "foo/c/baz:tag".parse().unwrap();
    assert_eq!(r.familiar_name(), "foo/c/baz");
    assert_eq!(r.familiar_match("foo/*/baz:tag"), Ok(true));
    assert_eq!(r.familiar_match("foo/**/ba[rz]"), Ok(true));
    assert_eq!(r.familiar_match("[-x]"), Err(ReferenceError::BadPattern));
}

#[test]
fn any_reference() {
    assert_eq!(
        AnyReference::parse(HEX),
        Ok(AnyReference::Digest(format!("sha256:{HEX}")))
    );
    assert_eq!(
        AnyReference::parse(&format!("sha256:{HEX}"))
            .unwrap()
            .to_string(),
        format!("sha256:{HEX}")
    );
    assert_eq!(
        AnyReference::parse("redis").unwrap().to_string(),
        "docker.io/library/redis"
    );
    assert_eq!(AnyReference::parse("redis").unwrap().familiar(), "redis");
    assert!(matches!(
        AnyReference::parse(&HEX[..63]),
        Ok(AnyReference::Named(_))
    ));
}

#[test]
fn builders_for_the_rewriter() {
    let d = format!("sha256:{HEX}");
    let r: ImageRef = format!("nginx:1.25@{d}").parse().unwrap();
    let mirror = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/nginx";
    let m = r.with_name(mirror).unwrap();
    assert_eq!(m.to_string(), format!("{mirror}:1.25@{d}"));
    assert_eq!(m.domain(), "111111111111.dkr.ecr.eu-west-1.amazonaws.com");
    assert_eq!(m.path(), "docker-hub/library/nginx");
    assert_eq!(m.name(), mirror);
    assert_eq!(m.to_string().parse::<ImageRef>(), Ok(m.clone()));
    assert_eq!(r.with_name("nginx"), Err(ReferenceError::NameNotCanonical));
    assert_eq!(
        r.with_name("docker.io/nginx"),
        Err(ReferenceError::NameNotCanonical)
    );
    assert_eq!(
        r.with_name("example.com/x:1"),
        Err(ReferenceError::InvalidFormat)
    );
    assert_eq!(
        r.with_name("example.com/X"),
        Err(ReferenceError::InvalidFormat)
    );
    assert_eq!(
        r.with_name(&format!("example.com/{}", "a".repeat(256))),
        Err(ReferenceError::NameTooLong)
    );
    assert_eq!(r.with_name("docker.io/library/nginx").unwrap(), r);

    let plain: ImageRef = "nginx".parse().unwrap();
    assert!(!plain.has_tag() && !plain.has_digest());
    assert_eq!(
        plain.with_tag("-foo"),
        Err(ReferenceError::TagInvalidFormat)
    );
    assert_eq!(
        plain.with_digest("foo"),
        Err(ReferenceError::DigestInvalidFormat)
    );
    assert_eq!(
        plain.with_digest(&format!("sha256:{}", &HEX[..37])),
        Err(ReferenceError::ChecksumInvalidLength)
    );
    assert_eq!(
        plain.with_tag("1").unwrap().with_digest(&d).unwrap(),
        r.with_tag("1").unwrap()
    );
    assert_eq!(
        r.without_tag().to_string(),
        format!("docker.io/library/nginx@{d}")
    );
    assert_eq!(
        r.without_digest().to_string(),
        "docker.io/library/nginx:1.25"
    );
    assert_eq!(r.to_reference().to_string(), r.to_string());
}

#[test]
fn raw_builders_follow_upstream() {
    // Upstream's WithDigest only checks the grammar; Parse of the result then fails.
    let short = "sha256:1234567890098765432112345667890098765";
    let r = Reference::with_name("test.com:8000/foo")
        .unwrap()
        .with_tag("TAG5")
        .unwrap()
        .with_digest(short)
        .unwrap();
    assert_eq!(r.to_string(), format!("test.com:8000/foo:TAG5@{short}"));
    assert_eq!(
        Reference::parse(&r.to_string()),
        Err(ReferenceError::ChecksumInvalidLength)
    );
    assert_eq!(
        Reference::with_name("example.com/repo:tag"),
        Err(ReferenceError::InvalidFormat)
    );
    assert_eq!(Reference::with_name(""), Err(ReferenceError::InvalidFormat));
}

/// Property: every input a conformance vector parses successfully round-trips, and the
/// normalized text is a fixed point.
#[test]
fn round_trip_over_conformance_inputs() {
    let json: serde_json::Value =
        serde_json::from_str(include_str!("../tests/data/reference-vectors.json")).unwrap();
    let mut checked = 0;
    for v in json["vectors"].as_array().unwrap() {
        let Some(input) = v["input"].as_str() else {
            continue;
        };
        let Ok(r) = input.parse::<ImageRef>() else {
            continue;
        };
        let text = r.to_string();
        let again: ImageRef = text
            .parse()
            .unwrap_or_else(|e| panic!("{input:?} → {text:?} fails: {e}"));
        assert_eq!(again, r, "{input:?}");
        assert_eq!(again.to_string(), text, "{input:?}");
        assert_eq!(
            ImageRef::parse_named(&text).as_ref(),
            Ok(&r),
            "{text:?} is canonical"
        );
        assert_eq!(
            r.with_name(&r.name()).as_ref(),
            Ok(&r),
            "{input:?}: with_name(name())"
        );
        assert_eq!(
            r.docker_ref().to_string().parse::<ImageRef>(),
            Ok(r.docker_ref()),
            "{input:?}"
        );
        // The raw layer agrees on the normalized text.
        assert_eq!(
            Reference::parse(&text).map(|p| p.to_string()),
            Ok(text.clone()),
            "{input:?}"
        );
        checked += 1;
    }
    assert!(checked > 200, "only {checked} inputs parsed");
}

/// Property: the same round trip over random token strings (deterministic generator), which
/// reach the odd corners (`foo_bar.com/x`, uppercase registries, IPv6, ports) in combinations
/// no vector has.
#[test]
fn round_trip_over_generated_inputs() {
    let listed = "a|b|nginx|library/|docker.io/|index.docker.io/|registry-1.docker.io/|localhost/|\
                  localhost:5000/|Foo/|foo_bar.com/|[::1]:5000/|127.0.0.1/|x/|/|:1.25|:Latest|:|@|\
                  -|_|__|.|A";
    let tokens: Vec<String> = listed
        .split('|')
        .map(str::to_owned)
        .chain([format!("@sha256:{HEX}"), format!(":v1@sha256:{HEX}")])
        .collect();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut parsed = 0;
    for _ in 0..50_000 {
        let s: String = (0..1 + next(6))
            .map(|_| tokens[next(tokens.len())].as_str())
            .collect();
        let Ok(r) = s.parse::<ImageRef>() else {
            continue;
        };
        let text = r.to_string();
        assert_eq!(
            text.parse::<ImageRef>().as_ref(),
            Ok(&r),
            "{s:?} → {text:?}"
        );
        assert_eq!(
            ImageRef::parse_named(&text).as_ref(),
            Ok(&r),
            "{text:?} is canonical"
        );
        assert_eq!(
            r.with_name(&r.name()).as_ref(),
            Ok(&r),
            "{s:?}: with_name(name())"
        );
        parsed += 1;
    }
    assert!(parsed > 1_000, "only {parsed} generated inputs parsed");
}
