//! Generates a synthetic account and reports how long it took:
//! `cargo run --release -p decom-sim --example synth -- <resources> [out.json]`.

use std::time::Instant;

use decom_sim::synth;

fn main() {
    let mut args = std::env::args().skip(1);
    let resources: usize = args
        .next()
        .map(|a| a.parse().expect("the first argument is a resource count"))
        .unwrap_or(100_000);
    let stacks = synth::stacks_for(resources);
    let started = Instant::now();
    let inventory = synth::stacks(stacks, 1);
    let generated = started.elapsed();
    eprintln!(
        "{stacks} stacks, {} resources generated in {generated:?}",
        inventory.resources.len()
    );
    if let Some(out) = args.next() {
        let started = Instant::now();
        std::fs::write(&out, inventory.to_json()).expect("the output file is writable");
        eprintln!("written to {out} in {:?}", started.elapsed());
    }
}
