//! Whole runs of the `decom` binary, snapshot-tested the way uv does
//! (`crates/uv-test`): each snapshot holds one run's command, exit code, stdout and
//! stderr, with filters masking what differs between machines and runs (temporary
//! and repository paths, durations, timestamps). `tests/snapshots.rs` snapshots the
//! library's renders; these snapshot what a user sees. Review changes with
//! `cargo insta review`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{FIXTURES, decom, decom_binary, fixtures_dir, text};

/// A temporary working directory, and the filters that make its runs' snapshots the
/// same on every machine.
struct Workdir {
    dir: tempfile::TempDir,
    settings: insta::Settings,
}

impl Workdir {
    fn new() -> Workdir {
        let mut work = Workdir::keeping_timestamps();
        work.settings.add_filter(
            r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[TIMESTAMP]",
        );
        work
    }

    /// For runs whose timestamps are their input's data (a snapshot's, a fixed
    /// `-as-of`), not the clock's.
    fn keeping_timestamps() -> Workdir {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = insta::Settings::clone_current();
        let mut temps = vec![dir.path().display().to_string()];
        if let Ok(canonical) = dir.path().canonicalize() {
            temps.push(canonical.display().to_string());
        }
        // The longer first, so that `/private/var/…` is not left half masked.
        temps.sort_by_key(|t| std::cmp::Reverse(t.len()));
        for temp in temps {
            settings.add_filter(&regex::escape(&temp), "[TEMP]");
        }
        settings.add_filter(&regex::escape(env!("CARGO_MANIFEST_DIR")), "[REPO]");
        settings.add_filter(r"\b\d+(\.\d+)? ?(ns|µs|ms)\b|\b\d+\.\d+ ?s\b", "[TIME]");
        Workdir { dir, settings }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `decom args` here and asserts the snapshot `name` of the run.
    fn snapshot(&self, name: &str, args: &[&str]) {
        self.snapshot_normalized(name, args, |run| run);
    }

    /// As `snapshot`, with `normalize` applied to the formatted run first.
    fn snapshot_normalized(&self, name: &str, args: &[&str], normalize: fn(String) -> String) {
        let run = normalize(run(self.path(), args));
        self.settings
            .bind(|| insta::assert_snapshot!(name.to_string(), run));
    }
}

/// One run of `decom` in `cwd` with no terminal, no colour and no environment that
/// changes its output, formatted as `$ command`, the exit code, stdout and stderr.
fn run(cwd: &Path, args: &[&str]) -> String {
    let output = Command::new(decom_binary())
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .env("COLUMNS", "100")
        .env_remove("AWS_PROFILE")
        .env_remove("DECOM_PLAN_SIGNING_KEY")
        .stdin(Stdio::null())
        .output()
        .expect("decom runs");
    let code = output
        .status
        .code()
        .map_or_else(|| "none (a signal)".to_string(), |c| c.to_string());
    format!(
        "$ decom {}\nsuccess: {}\nexit_code: {code}\n----- stdout -----\n{}\n----- stderr -----\n{}",
        args.join(" "),
        output.status.success(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

/// The steps of a wave run in parallel, so their progress lines interleave as the
/// scheduler goes: group the lines of each step (`[n] …`), in step order, and mask
/// the completion counter `(k/N)`. Each step's own lines keep their order.
fn group_step_lines(run: String) -> String {
    let step =
        |line: &str| -> Option<usize> { line.strip_prefix('[')?.split_once("] ")?.0.parse().ok() };
    let counter = regex::Regex::new(r"\(\d+/(\d+)\)$").expect("regex");
    let mut out: Vec<String> = Vec::new();
    let mut block: Vec<(usize, String)> = Vec::new();
    let flush = |block: &mut Vec<(usize, String)>, out: &mut Vec<String>| {
        block.sort_by_key(|(n, _)| *n);
        out.extend(block.drain(..).map(|(_, line)| line));
    };
    for line in run.split('\n') {
        match step(line) {
            Some(n) => block.push((n, counter.replace(line, "([N]/$1)").into_owned())),
            None => {
                flush(&mut block, &mut out);
                out.push(line.to_string());
            }
        }
    }
    flush(&mut block, &mut out);
    out.join("\n")
}

fn fixture(path: &str) -> String {
    fixtures_dir().join(path).display().to_string()
}

const EXAMPLES: [&str; 4] = [
    "ecs-story-5.8",
    "ecs-story-5.8-blocked",
    "otel-telemetry",
    "tricky",
];

#[test]
fn validate_every_fixture_spec() {
    let work = Workdir::new();
    for (name, spec) in FIXTURES {
        let spec_dir = fixture(&format!("{name}/{spec}"));
        work.snapshot(&format!("validate-{name}-{spec}"), &["validate", &spec_dir]);
    }
    let inventory = fixture("ecs-story-5.8/inventory.json");
    work.snapshot(
        "validate-with-inventory",
        &[
            "validate",
            &fixture("ecs-story-5.8/spec-optin"),
            "--inventory",
            &inventory,
        ],
    );
}

/// Every bundled example in the three formats; the blocked ones exit 1.
#[test]
fn plan_every_example_in_every_format() {
    let work = Workdir::new();
    for example in EXAMPLES {
        let flag = format!("--example={example}");
        work.snapshot(&format!("plan-{example}"), &["plan", &flag]);
        work.snapshot(&format!("plan-{example}-json"), &["plan", &flag, "-json"]);
        work.snapshot(
            &format!("plan-{example}-markdown"),
            &["plan", &flag, "-markdown"],
        );
    }
}

/// A spec directory and a snapshot file named by path; `tricky/spec` is the fixture
/// no example bundles.
#[test]
fn plan_a_fixture_spec_against_its_snapshot() {
    let work = Workdir::new();
    let spec = fixture("tricky/spec");
    let inventory = fixture("tricky/inventory.json");
    let base = ["plan", spec.as_str(), "--inventory", inventory.as_str()];
    work.snapshot("plan-tricky-spec", &base);
    work.snapshot("plan-tricky-spec-json", &[&base[..], &["-json"]].concat());
    work.snapshot(
        "plan-tricky-spec-markdown",
        &[&base[..], &["-markdown"]].concat(),
    );
    work.snapshot(
        "plan-tricky-spec-detailed-exitcode",
        &[&base[..], &["-detailed-exitcode"]].concat(),
    );
}

/// plan -out, show the saved plan, apply it on the fixture's snapshot into a state
/// directory of the working directory, then apply it again.
#[test]
fn plan_out_show_and_apply_a_saved_plan() {
    let work = Workdir::new();
    let spec = fixture("ecs-story-5.8/spec-optin");
    let inventory = fixture("ecs-story-5.8/inventory.json");
    work.snapshot(
        "plan-out",
        &[
            "plan",
            &spec,
            "--inventory",
            &inventory,
            "-out",
            "p.plan",
            "-detailed-exitcode",
        ],
    );
    work.snapshot("show", &["show", "p.plan"]);
    work.snapshot("show-markdown", &["show", "p.plan", "-markdown"]);
    let apply = [
        "apply",
        "p.plan",
        "--inventory",
        &inventory,
        "-auto-approve",
        "--state-dir",
        "state",
    ];
    work.snapshot_normalized("apply-saved-plan", &apply, group_step_lines);
    work.snapshot("apply-saved-plan-again", &apply);
}

#[test]
fn graph_as_dot_and_mermaid() {
    let work = Workdir::new();
    let spec = fixture("otel-telemetry/spec");
    let inventory = fixture("otel-telemetry/inventory.json");
    let base = ["graph", spec.as_str(), "--inventory", inventory.as_str()];
    work.snapshot("graph-dot", &base);
    work.snapshot(
        "graph-mermaid",
        &[&base[..], &["--format", "mermaid"]].concat(),
    );
}

/// A JSON plan against a plan file (exit 2: they differ), then a plan against
/// itself (exit 0).
#[test]
fn diff_two_plans() {
    let work = Workdir::new();
    let inventory = fixture("ecs-story-5.8/inventory.json");
    let old = decom(
        &[
            "plan",
            &fixture("ecs-story-5.8/spec"),
            "--inventory",
            &inventory,
            "-json",
        ],
        work.path(),
    );
    assert_eq!(
        old.status.code(),
        Some(1),
        "the spec without opt-ins is blocked"
    );
    std::fs::write(work.path().join("old.json"), &old.stdout).expect("write old.json");
    let new = decom(
        &[
            "plan",
            &fixture("ecs-story-5.8/spec-optin"),
            "--inventory",
            &inventory,
            "-out",
            "new.plan",
        ],
        work.path(),
    );
    assert_eq!(new.status.code(), Some(0), "{}", text(&new.stderr));
    work.snapshot("diff", &["diff", "old.json", "new.plan"]);
    work.snapshot("diff-identical", &["diff", "new.plan", "new.plan"]);
}

/// The labelled audit fixture, as of the day its labels hold: its timestamps are the
/// fixture's, so they stay.
#[test]
fn audit_the_audit_fixture() {
    let work = Workdir::keeping_timestamps();
    let inventory = fixture("audit/inventory.json");
    let base = [
        "audit",
        "--inventory",
        inventory.as_str(),
        "-as-of",
        "2026-11-21T12:00:00Z",
    ];
    work.snapshot(
        "audit-detailed-exitcode",
        &[&base[..], &["-detailed-exitcode"]].concat(),
    );
    work.snapshot("audit-json", &[&base[..], &["-json"]].concat());
}

/// Errors: every diagnostic of a bad spec with file, line, column and a caret
/// snippet; an unknown flag.
#[test]
fn errors_name_where_and_exit_1() {
    let work = Workdir::new();
    std::fs::write(
        work.path().join("main.hcl"),
        "decommission \"x\" {\n  absent \"aws_lbb\" { names = [\"a\"] }\n  absent \"aws_lb\" { name_glob = \"[\" }\n}\n",
    )
    .expect("write spec");
    work.snapshot("error-bad-spec", &["validate", "."]);
    work.snapshot("error-unknown-flag", &["plan", "--frobnicate"]);
}
