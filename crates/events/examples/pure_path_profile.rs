//! A fixed amount of pure-path work, for instruction counts under callgrind (criterion's
//! timing loop runs for a time, not a count, so its totals cannot be divided per record).
//! The release profile strips symbols, so count two runs and take the difference, which
//! leaves out the setup both share:
//!
//! ```text
//! cargo build --release -p events --example pure_path_profile
//! valgrind --tool=callgrind target/release/examples/pure_path_profile 10   # "Collected : A"
//! valgrind --tool=callgrind target/release/examples/pure_path_profile 20   # "Collected : B"
//! ```
//!
//! (B − A) / 10,000 is the instructions per record: each round is the bench's 1,000
//! generated events, serialized once.

use events::{process_record, Generator, RecordContext};

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let mut generator = Generator::new(42);
    let data: Vec<Vec<u8>> = (0..1_000)
        .map(|i| {
            let event = generator.next_event(1_700_000_000_000 + i * 37);
            serde_json::to_vec(&event).expect("a generated event serializes")
        })
        .collect();
    let ids: Vec<String> = (0..1_000)
        .map(|i| {
            format!("shardId-000000000000:4959033827149025660855969253836157109592157598913{i:04}")
        })
        .collect();
    let stored = run(rounds, &data, &ids);
    println!("{stored} records stored");
}

/// The measured work: `rounds` passes over the records; how many were stored.
#[inline(never)]
fn run(rounds: usize, data: &[Vec<u8>], ids: &[String]) -> usize {
    let mut stored = 0;
    for _ in 0..rounds {
        for (bytes, id) in data.iter().zip(ids) {
            let ctx = RecordContext {
                event_id: id,
                arrival_ms: 1_700_000_000_000,
                processed_at_ms: 1_700_000_005_000,
            };
            stored += usize::from(std::hint::black_box(process_record(bytes, &ctx)).is_ok());
        }
    }
    stored
}
