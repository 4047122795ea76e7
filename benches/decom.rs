//! decom's benchmarks, outside the test run: `plan` on synthetic
//! snapshots of 1k/10k/100k/1M resources (the `decom plan` command as a whole, then its
//! pipeline phase by phase), `apply` on the simulator with realistic latencies
//! against the critical-path bound and the runbook's order, and `spec`: loading
//! generated specs of 10k to 100k names.
//!
//!     cargo bench --bench decom -- plan  [--sizes 1000,10000,100000,1000000] [--runs 7]
//!     cargo bench --bench decom -- apply [--scale 0.01] [--stacks 1,10,50] [--parallelism 1,10,32]
//!     cargo bench --bench decom -- apply --rate-limits [--scale 0.01] [--stacks 500] [--parallelism 32]
//!     cargo bench --bench decom -- spec  [--names 10000,50000,100000] [--runs 7]
//!
//! Method and results: docs/performance.md.

#[path = "support/args.rs"]
mod args;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use decom::apply::{ApplyOptions, Silent, execute};
use decom::plan::{Plan, PlanOptions, Selection, build_plan};
use decom::planfile::PlanFile;
use decom_provider::{
    Action, Details, Inventory, InventoryIndex, Provider, ResourceKey, ResourceType,
};
use decom_sim::{Delay, Knobs, SimProvider, synth};
use sha2::{Digest, Sha256};

use args::{flag, median};

// As in the `decom` binary (src/main.rs), so that the pipeline's phases are timed
// with the allocator the command runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEED: u64 = 1;

/// Selects every stack (not the shared resources), as a user retiring them all would.
const SPEC: &str = r#"
provider "aws" {
  regions             = ["us-east-1"]
  allowed_account_ids = ["123456789012"]
}

decommission "bench" {
  absent "*" { tags = { Environment = "production" } }
  keep "aws_iam_role" { names = ["shared-ecs-execution-role"] }
  orphans = "report"
}
"#;

fn main() {
    let (which, flags) = args::which_and_flags();
    let rest = flags.as_slice();
    match which.as_str() {
        "plan" => plan_bench(rest),
        "apply" => apply_bench(rest),
        "spec" => spec_bench(rest),
        "all" => {
            plan_bench(&[]);
            apply_bench(&[]);
            spec_bench(&[]);
        }
        "plan-child" => plan_child(rest),
        "spec-child" => spec_child(rest),
        other => {
            eprintln!("unknown benchmark `{other}`: expected plan, apply, spec or all");
            std::process::exit(2);
        }
    }
}

fn list(args: &[String], name: &str, default: &[usize]) -> Vec<usize> {
    flag(args, name)
        .map(|s| s.split(',').map(|n| n.parse().expect("a number")).collect())
        .unwrap_or_else(|| default.to_vec())
}

fn work_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench data dir");
    dir
}

// ---------------------------------------------------------------------------
// plan

fn plan_bench(args: &[String]) {
    let sizes = list(args, "--sizes", &[1_000, 10_000, 100_000, 1_000_000]);
    let runs: usize = flag(args, "--runs").map_or(7, |s| s.parse().expect("runs"));
    let dir = work_dir();
    let spec_dir = dir.join("spec");
    std::fs::create_dir_all(&spec_dir).expect("spec dir");
    std::fs::write(spec_dir.join("bench.hcl"), SPEC).expect("spec");
    let snapshots: Vec<(usize, PathBuf)> = sizes
        .iter()
        .map(|&size| {
            let n = synth::stacks_for(size);
            let snapshot = dir.join(format!("synth-{n}-stacks.json"));
            if !snapshot.exists() {
                std::fs::write(&snapshot, synth::stacks(n, SEED).to_json()).expect("snapshot");
            }
            (size, snapshot)
        })
        .collect();
    command_bench(&snapshots, &spec_dir, runs);
    println!();
    println!(
        "plan pipeline (in process): snapshot load -> select -> build_plan -> JSON, best/median of {runs} runs (wall ms; cpu: this thread's CPU time; phases: medians), each size in its own process"
    );
    println!(
        "{:>8} {:>9} {:>7} {:>9} {:>9} {:>9} | {:>8} {:>8} {:>8} {:>8} | {:>9} {:>8}",
        "target",
        "resources",
        "steps",
        "best ms",
        "median",
        "cpu med",
        "load",
        "select",
        "plan",
        "json",
        "peak MB",
        "sha256"
    );
    let mut medians = BTreeMap::new();
    for (size, snapshot) in &snapshots {
        let size = *size;
        let out = std::process::Command::new(std::env::current_exe().expect("exe"))
            .arg("plan-child")
            .arg(snapshot)
            .arg(&spec_dir)
            .arg(runs.to_string())
            .output()
            .expect("child runs");
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8(out.stdout).expect("utf-8");
        let fields: BTreeMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let get = |k: &str| fields.get(k).copied().unwrap_or("?");
        println!(
            "{:>8} {:>9} {:>7} {:>9} {:>9} {:>9} | {:>8} {:>8} {:>8} {:>8} | {:>9} {:>8}",
            size,
            get("resources"),
            get("steps"),
            get("best_ms"),
            get("median_ms"),
            get("cpu_ms"),
            get("load_ms"),
            get("select_ms"),
            get("plan_ms"),
            get("json_ms"),
            get("peak_mb"),
            &get("sha256")[..8.min(get("sha256").len())],
        );
        if let Ok(m) = get("median_ms").parse::<f64>() {
            medians.insert(size, m);
        }
    }
    if let (Some(a), Some(b)) = (medians.get(&10_000), medians.get(&100_000)) {
        println!("growth 10k -> 100k (median): {:.1}x", b / a);
    }
}

/// `decom plan SPEC --inventory SNAPSHOT -json -stats` as a user runs it, each run
/// its own process, the sizes taking turns so that a change in the machine's speed
/// reaches all of them: wall time from spawn to exit, and the peak memory the
/// command reports.
fn command_bench(snapshots: &[(usize, PathBuf)], spec_dir: &Path, runs: usize) {
    println!(
        "plan command: `decom plan SPEC --inventory SNAPSHOT -json`, {runs} runs per size taking turns (wall ms from spawn to exit; peak: the command's `-stats`)"
    );
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>9}",
        "target", "best ms", "median", "worst", "peak MB"
    );
    let mut times: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    let mut peaks: BTreeMap<usize, f64> = BTreeMap::new();
    for _ in 0..runs {
        for (size, snapshot) in snapshots {
            let start = Instant::now();
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_decom"))
                .arg("plan")
                .arg(spec_dir)
                .arg("--inventory")
                .arg(snapshot)
                .args(["-json", "-stats", "-no-progress"])
                .stdout(std::process::Stdio::null())
                .output()
                .expect("decom runs");
            let elapsed = ms(start.elapsed());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "decom plan failed: {stderr}");
            let peak = stderr
                .lines()
                .find_map(|l| l.strip_prefix("Peak memory: "))
                .and_then(|v| v.trim_end_matches(" MB").parse::<f64>().ok())
                .unwrap_or(f64::NAN);
            times.entry(*size).or_default().push(elapsed);
            let max = peaks.entry(*size).or_insert(0.0);
            *max = max.max(peak);
        }
    }
    let mut medians = BTreeMap::new();
    for (size, times) in &mut times {
        let best = times.iter().copied().fold(f64::INFINITY, f64::min);
        let worst = times.iter().copied().fold(0.0, f64::max);
        let med = median(times);
        medians.insert(*size, med);
        println!(
            "{:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.0}",
            size, best, med, worst, peaks[size]
        );
    }
    if let (Some(a), Some(b)) = (medians.get(&10_000), medians.get(&100_000)) {
        println!("growth 10k -> 100k (median): {:.1}x (goal <= 11x)", b / a);
    }
    for (size, ms_goal, mb_goal) in [(100_000, 1_000.0, 500.0), (1_000_000, 12_000.0, 4_000.0)] {
        if let (Some(ms), Some(mb)) = (medians.get(&size), peaks.get(&size)) {
            let met = |ok: bool| if ok { "met" } else { "missed" };
            println!(
                "goal at {size}: median {ms:.0} ms (< {ms_goal:.0}: {}), peak {mb:.0} MB (< {mb_goal:.0}: {})",
                met(*ms < ms_goal),
                met(*mb < mb_goal)
            );
        }
    }
}

/// Peak resident set of this process so far, in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time of this thread so far, in ms: on a shared machine, the part of the wall
/// time that is ours.
fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e6)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One size, in a fresh process: the pipeline `decom plan --snapshot … --json` runs.
fn plan_child(args: &[String]) {
    let snapshot = Path::new(&args[0]);
    let spec_dir = Path::new(&args[1]);
    let runs: usize = args[2].parse().expect("runs");
    let spec = decom::spec::load(spec_dir, &decom::spec::LoadOptions::default())
        .unwrap_or_else(|d| panic!("{d}"));
    let now: jiff::Timestamp = "2026-11-21T12:00:00Z".parse().expect("timestamp");
    let mut phases: [Vec<f64>; 4] = Default::default();
    let mut totals = Vec::new();
    let mut cpu = Vec::new();
    let mut digest = String::new();
    let (mut resources, mut steps) = (0, 0);
    for _ in 0..runs {
        let cpu0 = thread_cpu_ms();
        let t0 = Instant::now();
        let inventory = Inventory::load(snapshot).expect("snapshot loads");
        let t1 = Instant::now();
        let resolved = decom::select::select(&spec, &inventory);
        let t2 = Instant::now();
        let plan = build_plan(
            &inventory,
            &resolved.selection,
            &decom::select::plan_options(&spec, now),
        );
        let t3 = Instant::now();
        let json = plan.to_json();
        let t4 = Instant::now();
        for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3].into_iter().enumerate() {
            phases[i].push(ms(d));
        }
        totals.push(ms(t4 - t0));
        cpu.push(thread_cpu_ms() - cpu0);
        digest = hex::encode(Sha256::digest(json.as_bytes()));
        resources = inventory.resources.len();
        steps = plan.steps.len();
        assert!(plan.applyable, "the bench plan is applyable");
        // Dropped here, before the next run, as in a real process.
        drop((json, plan, resolved, inventory));
    }
    let best = totals.iter().copied().fold(f64::INFINITY, f64::min);
    let [mut load, mut select, mut plan, mut json] = phases;
    println!(
        "resources={resources} steps={steps} best_ms={best:.1} median_ms={:.1} cpu_ms={:.1} load_ms={:.1} select_ms={:.1} plan_ms={:.1} json_ms={:.1} peak_mb={:.0} sha256={digest}",
        median(&mut totals),
        median(&mut cpu),
        median(&mut load),
        median(&mut select),
        median(&mut plan),
        median(&mut json),
        peak_rss_mb(),
    );
}

// ---------------------------------------------------------------------------
// apply

fn apply_bench(args: &[String]) {
    if args.iter().any(|a| a == "--rate-limits") {
        return rate_limited_bench(args);
    }
    let scale: f64 = flag(args, "--scale").map_or(0.01, |s| s.parse().expect("scale"));
    let stacks = list(args, "--stacks", &[1, 10, 50]);
    let parallelisms = list(args, "--parallelism", &[1, 10, 32]);
    let knobs = Knobs::realistic().with_time_scale(scale);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "apply on the simulator, Knobs::realistic() at time scale {scale} (figures in real-AWS seconds = wall / scale)"
    );
    println!(
        "{:>6} {:>6} {:>11} {:>7} {:>9} {:>9} {:>8} {:>10} {:>10} {:>6}",
        "stacks",
        "steps",
        "order",
        "par.",
        "wall s",
        "bound s",
        "/bound",
        "/bound(p)",
        "vs runbook",
        "retry"
    );
    for &n in &stacks {
        let inventory = synth::stacks(n, SEED);
        let plan = build_plan(
            &inventory,
            &select_stacks(&inventory),
            &PlanOptions::default(),
        );
        assert!(plan.applyable, "the bench plan is applyable");
        let (bound, call_time) = critical_path_bound(&plan, &inventory, &knobs);
        let runbook = runbook_order(&plan);
        let runbook_run = runtime.block_on(apply_once(&runbook, &inventory, &knobs, 1));
        let (runbook_wall, runbook_retries) = (runbook_run.wall, runbook_run.retries);
        let runbook_real = runbook_wall.as_secs_f64() / scale;
        let row = |order: &str, par: usize, wall: Duration, retries: u32| {
            let real = wall.as_secs_f64() / scale;
            // With `par` steps making calls at a time, their calls alone take about
            // call_time / par: the bound at that parallelism.
            let bound_at_par = bound.max(call_time / par as f64);
            println!(
                "{:>6} {:>6} {:>11} {:>7} {:>9.0} {:>9.0} {:>7.2}x {:>9.2}x {:>9.1}x {:>6}",
                n,
                plan.steps.len(),
                order,
                par,
                real,
                bound,
                real / bound,
                real / bound_at_par,
                runbook_real / real,
                retries
            );
        };
        row("runbook", 1, runbook_wall, runbook_retries);
        for &p in &parallelisms {
            let run = runtime.block_on(apply_once(&plan, &inventory, &knobs, p));
            row("graph", p, run.wall, run.retries);
        }
    }
}

/// Every resource of the stacks: the `Environment=production` tag, as the spec says.
fn select_stacks(inventory: &Inventory) -> Selection {
    let mut selection = Selection::default();
    for r in &inventory.resources {
        if r.tags.get("Environment").map(String::as_str) == Some("production") {
            selection
                .targets
                .insert(r.key(), "selected by Environment=production".into());
        }
    }
    selection
}

/// What one apply took.
struct Run {
    wall: Duration,
    retries: u32,
    /// Calls the simulator answered, and how many of them with throttling.
    calls: u64,
    throttled: u64,
}

/// One apply on a fresh simulated account.
async fn apply_once(plan: &Plan, inventory: &Inventory, knobs: &Knobs, parallelism: usize) -> Run {
    let sim = Arc::new(SimProvider::new(inventory.clone(), knobs.clone()));
    let plan_file = PlanFile::new(plan.clone(), inventory, false);
    // The journal and archive fsync on every step: a real cost, but not one of AWS's,
    // and the time scale would multiply it by 1/scale. On tmpfs they cost nothing.
    let shm = Path::new("/dev/shm");
    let state = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("tempdir");
    let caller = sim.caller_identity().await.expect("identity");
    let options = ApplyOptions {
        parallelism,
        state_dir: state.path().to_path_buf(),
        discovered: None,
        notices: Vec::new(),
    };
    let started = Instant::now();
    let report = execute(
        &plan_file,
        sim.clone(),
        &caller,
        &options,
        Arc::new(Silent),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("apply runs");
    let wall = started.elapsed();
    assert_eq!(
        report.summary.completed,
        plan.steps.len(),
        "every step completes: {:?}",
        report.summary
    );
    assert!(sim.repeated_successes().is_empty());
    let throttled: u64 = sim.throttled().values().sum();
    assert_eq!(
        report.throttled, throttled,
        "the report counts every throttling answer"
    );
    Run {
        wall,
        retries: report.steps.iter().map(|s| s.retries).sum(),
        calls: sim.api_calls().values().sum(),
        throttled,
    }
}

/// apply against AWS's token buckets (`Knobs::with_rate_limits`): wall time against
/// the larger of the critical path and the rate-limit bound, and the throttling
/// answers among the calls.
fn rate_limited_bench(args: &[String]) {
    let scale: f64 = flag(args, "--scale").map_or(0.01, |s| s.parse().expect("scale"));
    let stacks = list(args, "--stacks", &[500]);
    let parallelisms = list(args, "--parallelism", &[32]);
    let knobs = Knobs::realistic()
        .with_time_scale(scale)
        .with_rate_limits()
        .with_faults(0.0, 0.001);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "apply on the simulator with AWS's token buckets, Knobs::realistic().with_rate_limits() at time scale {scale} (real-AWS seconds = wall / scale)"
    );
    println!(
        "{:>6} {:>6} {:>5} {:>8} {:>9} {:>9} {:>9} {:>8} {:>7} {:>9} {:>7}  limiting bucket",
        "stacks",
        "steps",
        "par.",
        "wall s",
        "crit. s",
        "rate s",
        "/max",
        "calls",
        "thrott.",
        "thrott. %",
        "retry"
    );
    for &n in &stacks {
        let inventory = synth::stacks(n, SEED);
        let plan = build_plan(
            &inventory,
            &select_stacks(&inventory),
            &PlanOptions::default(),
        );
        assert!(plan.applyable, "the bench plan is applyable");
        let (critical, _) = critical_path_bound(&plan, &inventory, &knobs);
        let (rate, limiting) = rate_limit_bound(&plan);
        for &p in &parallelisms {
            let run = runtime.block_on(apply_once(&plan, &inventory, &knobs, p));
            let real = run.wall.as_secs_f64() / scale;
            println!(
                "{:>6} {:>6} {:>5} {:>8.0} {:>9.0} {:>9.0} {:>8.2}x {:>8} {:>7} {:>8.2}% {:>7}  {}",
                n,
                plan.steps.len(),
                p,
                real,
                critical,
                rate,
                real / critical.max(rate),
                run.calls,
                run.throttled,
                100.0 * run.throttled as f64 / run.calls.max(1) as f64,
                run.retries,
                limiting
            );
        }
    }
}

/// The rate-limit bound, in real-AWS seconds: the time AWS's fullest bucket takes
/// to let the plan's calls through (its burst at once, the rest at its refill rate),
/// and which bucket that is. Each step but an `AwaitDeletion` is one call; polls are
/// batched and left out.
fn rate_limit_bound(plan: &Plan) -> (f64, String) {
    let mut calls: BTreeMap<decom_provider::RateKey, f64> = BTreeMap::new();
    for step in &plan.steps {
        if step.action != Action::AwaitDeletion {
            *calls.entry(step.operation().rate_key()).or_default() += 1.0;
        }
    }
    calls
        .into_iter()
        .map(|(key, n)| {
            let bucket = decom_provider::rate_limits::default_bucket(key.service, key.family);
            let secs = (n - bucket.capacity).max(0.0) / bucket.refill_per_second;
            (secs, format!("{key}: {n} calls"))
        })
        .fold((0.0, String::new()), |best, this| {
            if this.0 > best.0 { this } else { best }
        })
}

/// The plan in a runbook's order: stack after stack (a stack is a connected part of
/// the step graph, taken in plan order), each stack's steps in plan order, and a
/// total order so that parallelism 1 runs exactly this sequence.
fn runbook_order(plan: &Plan) -> Plan {
    let n = plan.steps.len();
    // Union-find over the dependency edges.
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, step) in plan.steps.iter().enumerate() {
        for &dep in &step.depends_on {
            let (a, b) = (root(&mut parent, i), root(&mut parent, dep - 1));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    let stack: Vec<usize> = (0..n).map(|i| root(&mut parent, i)).collect();
    order.sort_by_key(|&i| (stack[i], i));
    let mut new_order = vec![0; n];
    for (position, &i) in order.iter().enumerate() {
        new_order[i] = position + 1;
    }
    let mut runbook = plan.clone();
    runbook.steps = order
        .iter()
        .enumerate()
        .map(|(position, &i)| {
            let mut step = plan.steps[i].clone();
            step.order = position + 1;
            let mut deps: Vec<usize> = step.depends_on.iter().map(|&d| new_order[d - 1]).collect();
            // One step after the other.
            if position > 0 {
                deps.push(position);
            }
            deps.sort();
            deps.dedup();
            step.depends_on = deps;
            step
        })
        .collect();
    runbook
}

fn delay_secs(delay: Delay) -> f64 {
    match delay {
        Delay::Time(d) => d.as_secs_f64(),
        Delay::None | Delay::Polls(_) => 0.0,
    }
}

/// The critical-path bound, in real-AWS seconds: the earliest time the last step can
/// finish with unbounded parallelism, the simulator's mean call latency, and every
/// asynchronous completion observed the moment it happens.
///
/// A step starts when its dependencies finish. A `Delete` describes (archive) then
/// calls; any other step calls once. IAM deletions cannot take effect before the
/// propagation delay of an earlier detach / removal on the same resource has passed.
/// A terminating instance finishes `termination_delay` after its call, plus one poll;
/// an `AwaitDeletion` finishes when its interface is gone (instance terminated, or
/// `eni_release_delay` after its load balancer's deletion), plus one poll.
///
/// Also returns the time of all the steps' own calls end to end, plus the archive's
/// describes at 32 at a time: with `p` steps making calls at a time, no run is
/// shorter than the first divided by `p` (the second is small).
fn critical_path_bound(plan: &Plan, inventory: &Inventory, knobs: &Knobs) -> (f64, f64) {
    let latency = (knobs.latency_min + knobs.latency_max).as_secs_f64() / 2.0;
    let termination = delay_secs(knobs.termination_delay);
    let release = delay_secs(knobs.eni_release_delay);
    let propagation = delay_secs(knobs.iam_propagation_delay);
    let index = InventoryIndex::new(inventory);
    // When a resource is gone (instances, released interfaces' owners) or its IAM
    // change has propagated.
    let mut gone_at: BTreeMap<ResourceKey, f64> = BTreeMap::new();
    let mut propagated_at: BTreeMap<ResourceKey, f64> = BTreeMap::new();
    let mut finish = vec![0.0f64; plan.steps.len()];
    let mut call_time = 0.0;
    // Steps are in topological order: dependencies come first.
    for (i, step) in plan.steps.iter().enumerate() {
        let start = step
            .depends_on
            .iter()
            .map(|&d| finish[d - 1])
            .fold(0.0, f64::max);
        let key = step.key();
        let calls = if step.action == Action::Delete {
            2.0
        } else {
            1.0
        };
        // The archive's describe runs before the first step, 32 at a time
        // (`SimProvider::describe_many`), not in the step's slot.
        call_time += latency + (calls - 1.0) * latency / 32.0;
        let mut effect = start + calls * latency;
        if step.action == Action::Delete
            && let Some(&t) = propagated_at.get(&key)
        {
            effect = effect.max(t);
        }
        let mut propagate = |k: ResourceKey| {
            let t = propagated_at.entry(k).or_insert(0.0);
            *t = t.max(effect + propagation);
        };
        match &step.action {
            Action::DetachRolePolicy { policy_arn } => {
                propagate(key.clone());
                propagate(ResourceKey::new(
                    ResourceType::IamPolicy,
                    "global",
                    policy_arn,
                ));
            }
            Action::DeleteInlinePolicy { .. }
            | Action::DetachUserPolicy { .. }
            | Action::DetachGroupPolicy { .. } => propagate(key.clone()),
            Action::RemoveRoleFromProfile { role } => {
                propagate(key.clone());
                propagate(ResourceKey::new(ResourceType::IamRole, "global", role));
            }
            _ => {}
        }
        finish[i] = match (&step.action, key.ty) {
            (Action::Delete, ResourceType::Instance) => {
                gone_at.insert(key.clone(), effect + termination);
                effect + termination + latency
            }
            (Action::Delete, ResourceType::Lb) => {
                gone_at.insert(key.clone(), effect + release);
                effect
            }
            (Action::AwaitDeletion, _) => {
                let owner = match index.get(&key).map(|r| &r.details) {
                    Some(Details::NetworkInterface(eni)) => eni.managed_by.clone().or_else(|| {
                        eni.attachment
                            .as_ref()
                            .and_then(|a| a.instance_id.as_ref())
                            .map(|id| ResourceKey::new(ResourceType::Instance, &key.region, id))
                    }),
                    _ => None,
                };
                let gone = owner.and_then(|o| gone_at.get(&o).copied()).unwrap_or(0.0);
                effect.max(gone) + latency
            }
            _ => effect,
        };
    }
    (finish.into_iter().fold(0.0, f64::max), call_time)
}

// ---------------------------------------------------------------------------
// spec

/// A spec that names `names` load balancers one by one, as a spec written from an
/// inventory would: an `absent` block per name (every tenth a `keep`), each with a
/// name built from a variable and a tag, about 100 bytes per name.
fn generated_spec(names: usize) -> String {
    let mut out = String::with_capacity(names * 110 + 300);
    out.push_str(
        "provider \"aws\" {\n  regions             = [\"us-east-1\", \"eu-west-1\"]\n  allowed_account_ids = [\"123456789012\"]\n}\n\nvariable \"env\" { default = \"prod\" }\n\ndecommission \"bench\" {\n  description = \"generated\"\n",
    );
    for i in 0..names {
        let kind = if i % 10 == 9 { "keep  " } else { "absent" };
        out.push_str(&format!(
            "  {kind} \"aws_lb\" {{\n    names = [\"svc-{i:06}-${{var.env}}-alb\"]\n    tags  = {{ Service = \"svc-{i:06}\" }}\n  }}\n"
        ));
    }
    out.push_str("}\n");
    out
}

/// `decom::spec::parse_sources` on generated specs, each size in its own child
/// process (so that its peak memory is its own), the median of `--runs` runs.
fn spec_bench(args: &[String]) {
    let sizes = list(args, "--names", &[10_000, 50_000, 100_000]);
    let runs: usize = flag(args, "--runs").map_or(7, |s| s.parse().expect("runs"));
    println!(
        "spec loading: `parse_sources` on a generated spec, best/median of {runs} runs (wall ms; cpu: this thread's CPU time), each size in its own process"
    );
    println!(
        "{:>8} {:>8} {:>9} {:>9} {:>9} {:>12} {:>8}",
        "names", "MB", "best ms", "median", "cpu med", "µs per name", "peak MB"
    );
    let mut medians = BTreeMap::new();
    for names in sizes {
        let out = std::process::Command::new(std::env::current_exe().expect("exe"))
            .arg("spec-child")
            .arg(names.to_string())
            .arg(runs.to_string())
            .output()
            .expect("child runs");
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8(out.stdout).expect("utf-8");
        let fields: BTreeMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let get = |k: &str| fields.get(k).copied().unwrap_or("?");
        let median_ms: f64 = get("median_ms").parse().unwrap_or(f64::NAN);
        println!(
            "{:>8} {:>8} {:>9} {:>9} {:>9} {:>12.1} {:>8}",
            names,
            get("mb"),
            get("best_ms"),
            get("median_ms"),
            get("cpu_ms"),
            median_ms * 1000.0 / names as f64,
            get("peak_mb"),
        );
        medians.insert(names, median_ms);
    }
    if let (Some((&a, ta)), Some((&b, tb))) = (medians.iter().next(), medians.iter().last())
        && a != b
    {
        println!(
            "growth {a} -> {b} names (median): {:.1}x for {:.1}x the names",
            tb / ta,
            b as f64 / a as f64
        );
    }
}

/// One size, in a fresh process.
fn spec_child(args: &[String]) {
    let names: usize = args[0].parse().expect("names");
    let runs: usize = args[1].parse().expect("runs");
    let text = generated_spec(names);
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..runs {
        let sources = vec![decom::spec::SourceFile {
            display_path: "bench/main.hcl".to_string(),
            file_name: "main.hcl".to_string(),
            text: text.clone(),
        }];
        let cpu0 = thread_cpu_ms();
        let t0 = Instant::now();
        let spec = decom::spec::parse_sources(sources, &decom::spec::LoadOptions::default());
        let elapsed = ms(t0.elapsed());
        cpu.push(thread_cpu_ms() - cpu0);
        times.push(elapsed);
        let spec = spec.unwrap_or_else(|d| panic!("{d}"));
        let selectors = spec.decommission.absent.len() + spec.decommission.keep.len();
        assert_eq!(selectors, names, "every name is a selector");
        drop(spec);
    }
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "mb={:.2} best_ms={best:.1} median_ms={:.1} cpu_ms={:.1} peak_mb={:.0}",
        text.len() as f64 / 1e6,
        median(&mut times),
        median(&mut cpu),
        peak_rss_mb(),
    );
}
