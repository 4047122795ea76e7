//! The command line: clap definitions only, with Terraform's single-dash spellings
//! (`-out`, `-json`, `-var`, `-auto-approve`, …) accepted beside the double-dash ones.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::LazyLock;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "decom",
    version,
    long_version = LONG_VERSION.as_str(),
    about = "Declarative, reviewable AWS decommissioning: plan what must be gone, then apply it in dependency order.",
    long_about = None,
    after_help = "Exit codes: 0 success (no changes with -detailed-exitcode), 1 error or blocked plan, 2 changes present (with -detailed-exitcode)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// On failure, also print each failed call's full error chain (so does setting
    /// RUST_LOG).
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
}

/// `decom --version`, laid out as `terraform version`: the version and the commit it
/// was built from, then the target (`-V` prints the version alone). The build script
/// (build.rs) supplies the commit, empty when the build could not tell.
static LONG_VERSION: LazyLock<String> = LazyLock::new(|| {
    long_version(
        env!("CARGO_PKG_VERSION"),
        env!("DECOM_BUILD_COMMIT"),
        env!("DECOM_BUILD_TARGET"),
    )
});

fn long_version(version: &str, commit: &str, target: &str) -> String {
    let commit = match commit {
        "" => String::new(),
        commit => format!(" (commit {commit})"),
    };
    format!("v{version}{commit}\non {target}")
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec without touching any account.
    Validate(ValidateArgs),
    /// Discover the account and print the ordered deletion plan.
    Plan(PlanArgs),
    /// Execute a saved plan, or plan a spec and execute it after confirmation.
    Apply(ApplyArgs),
    /// Render a saved plan file.
    Show(ShowArgs),
    /// Print the plan's step graph as DOT or Mermaid.
    Graph(GraphArgs),
    /// Export the live account as a snapshot, for offline review and planning.
    Discover(DiscoverArgs),
    /// Compare two plans (plan files or JSON plans): a summary, then a unified diff.
    Diff(DiffArgs),
    /// Undo an apply from its archive: print the restore plan (what is recreated, in
    /// dependency order, and what cannot be), then execute it after confirmation.
    Restore(RestoreArgs),
    /// Report standing orphans: unused security groups, target groups, load
    /// balancers, instance profiles, policies, roles and log groups.
    Audit(AuditArgs),
    /// Check the credentials, the account guard, each region and every permission
    /// decom needs, without changing anything.
    Doctor(DoctorArgs),
    /// Write a commented main.hcl for the account and region of the credentials.
    Init(InitArgs),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args, Clone, Default)]
pub struct SpecArgs {
    /// Set a variable: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from an HCL file of `name = value` lines (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// Work on this snapshot (from `decom discover` or a fixture) instead of the live
    /// account: plan, graph and audit read it as is; apply changes it through the
    /// simulator.
    #[arg(long, value_name = "SNAPSHOT")]
    pub inventory: Option<PathBuf>,
    /// Print API calls per operation, and the peak memory where the OS tells it, on
    /// stderr when done.
    #[arg(long)]
    pub stats: bool,
    /// No progress bars.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Spec directory or .hcl file.
    #[arg(default_value = ".")]
    pub spec: PathBuf,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    /// Also resolve the selectors against this snapshot and warn about those that
    /// match nothing.
    #[arg(long, value_name = "SNAPSHOT")]
    pub inventory: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Example {
    /// The story-5.8 ECS service (with the opt-ins that make it applyable).
    #[value(name = "ecs-story-5.8")]
    EcsStory,
    /// The same without opt-ins: blockers.
    #[value(name = "ecs-story-5.8-blocked")]
    EcsStoryBlocked,
    /// The legacy telemetry stack of an OpenTelemetry cutover.
    #[value(name = "otel-telemetry")]
    OtelTelemetry,
    /// Cycles, deletion protection, shared policies, service-managed interfaces.
    #[value(name = "tricky")]
    Tricky,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Spec directory or .hcl file.
    #[arg(default_value = ".")]
    pub spec: PathBuf,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Plan a bundled example (spec and snapshot built in; no AWS needed).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "ecs-story-5.8", conflicts_with_all = ["inventory"])]
    pub example: Option<Example>,
    /// Print the plan as JSON (docs/plan-format.md).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the plan as Markdown for a pull-request comment.
    #[arg(long)]
    pub markdown: bool,
    /// With -markdown: split into parts shorter than this.
    #[arg(long, default_value_t = decom::render::MarkdownOptions::default().max_comment_chars)]
    pub max_comment_chars: usize,
    /// Save the plan to FILE, for `decom apply FILE` and `decom show FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub guard: GuardArgs,
}

#[derive(Debug, Args, Clone, Default)]
pub struct GuardArgs {
    /// Work only on this account (repeatable), besides the spec's
    /// `allowed_account_ids`; `apply` on a live account requires one or the other.
    #[arg(long = "allowed-account-id", value_name = "ACCOUNT_ID", value_parser = account_id)]
    pub allowed_account_ids: Vec<String>,
}

fn at_least_one(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("at least 1 step must run at a time".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err("a whole number of steps, e.g. 10".to_string()),
    }
}

fn account_id(value: &str) -> Result<String, String> {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_string())
    } else {
        Err("an AWS account id is 12 digits, e.g. 123456789012".to_string())
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan file from `decom plan -out`, or a spec directory / .hcl file.
    #[arg(default_value = ".")]
    pub target: PathBuf,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Steps making calls at once (at least 1); a step that only waits for AWS frees
    /// its slot.
    #[arg(long, default_value_t = 10, value_parser = at_least_one)]
    pub parallelism: usize,
    /// With a plan file: the spec directory it must have been made from (the
    /// reviewed commit's, in CI); refused when it differs.
    #[arg(long, value_name = "DIR")]
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub guard: GuardArgs,
    /// Stream events as NDJSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Where journals, archives and reports go (one directory per plan).
    #[arg(long, default_value = ".decom")]
    pub state_dir: PathBuf,
    /// With --inventory: write the simulated account after apply as a snapshot.
    #[arg(long, value_name = "FILE", requires = "inventory")]
    pub write_inventory: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// An apply run's directory (`.decom/<plan id>`) or its `archive/`, or a restore
    /// plan saved with `-out`.
    pub source: PathBuf,
    #[command(flatten)]
    pub source_args: SourceArgs,
    /// Restore only this address (as the plans print it) and whatever it needs
    /// (repeatable).
    #[arg(long = "only", value_name = "ADDRESS")]
    pub only: Vec<String>,
    /// Register the archived targets in recreated target groups.
    #[arg(long)]
    pub register_targets: bool,
    /// The desired count of recreated ECS services (default 0: the service is back,
    /// running nothing, until it is scaled up).
    #[arg(long, value_name = "N")]
    pub desired_count: Option<u32>,
    /// Print the restore plan as JSON (the format of a saved restore plan) and stop.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the restore plan as Markdown and stop.
    #[arg(long)]
    pub markdown: bool,
    /// Save the restore plan to FILE and stop; `decom restore FILE` executes it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Steps making calls at once (at least 1).
    #[arg(long, default_value_t = 10, value_parser = at_least_one)]
    pub parallelism: usize,
    /// Restore into this account; default: the account the archived run changed.
    /// Any other account is refused.
    #[arg(long, value_name = "ACCOUNT_ID", value_parser = account_id)]
    pub account: Option<String>,
    /// With --inventory: write the simulated account after the restore as a snapshot.
    #[arg(long, value_name = "FILE", requires = "inventory")]
    pub write_inventory: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub plan_file: PathBuf,
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    #[arg(long)]
    pub markdown: bool,
    #[arg(long, default_value_t = decom::render::MarkdownOptions::default().max_comment_chars)]
    pub max_comment_chars: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// A plan file, or a spec directory / .hcl file.
    #[arg(default_value = ".")]
    pub target: PathBuf,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Spec directory or .hcl file whose provider block (regions, account guard,
    /// profile, role) to use; without it, the standard AWS configuration.
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    /// Where to write the snapshot.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Only these types (comma separated Terraform names).
    #[arg(long, value_delimiter = ',')]
    pub types: Vec<String>,
    /// Regions (repeatable); default: the spec's, else AWS_REGION.
    #[arg(long = "region")]
    pub regions: Vec<String>,
    #[arg(long)]
    pub stats: bool,
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Spec directory or .hcl file whose provider block (regions, account guard,
    /// profile, role) to use; without it, the standard AWS configuration. Its
    /// directory's .decomignore is read (else the working directory's).
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Regions (repeatable); default: the spec's, else the snapshot's or AWS_REGION.
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// A Terraform state file (format version 4) whose resources count as managed
    /// (repeatable).
    #[arg(long = "tfstate", value_name = "FILE")]
    pub tfstates: Vec<PathBuf>,
    /// Roles and log groups unused for this many days are findings.
    #[arg(long, value_name = "N", default_value_t = decom::audit::DEFAULT_UNUSED_DAYS)]
    pub unused_days: u32,
    /// Also list findings that a Terraform state manages.
    #[arg(long)]
    pub include_managed: bool,
    /// Write a spec that deletes exactly the listed findings.
    #[arg(long, value_name = "FILE")]
    pub emit_spec: Option<PathBuf>,
    /// Measure ages from this RFC 3339 time instead of now (for reproducible audits
    /// of a snapshot).
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<jiff::Timestamp>,
    /// Print the report as JSON (docs/audit.md).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the report as Markdown.
    #[arg(long)]
    pub markdown: bool,
    /// Exit 0 when there are no findings, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Spec directory or .hcl file whose provider block (regions, account guard,
    /// profile, role) to use; without it, the standard AWS configuration.
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    /// Regions (repeatable); default: the spec's, else AWS_REGION.
    #[arg(long = "region")]
    pub regions: Vec<String>,
    #[command(flatten)]
    pub guard: GuardArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("selector").required(true).multiple(true).args(["tag", "name_prefix"])))]
pub struct InitArgs {
    /// The directory to write main.hcl into (made if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The first `absent` selector: every resource with this tag, KEY=VALUE (e.g.
    /// Service=lego-api).
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
    /// The first `absent` selector: every resource whose name starts with NAME.
    #[arg(long, value_name = "NAME")]
    pub name_prefix: Option<String>,
    /// Regions (repeatable); default: AWS_REGION or the profile's.
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// Overwrite an existing main.hcl.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub old: PathBuf,
    pub new: PathBuf,
}

/// Long options Terraform users type with one dash.
const SINGLE_DASH_LONG: &[&str] = &[
    "out",
    "json",
    "markdown",
    "var",
    "var-file",
    "detailed-exitcode",
    "auto-approve",
    "parallelism",
    "inventory",
    "example",
    "state-dir",
    "format",
    "types",
    "region",
    "stats",
    "no-progress",
    "max-comment-chars",
    "write-inventory",
    "tfstate",
    "unused-days",
    "include-managed",
    "emit-spec",
    "as-of",
    "allowed-account-id",
    "spec",
    "verbose",
    "tag",
    "name-prefix",
    "force",
];

/// Rewrites `-out=FILE`, `-json`, … to their `--` form so clap parses them.
/// Arguments that are not UTF-8 (a path on Unix may be any bytes) pass unchanged.
pub fn normalize_args<A: Into<OsString>>(args: impl IntoIterator<Item = A>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut after_separator = false;
    for arg in args {
        let arg: OsString = arg.into();
        if arg == "--" {
            after_separator = true;
        }
        if let Some(text) = arg.to_str()
            && !after_separator
            && text.starts_with('-')
            && !text.starts_with("--")
            && text.len() > 2
        {
            let name = text[1..].split('=').next().unwrap_or_default();
            if SINGLE_DASH_LONG.contains(&name) {
                out.push(format!("-{text}").into());
                continue;
            }
        }
        out.push(arg);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_the_commit_and_the_target_as_terraform_does() {
        assert_eq!(
            long_version("0.1.0", "1a2b3c4d5e6f", "x86_64-unknown-linux-musl"),
            "v0.1.0 (commit 1a2b3c4d5e6f)\non x86_64-unknown-linux-musl"
        );
        // A build that could not tell the commit (no git, no crate metadata) says so
        // by leaving it out.
        assert_eq!(
            long_version("0.1.0", "", "aarch64-apple-darwin"),
            "v0.1.0\non aarch64-apple-darwin"
        );

        let error = Cli::try_parse_from(["decom", "--version"]).expect_err("--version exits");
        assert_eq!(error.kind(), clap::error::ErrorKind::DisplayVersion);
        let printed = error.render().to_string();
        let target = env!("DECOM_BUILD_TARGET");
        assert!(!target.is_empty(), "build.rs sets the target");
        assert_eq!(
            printed.lines().collect::<Vec<_>>(),
            [
                format!("decom v{}{}", env!("CARGO_PKG_VERSION"), commit_note()),
                format!("on {target}"),
            ],
        );
        let short = Cli::try_parse_from(["decom", "-V"]).expect_err("-V exits");
        assert_eq!(
            short.render().to_string().trim_end(),
            format!("decom {}", env!("CARGO_PKG_VERSION"))
        );
    }

    fn commit_note() -> String {
        match env!("DECOM_BUILD_COMMIT") {
            "" => String::new(),
            commit => format!(" (commit {commit})"),
        }
    }

    /// Built from a git checkout of the repository, the binary names the commit at
    /// HEAD, the one it was built from: the build script runs again when HEAD moves.
    #[test]
    fn version_commit_is_head_of_the_checkout() {
        let root = env!("CARGO_MANIFEST_DIR");
        let head = std::process::Command::new("git")
            .args(["rev-parse", "--show-toplevel", "HEAD"])
            .current_dir(root)
            .output();
        let Ok(head) = head else {
            return; // no git here: nothing to compare with
        };
        let out = String::from_utf8_lossy(&head.stdout);
        let mut lines = out.lines();
        let (Some(top), Some(commit)) = (lines.next(), lines.next()) else {
            return;
        };
        if std::fs::canonicalize(top).ok() != std::fs::canonicalize(root).ok() {
            return; // not this repository's checkout
        }
        assert_eq!(env!("DECOM_BUILD_COMMIT"), &commit[..12]);
    }

    #[test]
    fn terraform_spellings_are_accepted() {
        let args = normalize_args(
            [
                "decom",
                "plan",
                "-out=p.json",
                "-json",
                "-var",
                "a=b",
                "-o",
                "x",
                "--",
                "-json",
            ]
            .map(String::from),
        );
        assert_eq!(
            args,
            [
                "decom",
                "plan",
                "--out=p.json",
                "--json",
                "--var",
                "a=b",
                "-o",
                "x",
                "--",
                "-json"
            ]
        );
        let cli = Cli::try_parse_from(normalize_args(
            [
                "decom",
                "plan",
                "spec",
                "-out",
                "f",
                "-detailed-exitcode",
                "-var=a=b",
            ]
            .map(String::from),
        ))
        .expect("parses");
        let Command::Plan(plan) = cli.command else {
            panic!("plan")
        };
        assert_eq!(plan.out.as_deref(), Some(std::path::Path::new("f")));
        assert!(plan.detailed_exitcode);
        assert_eq!(plan.spec_args.vars, ["a=b"]);
    }

    #[test]
    fn verbose_is_global_in_both_spellings() {
        for args in [
            &["decom", "-verbose", "doctor"][..],
            &["decom", "doctor", "-v"][..],
            &["decom", "plan", "--verbose", "-json"][..],
        ] {
            let cli = Cli::try_parse_from(normalize_args(args.iter().copied()))
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert!(cli.verbose, "{args:?}");
        }
        let cli = Cli::try_parse_from(["decom", "doctor"]).expect("parses");
        assert!(!cli.verbose);
    }

    #[test]
    fn init_needs_a_selector() {
        let parse = |args: &[&str]| Cli::try_parse_from(normalize_args(args.iter().copied()));
        assert!(parse(&["decom", "init"]).is_err());
        let cli = parse(&["decom", "init", "spec", "-tag", "Service=web"]).expect("parses");
        let Command::Init(init) = cli.command else {
            panic!("init")
        };
        assert_eq!(init.tag.as_deref(), Some("Service=web"));
        assert!(parse(&["decom", "init", "-name-prefix=web"]).is_ok());
    }
}
