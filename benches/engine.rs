//! Engine throughput: `plan` + `apply` in memory, full parse against the fast path, on the
//! corpus concatenated and on a generated workload-only stream. Whole-process figures (and the
//! comparisons with helm and kustomize) come from `scripts/bench`.
//!
//!     cargo bench --bench engine

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pullthrough::manifest::fastpath::Strategy;
use pullthrough::rewrite::{self, Input, Options};
use pullthrough::rules::Rules;
use pullthrough::settings::{config, RewriteSettings};

fn rules() -> Rules {
    let yaml = "mirror: mirror.example.com\nregistries: {docker.io: hub, quay.io: quay, ghcr.io: ghcr, registry.k8s.io: k8s}\n";
    let mut s = RewriteSettings::default();
    let config::Loaded::Native(c) = config::parse("bench.yaml", yaml).unwrap() else {
        panic!()
    };
    s.apply_config("bench.yaml", &c);
    Rules::compile(&s).unwrap()
}

/// The corpus files concatenated once, as in the corpus README's recipe (one round, ~16 MB).
fn corpus_stream() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut s = String::new();
    for f in files {
        s.push_str(&std::fs::read_to_string(f).unwrap());
        s.push_str("\n---\n");
    }
    s
}

/// A small workload-only stream from `scripts/gen-workloads` (needs python3), else empty.
fn workload_stream(mb: &str) -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-workloads");
    let out = std::process::Command::new(script).arg(mb).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap())
}

fn bench(c: &mut Criterion) {
    let rules = rules();
    let opts = Options::default();
    let mut streams = vec![("corpus", corpus_stream())];
    if let Some(w) = workload_stream("5") {
        streams.push(("workloads", w));
    }
    let mut g = c.benchmark_group("plan+apply");
    g.sample_size(10);
    for (name, text) in &streams {
        let inputs = [Input {
            name: format!("{name}.yaml"),
            text: text.clone(),
        }];
        g.throughput(Throughput::Bytes(text.len() as u64));
        for (label, strategy) in [
            ("full", Strategy::Full),
            ("fast", Strategy::Fast),
            ("validated", Strategy::FastValidated),
        ] {
            g.bench_with_input(BenchmarkId::new(label, name), &inputs, |b, inputs| {
                b.iter(|| {
                    let plan = rewrite::plan_with(inputs, &rules, &opts, strategy).unwrap();
                    rewrite::output(inputs, &plan).unwrap().len()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
