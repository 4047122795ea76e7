//! Generates a synthetic account, loads it into the simulator and discovers it,
//! reporting how long each took:
//! `cargo run --release -p decom-sim --example synth -- <resources> [out.json | --generate-only]`.

use std::time::Instant;

use decom_provider::{DiscoveryRequest, NoProgress, Provider};
use decom_sim::{SimProvider, synth};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let resources: usize = args
        .next()
        .map(|a| a.parse().expect("the first argument is a resource count"))
        .unwrap_or(100_000);
    let stacks = synth::stacks_for(resources);
    let started = Instant::now();
    let inventory = synth::stacks(stacks, 1);
    eprintln!(
        "generated {stacks} stacks, {} resources in {:?}",
        inventory.resources.len(),
        started.elapsed()
    );
    let out = args.next();
    if out.as_deref() == Some("--generate-only") {
        return;
    }
    if let Some(out) = out {
        let started = Instant::now();
        std::fs::write(&out, inventory.to_json()).expect("the output file is writable");
        eprintln!("written to {out} in {:?}", started.elapsed());
    }
    let started = Instant::now();
    let sim = SimProvider::from_inventory(inventory);
    eprintln!("loaded into the simulator in {:?}", started.elapsed());
    let started = Instant::now();
    let request = DiscoveryRequest::everything(vec![synth::REGION.into()]);
    let found = sim
        .discover(&request, &NoProgress)
        .await
        .expect("the simulator discovers");
    eprintln!(
        "discovered {} resources in {:?} ({} pretend API calls)",
        found.resources.len(),
        started.elapsed(),
        sim.api_calls().values().sum::<u64>()
    );
}
