//! `plan`: `decom plan --stats` on the stacks for a spec that retires one stack and
//! for one that retires them all, each once, against `decom discover` (a full
//! discovery) on the same account: the calls of a scoped discovery, and each plan
//! checked equal, byte for byte, to the plan from the full snapshot.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Bench, decom_binary, number, run, stats, work_dir, write_spec};

/// One stack by name (its log groups by their prefix), the shared role kept.
const ONE_STACK: &str = r#"
provider "aws" {
  regions             = ["us-east-1"]
  allowed_account_ids = ["123456789012"]
}

decommission "one" {
  absent "*"                        { name_prefix = "svc-0001-" }
  absent "aws_cloudwatch_log_group" { name_prefix = "/ecs/svc-0001" }
  keep "aws_iam_role" { names = ["shared-ecs-execution-role"] }
  orphans = "report"

  allow {
    delete_live_traffic = true
  }
}
"#;

pub(super) fn plan_bench(args: &[String]) {
    let stacks = number(args, "--stacks", 50);
    let bench = Bench::start(stacks, 0);
    let (seconds, calls) = bench.fresh_account();
    println!(
        "## plan: {stacks} stacks on moto, created in {seconds:.1} s with {calls} calls; one run each\n"
    );
    let dir = work_dir("plan");
    let all = write_spec(&dir);
    let one = dir.join("one");
    std::fs::create_dir_all(&one).expect("spec dir");
    std::fs::write(one.join("main.hcl"), ONE_STACK).expect("write spec");

    let decom = |args: &[&str], what: &str| {
        let mut command = bench.command(&decom_binary(), &dir);
        command.args(args);
        run(command, what)
    };
    let path = |p: &Path| p.to_str().expect("utf-8").to_string();
    let (output, wall) = decom(
        &[
            "discover",
            &path(&all),
            "-o",
            "snap.json",
            "--stats",
            "--no-progress",
        ],
        "decom discover",
    );
    let mut columns: Vec<(String, BTreeMap<String, u64>, f64)> =
        vec![("`decom discover`".into(), stats(&output.stderr), wall)];
    for (label, spec) in [
        (format!("`plan`, 1 of {stacks}"), &one),
        (format!("`plan`, {stacks} of {stacks}"), &all),
    ] {
        let spec = path(spec);
        let (scoped, wall) = decom(
            &["plan", &spec, "-json", "--stats", "--no-progress"],
            "decom plan",
        );
        let (full, _) = decom(
            &["plan", &spec, "-json", "--inventory", "snap.json"],
            "decom plan --inventory",
        );
        assert_eq!(
            String::from_utf8_lossy(&scoped.stdout),
            String::from_utf8_lossy(&full.stdout),
            "{label}: the plan of the scoped discovery differs from the full snapshot's"
        );
        columns.push((label, stats(&scoped.stderr), wall));
    }

    let operations: BTreeSet<&String> = columns.iter().flat_map(|(_, c, _)| c.keys()).collect();
    let header: Vec<&str> = columns.iter().map(|(l, _, _)| l.as_str()).collect();
    println!("| operation | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(columns.len()));
    for operation in operations {
        let cells: Vec<String> = columns
            .iter()
            .map(|(_, c, _)| c.get(operation).copied().unwrap_or(0).to_string())
            .collect();
        println!("| `{operation}` | {} |", cells.join(" | "));
    }
    let totals: Vec<String> = columns
        .iter()
        .map(|(_, c, _)| format!("**{}**", c.values().sum::<u64>()))
        .collect();
    println!("| total | {} |", totals.join(" | "));
    let walls: Vec<String> = columns
        .iter()
        .map(|(_, _, w)| format!("{w:.2} s"))
        .collect();
    println!("| wall time | {} |", walls.join(" | "));
    println!("\nEach plan equals the plan made from the full snapshot, byte for byte.");
}
