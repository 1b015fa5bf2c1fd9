//! How `diff` grows with the number of resources: it should be near-linear, so a template
//! of tens of thousands of resources is reviewed in well under a second.
//!
//! `cargo bench -j2 -p review --bench diff`; criterion prints the time per diff for each
//! size. Two shapes: resources only added (an empty template against a full one), and
//! every stream renamed, so each is replaced and the replacement spreads to the event
//! source mapping that references it.

#![allow(
    missing_docs,
    reason = "criterion_group! defines a public function the macro cannot document"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use review::diff::diff;
use serde_json::{json, Map, Value};

const SIZES: [usize; 3] = [1_000, 10_000, 40_000];

fn template(resources: Map<String, Value>) -> Value {
    json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
}

fn queues(n: usize) -> Value {
    template(
        (0..n)
            .map(|i| {
                let queue = json!({"Type": "AWS::SQS::Queue",
                                   "Properties": {"QueueName": format!("queue-{i}")}});
                (format!("Queue{i}"), queue)
            })
            .collect(),
    )
}

/// `n` resources: `n / 2` streams, each with a mapping whose `EventSourceArn` names it.
fn streams(n: usize, prefix: &str) -> Value {
    let mut resources = Map::new();
    for i in 0..n / 2 {
        resources.insert(
            format!("Stream{i}"),
            json!({"Type": "AWS::Kinesis::Stream",
                   "Properties": {"Name": format!("{prefix}-{i}"), "ShardCount": 1}}),
        );
        resources.insert(
            format!("Mapping{i}"),
            json!({"Type": "AWS::Lambda::EventSourceMapping",
                   "Properties": {"EventSourceArn": {"Fn::GetAtt": [format!("Stream{i}"), "Arn"]},
                                  "FunctionName": "f"}}),
        );
    }
    template(resources)
}

fn growth(c: &mut Criterion) {
    let mut group = c.benchmark_group("diff");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    let empty = template(Map::new());
    for n in SIZES {
        let new = queues(n);
        group.bench_with_input(BenchmarkId::new("added", n), &new, |b, new| {
            b.iter(|| black_box(diff(&empty, new)))
        });
    }
    for n in SIZES {
        let (old, new) = (streams(n, "old"), streams(n, "new"));
        group.bench_with_input(BenchmarkId::new("replaced", n), &new, |b, new| {
            b.iter(|| black_box(diff(&old, new)))
        });
    }
    group.finish();
}

criterion_group!(benches, growth);
criterion_main!(benches);
