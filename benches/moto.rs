//! decom's benchmarks against moto (issue 7, parts 3 and 4), outside the test run:
//! the synthetic stacks of `decom_sim::synth` created on a local moto server through
//! the SDK, then
//!
//! - `discover`: `decom discover --stats` on that account, API calls per operation
//!   against the pages the account needs at least, and wall time;
//! - `plan`: `decom plan --stats` retiring one stack and retiring all, against
//!   `decom discover`: the calls of the scoped discovery (`moto/scoped.rs`);
//! - `runbook`: the runbook way (`benches/runbook/cleanup-awscli.sh`, one `aws`
//!   process per call, and `cleanup-boto3.py`, one sequential boto3 process) against
//!   `decom plan` + `decom apply`, each on a fresh copy of the same account, with a
//!   census through the SDK proving each deleted the same resources and kept the
//!   shared ones.
//!
//! ```text
//! cargo bench --bench moto -- discover [--stacks 50] [--runs 5] [--latency-ms 0]
//! cargo bench --bench moto -- plan     [--stacks 50]
//! cargo bench --bench moto -- runbook  [--stacks 50] [--only awscli,boto3,decom] [--rounds 1] [--latency-ms 0]
//! ```
//!
//! `--rounds N` runs the contenders N times, taking turns, so that a machine whose
//! speed drifts slows them alike; the summary compares medians.
//!
//! `--latency-ms` puts a proxy before moto that answers each request that much
//! later, as a real endpoint's round trip would.
//!
//! Method and results: docs/performance.md.

#[path = "support/args.rs"]
mod args;

#[path = "moto/account.rs"]
mod account;
#[path = "moto/latency.rs"]
mod latency;
#[path = "moto/scoped.rs"]
mod scoped;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use account::{Key, Sdk};
use args::{flag, median};
use decom_provider::{Details, Inventory, ResourceType};
use decom_sim::synth;
use decom_testing::moto_server::{MotoServer, repo_root};

const SEED: u64 = 1;
const REGION: &str = synth::REGION;
/// Calls in flight while the stacks are created.
const CREATE_CONCURRENCY: usize = 8;
/// The AWS CLI from PyPI, pinned with the boto3 it shares botocore with.
const AWSCLI: &str = "awscli==1.46.3";
const BOTO3: &str = "boto3==1.44.5";

/// Every stack retired, the shared resources kept (as in `benches/decom.rs`); moto
/// reports every registered target healthy, hence the opt-in.
const SPEC: &str = r#"
provider "aws" {
  regions             = ["us-east-1"]
  allowed_account_ids = ["123456789012"]
}

decommission "bench" {
  absent "*" { tags = { Environment = "production" } }
  keep "aws_iam_role" { names = ["shared-ecs-execution-role"] }
  orphans = "report"

  allow {
    delete_live_traffic = true
  }
}
"#;

fn main() {
    let (which, flags) = args::which_and_flags();
    let rest = flags.as_slice();
    match which.as_str() {
        "discover" => discover_bench(rest),
        "runbook" => runbook_bench(rest),
        "plan" => scoped::plan_bench(rest),
        "all" => {
            discover_bench(&[]);
            runbook_bench(&[]);
        }
        other => {
            eprintln!("unknown benchmark `{other}`: expected discover, plan, runbook or all");
            std::process::exit(2);
        }
    }
}

fn number(args: &[String], name: &str, default: usize) -> usize {
    flag(args, name).map_or(default, |n| n.parse().expect("a number"))
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data/moto")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench work dir");
    dir
}

/// One moto server for the whole benchmark; every contender starts from a reset
/// server (`POST /moto-api/reset`) with the same stacks created anew.
struct Bench {
    server: MotoServer,
    /// Where the contenders send their requests: moto, or the latency proxy before
    /// it (the fixtures and the census always go to moto directly).
    endpoint: String,
    runtime: tokio::runtime::Runtime,
    sdk: Sdk,
    inventory: Inventory,
    log: PathBuf,
}

impl Bench {
    fn start(stacks: usize, latency_ms: u64) -> Bench {
        let server = MotoServer::start();
        let endpoint = if latency_ms == 0 {
            server.endpoint.clone()
        } else {
            latency::start(&server.endpoint, Duration::from_millis(latency_ms))
        };
        let port = server
            .endpoint
            .rsplit(':')
            .next()
            .expect("a port")
            .to_string();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{port}.log"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let sdk = runtime.block_on(Sdk::new(&server.endpoint, REGION, "testing", "testing"));
        Bench {
            server,
            endpoint,
            runtime,
            sdk,
            inventory: synth::stacks(stacks, SEED),
            log,
        }
    }

    /// An empty server, then the stacks: returns the seconds and calls it took.
    fn fresh_account(&self) -> (f64, usize) {
        reset(&self.server.endpoint);
        let started = Instant::now();
        let certificate = self.certificate();
        let created = self.runtime.block_on(account::create(
            &self.sdk,
            &self.inventory,
            CREATE_CONCURRENCY,
            &certificate,
        ));
        (started.elapsed().as_secs_f64(), created.calls + 1)
    }

    /// An ACM certificate for the HTTPS listeners (moto checks that it exists),
    /// requested with boto3: the SDK crates here do not include ACM.
    fn certificate(&self) -> String {
        let dir = std::env::temp_dir();
        let mut command = self.command(&repo_root().join(".venv/bin/python"), &dir);
        command.args([
            "-c",
            "import boto3; print(boto3.client('acm').request_certificate(DomainName='*.example.com')['CertificateArn'])",
        ]);
        let (output, _) = run(command, "request an ACM certificate");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    fn census(&self) -> BTreeSet<Key> {
        self.runtime.block_on(account::census(&self.sdk))
    }

    fn shared_details(&self) -> Vec<String> {
        self.runtime.block_on(account::shared_details(&self.sdk))
    }

    /// CPU seconds (user + system) moto has used so far.
    fn moto_cpu(&self) -> f64 {
        let pid_file = self.log.with_extension("pid");
        let pid = std::fs::read_to_string(pid_file).expect("moto's pid");
        cpu_seconds(&format!("/proc/{}/stat", pid.trim()), 13)
    }

    /// Requests moto has answered so far (its log has a line per request).
    fn requests(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|text| text.lines().filter(|l| l.contains(" HTTP/1.1\" ")).count())
            .unwrap_or(0)
    }

    /// A command with the environment of a user's shell pointed at moto.
    fn command(&self, program: &Path, dir: &Path) -> Command {
        let nowhere = dir.join("no-aws-config");
        let venv_bin = repo_root().join(".venv/bin");
        let path = format!(
            "{}:{}",
            venv_bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new(program);
        command
            .current_dir(dir)
            .env("PATH", path)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_REGION", REGION)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_CONFIG_FILE", &nowhere)
            .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        command
    }
}

/// `POST /moto-api/reset`: every account of the server emptied.
fn reset(endpoint: &str) {
    let address = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect to moto");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    write!(
        stream,
        "POST /moto-api/reset HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send reset");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("reset answer");
    assert!(
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
        "moto reset failed: {answer}"
    );
}

/// utime + stime (or, from `first` = 15, cutime + cstime: the waited-for children's)
/// of a `/proc/<pid>/stat`, in seconds (USER_HZ is 100 on Linux).
fn cpu_seconds(stat: &str, first: usize) -> f64 {
    let text = std::fs::read_to_string(stat).expect("read a stat file");
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = text[text.rfind(')').expect("comm") + 2..]
        .split_whitespace()
        .collect();
    // Field numbers of proc(5) start at 1 with the pid; `fields` starts at field 3.
    let ticks = |n: usize| fields[n - 3].parse::<f64>().expect("ticks");
    (ticks(first + 1) + ticks(first + 2)) / 100.0
}

/// CPU seconds of the child processes this process has waited for.
fn children_cpu() -> f64 {
    cpu_seconds("/proc/self/stat", 15)
}

fn decom_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_decom"))
}

fn run(mut command: Command, what: &str) -> (Output, f64) {
    let started = Instant::now();
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{what} failed ({})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, seconds)
}

/// The `--stats` lines of a decom run: `  count  service:Operation`.
fn stats(stderr: &[u8]) -> BTreeMap<String, u64> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let count = words.next()?.parse().ok()?;
            let operation = words.next()?;
            (operation.contains(':') && words.next().is_none())
                .then(|| (operation.to_string(), count))
        })
        .collect()
}

fn write_spec(dir: &Path) -> PathBuf {
    let spec = dir.join("spec");
    std::fs::create_dir_all(&spec).expect("spec dir");
    std::fs::write(spec.join("main.hcl"), SPEC).expect("write spec");
    spec
}

// ---------------------------------------------------------------------------
// 3. discover

fn discover_bench(args: &[String]) {
    let stacks = number(args, "--stacks", 50);
    let runs = number(args, "--runs", 5);
    let latency_ms = number(args, "--latency-ms", 0) as u64;
    let bench = Bench::start(stacks, latency_ms);
    let (seconds, calls) = bench.fresh_account();
    let census = bench.census();
    println!(
        "## discover: {stacks} stacks on moto ({} resources in the census), created in {seconds:.1} s with {calls} calls; {latency_ms} ms added per request\n",
        census.len()
    );
    let dir = work_dir("discover");
    let spec = write_spec(&dir);
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut calls_per_run: Vec<BTreeMap<String, u64>> = Vec::new();
    let mut snapshot = None;
    for i in 0..runs {
        let mut command = bench.command(&decom_binary(), &dir);
        command.args([
            "discover",
            spec.to_str().expect("utf-8"),
            "-o",
            "snap.json",
            "--stats",
            "--no-progress",
        ]);
        let (cpu, moto_cpu) = (children_cpu(), bench.moto_cpu());
        let (output, wall) = run(command, "decom discover");
        let (cpu, moto_cpu) = (children_cpu() - cpu, bench.moto_cpu() - moto_cpu);
        eprintln!(
            "run {}: {wall:.2} s wall, decom CPU {cpu:.2} s, moto CPU {moto_cpu:.2} s",
            i + 1
        );
        walls.push(wall);
        cpus.push((cpu, moto_cpu));
        calls_per_run.push(stats(&output.stderr));
        if snapshot.is_none() {
            let text = std::fs::read_to_string(dir.join("snap.json")).expect("snapshot");
            snapshot = Some(Inventory::from_json(&text, "snap.json").expect("snapshot loads"));
        }
    }
    let snapshot = snapshot.expect("at least one run");
    let found: BTreeSet<Key> = snapshot
        .resources
        .iter()
        .filter(|r| !matches!(&r.details, Details::SecurityGroup(g) if g.is_default))
        .map(|r| (r.ty().as_str(), r.id.clone()))
        .collect();
    assert_eq!(
        found, census,
        "the snapshot should hold exactly what the census finds"
    );
    for other in &calls_per_run[1..] {
        assert_eq!(other, &calls_per_run[0], "every run makes the same calls");
    }
    let minimum = minimum_pages(&snapshot);
    let calls = &calls_per_run[0];
    println!("| operation | calls | minimum | per |");
    println!("|---|---:|---:|---|");
    let mut total = (0, 0);
    let operations: BTreeSet<&String> = calls.keys().chain(minimum.keys()).collect();
    for operation in operations {
        let made = calls.get(operation).copied().unwrap_or(0);
        let (least, per) = minimum
            .get(operation)
            .map(|(n, per)| (*n, per.as_str()))
            .unwrap_or((0, "?"));
        total = (total.0 + made, total.1 + least);
        println!("| `{operation}` | {made} | {least} | {per} |");
    }
    println!("| total | {} | {} | |", total.0, total.1);
    let mut sorted = walls.clone();
    let med = median(&mut sorted);
    let mut decom_cpu: Vec<f64> = cpus.iter().map(|c| c.0).collect();
    let mut moto_cpu: Vec<f64> = cpus.iter().map(|c| c.1).collect();
    println!(
        "\nCPU per run (median): decom {:.2} s, moto {:.2} s",
        median(&mut decom_cpu),
        median(&mut moto_cpu)
    );
    println!(
        "\nwall time of {runs} runs: median {med:.2} s, best {:.2} s, worst {:.2} s ({})",
        sorted[0],
        sorted[sorted.len() - 1],
        walls
            .iter()
            .map(|w| format!("{w:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// The fewest calls that discover `snapshot`'s account with the same information:
/// listing calls at AWS's largest page size, and one call per resource where AWS
/// has no batch form.
fn minimum_pages(snapshot: &Inventory) -> BTreeMap<String, (u64, String)> {
    let count =
        |ty: ResourceType| snapshot.resources.iter().filter(|r| r.ty() == ty).count() as u64;
    let pages = |items: u64, size: u64| items.div_ceil(size).max(1);
    let groups = count(ResourceType::SecurityGroup);
    let group_rules: u64 = snapshot
        .resources
        .iter()
        .map(|r| match &r.details {
            Details::SecurityGroup(g) => g.rules.len() as u64,
            _ => 0,
        })
        .sum();
    let (instances, interfaces) = (
        count(ResourceType::Instance),
        count(ResourceType::NetworkInterface),
    );
    let (lbs, listeners, rules, tgs) = (
        count(ResourceType::Lb),
        count(ResourceType::LbListener),
        count(ResourceType::LbListenerRule),
        count(ResourceType::LbTargetGroup),
    );
    let (roles, policies, profiles) = (
        count(ResourceType::IamRole),
        count(ResourceType::IamPolicy),
        count(ResourceType::IamInstanceProfile),
    );
    let log_groups = count(ResourceType::CloudwatchLogGroup);
    let entry = |n: u64, per: &str| (n, per.to_string());
    BTreeMap::from([
        ("sts:GetCallerIdentity".into(), entry(1, "account")),
        (
            "ec2:DescribeSecurityGroups".into(),
            entry(pages(groups, 1000), "1 000 groups"),
        ),
        (
            "ec2:DescribeSecurityGroupRules".into(),
            entry(pages(group_rules, 1000), "1 000 rules"),
        ),
        (
            "ec2:DescribeNetworkInterfaces".into(),
            entry(pages(interfaces, 1000), "1 000 interfaces"),
        ),
        (
            "ec2:DescribeInstances".into(),
            entry(pages(instances, 1000), "1 000 instances"),
        ),
        (
            "ec2:DescribeInstanceAttribute".into(),
            entry(instances, "instance (no batch form)"),
        ),
        (
            "elasticloadbalancing:DescribeLoadBalancers".into(),
            entry(pages(lbs, 400), "400 balancers"),
        ),
        (
            "elasticloadbalancing:DescribeLoadBalancerAttributes".into(),
            entry(lbs, "balancer (no batch form)"),
        ),
        (
            "elasticloadbalancing:DescribeListeners".into(),
            entry(lbs, "balancer (no batch form)"),
        ),
        (
            "elasticloadbalancing:DescribeRules".into(),
            entry(listeners, "listener (no batch form)"),
        ),
        (
            "elasticloadbalancing:DescribeTargetGroups".into(),
            entry(pages(tgs, 400), "400 groups"),
        ),
        (
            "elasticloadbalancing:DescribeTargetHealth".into(),
            entry(tgs, "target group (no batch form)"),
        ),
        (
            "elasticloadbalancing:DescribeTags".into(),
            entry(pages(lbs + listeners + rules + tgs, 20), "20 ARNs"),
        ),
        (
            "iam:GetAccountAuthorizationDetails".into(),
            entry(pages(roles + policies, 1000), "1 000 entities"),
        ),
        (
            "iam:ListPolicyTags".into(),
            entry(policies, "customer policy (no batch form)"),
        ),
        (
            "iam:ListInstanceProfiles".into(),
            entry(pages(profiles, 1000), "1 000 profiles"),
        ),
        (
            "logs:DescribeLogGroups".into(),
            entry(pages(log_groups, 50), "50 log groups"),
        ),
        (
            "logs:ListTagsForResource".into(),
            entry(log_groups, "log group (no batch form)"),
        ),
    ])
}

// ---------------------------------------------------------------------------
// 4. the runbook way

struct Outcome {
    round: usize,
    name: String,
    wall: f64,
    parts: String,
    requests: usize,
    /// CPU seconds of the contender's processes, and of moto, while it ran.
    cpu: f64,
    moto_cpu: f64,
}

fn runbook_bench(args: &[String]) {
    let stacks = number(args, "--stacks", 50);
    let only: Vec<&str> = flag(args, "--only")
        .unwrap_or("awscli,boto3,decom")
        .split(',')
        .collect();
    if only.contains(&"awscli") || only.contains(&"boto3") {
        ensure_awscli();
    }
    let latency_ms = number(args, "--latency-ms", 0) as u64;
    let bench = Bench::start(stacks, latency_ms);
    let runbook = repo_root().join("benches/runbook");
    let services: Vec<String> = (1..=stacks).map(|i| format!("svc-{i:04}")).collect();
    let rounds = number(args, "--rounds", 1).max(1);
    let mut outcomes = Vec::new();
    let mut deleted: Option<BTreeMap<&str, usize>> = None;
    let turns = (1..=rounds).flat_map(|round| only.iter().map(move |&name| (round, name)));
    for (round, name) in turns {
        let (create_seconds, create_calls) = bench.fresh_account();
        let before = bench.census();
        let shared_before = bench.shared_details();
        // Kept: the monitoring group and the execution role (by name, whatever ids
        // this copy of the account got).
        let kept: BTreeSet<Key> = before
            .iter()
            .filter(|(ty, id)| {
                (*ty == "aws_iam_role" && id == "shared-ecs-execution-role")
                    || (*ty == "aws_security_group"
                        && bench_group_name(&bench, id) == "shared-monitoring-sg")
            })
            .cloned()
            .collect();
        assert_eq!(kept.len(), 2, "both shared resources exist");
        eprintln!(
            "{name}: account of {} resources made in {create_seconds:.1} s ({create_calls} calls)",
            before.len()
        );
        let dir = work_dir(name);
        let requests_before = bench.requests();
        let (cpu_before, moto_before) = (children_cpu(), bench.moto_cpu());
        let (wall, parts) = match name {
            "awscli" => {
                let mut command = bench.command(Path::new("bash"), &dir);
                command
                    .arg(runbook.join("cleanup-awscli.sh"))
                    .args(&services);
                let (_, wall) = run(command, "cleanup-awscli.sh");
                (wall, String::new())
            }
            "boto3" => {
                let python = repo_root().join(".venv/bin/python");
                let mut command = bench.command(&python, &dir);
                command
                    .arg(runbook.join("cleanup-boto3.py"))
                    .args(&services);
                let (_, wall) = run(command, "cleanup-boto3.py");
                (wall, String::new())
            }
            "decom" => {
                let spec = write_spec(&dir);
                let mut plan = bench.command(&decom_binary(), &dir);
                plan.args([
                    "plan",
                    spec.to_str().expect("utf-8"),
                    "-out",
                    "p.plan",
                    "--no-progress",
                ]);
                let (_, plan_wall) = run(plan, "decom plan");
                let mut apply = bench.command(&decom_binary(), &dir);
                apply.args([
                    "apply",
                    "p.plan",
                    "-auto-approve",
                    "--no-progress",
                    "--stats",
                ]);
                let (output, apply_wall) = run(apply, "decom apply");
                let apply_stats = stats(&output.stderr);
                // The run's progress lines, kept for a look at where the time went.
                let log = dir.join("decom-apply.log");
                std::fs::write(&log, &output.stderr).expect("write the apply log");
                eprintln!("decom apply: progress lines in {}", log.display());
                // How long the archive phase before the first step took.
                for line in String::from_utf8_lossy(&output.stderr).lines() {
                    if line.starts_with("archived ") {
                        eprintln!("decom apply: {line}");
                    }
                }
                let calls: u64 = apply_stats.values().sum();
                eprintln!("decom apply: API calls per operation");
                for (operation, count) in &apply_stats {
                    eprintln!("  {count:>6}  {operation}");
                }
                (
                    apply_wall,
                    format!("plan {plan_wall:.1} s (not counted), apply {calls} calls"),
                )
            }
            other => panic!("unknown contender `{other}`: expected awscli, boto3 or decom"),
        };
        let requests = bench.requests() - requests_before;
        let (cpu, moto_cpu) = (children_cpu() - cpu_before, bench.moto_cpu() - moto_before);
        let after = bench.census();
        let shared_after = bench.shared_details();
        assert_eq!(
            shared_after, shared_before,
            "{name} left the shared resources intact"
        );
        assert_eq!(
            after, kept,
            "{name} deleted everything but the shared resources"
        );
        let gone: BTreeSet<Key> = before.difference(&after).cloned().collect();
        let gone_types: BTreeMap<&str, usize> = gone.iter().fold(BTreeMap::new(), |mut m, k| {
            *m.entry(k.0).or_default() += 1;
            m
        });
        eprintln!("{name}: {wall:.1} s, deleted {gone_types:?}");
        match &deleted {
            None => deleted = Some(gone_types),
            Some(first) => assert_eq!(
                &gone_types, first,
                "{name} deleted as many resources of each type as the first contender"
            ),
        }
        outcomes.push(Outcome {
            round,
            name: name.to_string(),
            wall,
            parts,
            requests,
            cpu,
            moto_cpu,
        });
    }
    println!("## runbook: {stacks} stacks on moto, {latency_ms} ms added per request\n");
    println!("| round | contender | wall | requests to moto | its CPU | moto's CPU | notes |");
    println!("|---:|---|---:|---:|---:|---:|---|");
    for o in &outcomes {
        println!(
            "| {} | {} | {:.1} s | {} | {:.1} s | {:.1} s | {} |",
            o.round, o.name, o.wall, o.requests, o.cpu, o.moto_cpu, o.parts
        );
    }
    let median_wall = |name: &str| {
        let mut walls: Vec<f64> = outcomes
            .iter()
            .filter(|o| o.name == name)
            .map(|o| o.wall)
            .collect();
        (!walls.is_empty()).then(|| median(&mut walls))
    };
    if let Some(decom) = median_wall("decom") {
        for name in only.iter().filter(|&&n| n != "decom") {
            let Some(other) = median_wall(name) else {
                continue;
            };
            let per_round: Vec<String> = (1..=rounds)
                .filter_map(|round| {
                    let wall = |n: &str| {
                        outcomes
                            .iter()
                            .find(|o| o.round == round && o.name == n)
                            .map(|o| o.wall)
                    };
                    Some(format!("{:.2}", wall(name)? / wall("decom")?))
                })
                .collect();
            println!(
                "\n{name}: {:.2}× the wall time of decom apply (medians {other:.1} s and {decom:.1} s; per round: {})",
                other / decom,
                per_round.join(", ")
            );
        }
    }
}

fn bench_group_name(bench: &Bench, id: &str) -> String {
    bench.runtime.block_on(async {
        bench
            .sdk
            .ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .expect("describe group")
            .security_groups()[0]
            .group_name()
            .unwrap_or_default()
            .to_string()
    })
}

/// The AWS CLI from PyPI in the virtualenv that holds moto (and boto3), installed
/// if missing.
fn ensure_awscli() {
    let root = repo_root();
    let python = root.join(".venv/bin/python");
    if !python.exists() {
        // moto's installer makes the virtualenv.
        drop(MotoServer::start());
    }
    let version = Command::new(root.join(".venv/bin/aws"))
        .arg("--version")
        .output();
    let wanted = AWSCLI.trim_start_matches("awscli==");
    if let Ok(out) = &version {
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        if text.contains(&format!("aws-cli/{wanted} ")) {
            return;
        }
    }
    eprintln!("installing {AWSCLI} into {}", root.join(".venv").display());
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            AWSCLI,
            BOTO3,
        ])
        .output()
        .expect("run pip");
    assert!(
        out.status.success(),
        "pip install {AWSCLI} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
