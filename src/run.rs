//! The commands: each resolves its arguments, runs the engine, prints data on
//! stdout and everything else on stderr, and returns the exit code.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use clap::CommandFactory;
use decom::apply::{self, ApplyOptions};
use decom::guard::{self, AccountGuard};
use decom::plan::{Plan, build_plan};
use decom::planfile::{Connection, PLAN_FILE_FORMAT, PlanFile, RecordedRole, SIGNING_KEY_ENV};
use decom::render::{self, MarkdownOptions};
use decom::review;
use decom::select::{plan_options, select, types_to_discover};
use decom::spec::{self, LoadOptions, SourceFile, Spec};
use decom_provider::{
    ApiCallStats, CallerIdentity, DiscoveryProgress, DiscoveryRequest, Inventory, NoProgress,
    Provider, ProviderError, ResourceType,
};
use decom_sim::{Knobs, ReadOnlySnapshot, SimProvider};

use crate::cli::{
    ApplyArgs, AuditArgs, Cli, Command, DiffArgs, DiscoverArgs, Example, GraphArgs, GraphFormat,
    GuardArgs, PlanArgs, ShowArgs, SourceArgs, SpecArgs, ValidateArgs,
};
use crate::examples;
use crate::progress::{ApplyProgress, DiscoveryBars, bars_wanted};

pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_CHANGES: i32 = 2;

/// The journal of an apply run, in the plan's state directory (`decom::apply`).
const JOURNAL_FILE: &str = "journal.jsonl";

pub fn run(cli: Cli) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Validate(args) => validate(args).await,
            Command::Plan(args) => plan(args).await,
            Command::Apply(args) => apply_command(args).await,
            Command::Show(args) => show(args),
            Command::Graph(args) => graph(args).await,
            Command::Discover(args) => discover(args).await,
            Command::Diff(args) => diff(args),
            Command::Audit(args) => audit_command(args).await,
            Command::Completions { shell } => {
                // Generated into memory: clap_complete panics when its writer fails,
                // and a closed pipe is no reason to.
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "decom", &mut script);
                std::io::stdout().lock().write_all(&script)?;
                Ok(EXIT_OK)
            }
        }
    })
}

/// Whether the error is a closed standard output (`decom plan | head -1`): the reader
/// has what it wanted, so the command ends quietly with success, as ripgrep does.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The message for an error that ends a command: `Error: ` and the error, then each
/// cause the message does not already say (error types here put their source in
/// their own message, so printing the chain repeated the OS error). Spec
/// diagnostics arrive rendered, `error:` lines and snippets, and stand as they are.
pub fn error_message(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    if message.starts_with("error:") || message.starts_with("warning:") {
        message
    } else {
        format!("Error: {message}")
    }
}

fn load_options(args: &SpecArgs) -> Result<LoadOptions> {
    let vars = args
        .vars
        .iter()
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    anyhow!("-var `{v}` is not NAME=VALUE\n  hint: write -var 'service=lego-api'")
                })
        })
        .collect::<Result<_>>()?;
    Ok(LoadOptions {
        vars,
        var_files: args.var_files.clone(),
    })
}

fn load_spec(path: &Path, args: &SpecArgs) -> Result<Spec> {
    spec::load(path, &load_options(args)?).map_err(|diagnostics| anyhow!("{diagnostics}"))
}

/// The account a command works on: a snapshot read as is, a snapshot through the
/// simulator (for `apply`, which changes it), or AWS.
enum Account {
    Snapshot(ReadOnlySnapshot),
    Sim(Arc<SimProvider>),
    Aws(Arc<decom_aws::AwsProvider>),
}

/// What a command does to the account: a snapshot is simulated only to be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Change,
}

impl Account {
    /// The provider `apply` changes the account through.
    fn provider(&self) -> Result<Arc<dyn Provider>> {
        match self {
            Account::Snapshot(_) => {
                bail!("internal error: a snapshot opened read-only cannot be changed")
            }
            Account::Sim(sim) => Ok(sim.clone()),
            Account::Aws(aws) => Ok(aws.clone()),
        }
    }

    async fn caller_identity(&mut self) -> Result<CallerIdentity, ProviderError> {
        match self {
            Account::Snapshot(snapshot) => Ok(snapshot.caller_identity()),
            Account::Sim(sim) => sim.caller_identity().await,
            Account::Aws(aws) => aws.caller_identity().await,
        }
    }

    /// A real AWS account, as opposed to a snapshot or its simulation.
    fn is_live(&self) -> bool {
        matches!(self, Account::Aws(_))
    }

    fn api_calls(&self) -> ApiCallStats {
        match self {
            Account::Snapshot(snapshot) => snapshot.api_calls().clone(),
            Account::Sim(sim) => sim.api_calls(),
            Account::Aws(aws) => aws.api_calls(),
        }
    }

    /// The regions to discover: the spec's, else the snapshot's or AWS_REGION.
    fn regions(&self, spec: Option<&Spec>, explicit: &[String]) -> Result<Vec<String>> {
        if !explicit.is_empty() {
            return Ok(explicit.to_vec());
        }
        if let Some(regions) = spec
            .and_then(|s| s.provider.as_ref())
            .map(|p| p.regions.clone())
            .filter(|r| !r.is_empty())
        {
            return Ok(regions);
        }
        match self {
            Account::Snapshot(snapshot) => Ok(snapshot.regions().to_vec()),
            Account::Sim(sim) => Ok(sim.regions()),
            Account::Aws(aws) => Ok(aws.regions().to_vec()),
        }
    }
}

async fn connect(
    source: &SourceArgs,
    spec: Option<&Spec>,
    regions: &[String],
    access: Access,
) -> Result<Account> {
    let provider_block = spec.and_then(|s| s.provider.as_ref());
    let regions = if regions.is_empty() {
        provider_block
            .map(|p| p.regions.clone())
            .unwrap_or_default()
    } else {
        regions.to_vec()
    };
    connect_with(
        source,
        spec.and_then(connection_of).as_ref(),
        regions,
        access,
    )
    .await
}

/// The profile and role of the spec's provider block, recorded in plan files.
fn connection_of(spec: &Spec) -> Option<Connection> {
    spec.provider.as_ref().map(|p| Connection {
        profile: p.profile.clone(),
        assume_role: p.assume_role.as_ref().map(|r| RecordedRole {
            role_arn: r.role_arn.clone(),
            session_name: r.session_name.clone(),
            external_id: r.external_id.clone(),
        }),
    })
}

async fn connect_with(
    source: &SourceArgs,
    connection: Option<&Connection>,
    regions: Vec<String>,
    access: Access,
) -> Result<Account> {
    if let Some(path) = &source.inventory {
        return match access {
            Access::Read => Ok(Account::Snapshot(
                ReadOnlySnapshot::load(path).map_err(|e| anyhow!("{e}"))?,
            )),
            Access::Change => Ok(Account::Sim(Arc::new(
                SimProvider::load(path, Knobs::default()).map_err(|e| anyhow!("{e}"))?,
            ))),
        };
    }
    let settings = decom_aws::AwsSettings {
        regions,
        profile: connection.and_then(|c| c.profile.clone()),
        assume_role: connection.and_then(|c| c.assume_role.as_ref()).map(|r| {
            decom_aws::AssumeRole {
                role_arn: r.role_arn.clone(),
                session_name: r.session_name.clone(),
                external_id: r.external_id.clone(),
            }
        }),
    };
    let aws = decom_aws::AwsProvider::new(settings)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok(Account::Aws(Arc::new(aws)))
}

/// The account guard: who the credentials belong to, checked against the spec and
/// `--allowed-account-id` before any other call; regions outside the spec's list are
/// refused before any call. `change`: the command changes the account, which on a
/// live account requires a guard.
async fn guard(
    account: &mut Account,
    guard: AccountGuard<'_>,
    regions: &[String],
    change: bool,
) -> Result<CallerIdentity> {
    guard.check_regions(regions)?;
    let identity = account.caller_identity().await.map_err(|e| {
        anyhow!(
            "cannot tell which account the credentials belong to: {e}\n  hint: configure AWS credentials (AWS_PROFILE, `aws sso login`, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or plan offline against a snapshot with --inventory FILE"
        )
    })?;
    guard.check_account(&identity, change && account.is_live())?;
    Ok(identity)
}

/// The guard of a spec (its provider block) and the command line.
fn account_guard<'a>(spec: Option<&'a Spec>, args: &'a GuardArgs) -> AccountGuard<'a> {
    AccountGuard {
        provider: spec.and_then(|s| s.provider.as_ref()),
        flag: &args.allowed_account_ids,
    }
}

async fn discover_inventory(
    account: &mut Account,
    request: &DiscoveryRequest,
    no_progress: bool,
) -> Result<Inventory> {
    let result = match account {
        Account::Snapshot(snapshot) => {
            return snapshot.discover(request).map_err(|e| anyhow!("{e}"));
        }
        Account::Sim(sim) => sim.discover(request, &NoProgress).await,
        Account::Aws(aws) if bars_wanted(no_progress) => {
            let bars = DiscoveryBars::new();
            let result = aws.discover(request, &bars as &dyn DiscoveryProgress).await;
            bars.finish();
            result
        }
        Account::Aws(aws) => aws.discover(request, &NoProgress).await,
    };
    result.map_err(|e| {
        anyhow!("discovery failed, so no plan is made (a partial inventory could hide a dependency): {e}")
    })
}

fn print_stats(account: &Account) {
    let calls = account.api_calls();
    let total: u64 = calls.values().sum();
    eprintln!("API calls: {total}");
    for (operation, count) in calls {
        eprintln!("  {count:>6}  {operation}");
    }
    if let Some(mb) = peak_memory_mb() {
        eprintln!("Peak memory: {mb} MB");
    }
}

/// The process's peak resident memory, where the OS tells it (Linux's `VmHWM`).
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}

/// Spec + account -> plan, with the selector warnings printed on stderr.
struct Planned {
    plan: Plan,
    inventory: Inventory,
    spec: Spec,
    account: Account,
    identity: CallerIdentity,
}

async fn plan_spec(
    spec: Spec,
    mut account: Account,
    guard_args: &GuardArgs,
    access: Access,
    no_progress: bool,
) -> Result<Planned> {
    let regions = account.regions(Some(&spec), &[])?;
    let account_guard = account_guard(Some(&spec), guard_args);
    let identity = guard(
        &mut account,
        account_guard,
        &regions,
        access == Access::Change,
    )
    .await?;
    let unguarded = account.is_live() && !account_guard.is_configured();
    let request = DiscoveryRequest {
        regions,
        types: types_to_discover(&spec),
    };
    let inventory = discover_inventory(&mut account, &request, no_progress).await?;
    let resolved = select(&spec, &inventory);
    for warning in &resolved.warnings {
        eprintln!("{}", spec.render(warning));
    }
    let mut plan = build_plan(
        &inventory,
        &resolved.selection,
        &plan_options(&spec, jiff::Timestamp::now()),
    );
    if unguarded {
        let warning = guard::unguarded_warning(&identity.account_id);
        eprintln!("Warning: {warning}");
        plan.warnings.push(warning);
    }
    Ok(Planned {
        plan,
        inventory,
        spec,
        account,
        identity,
    })
}

async fn validate(args: ValidateArgs) -> Result<i32> {
    let spec = load_spec(&args.spec, &args.spec_args)?;
    if let Some(path) = &args.inventory {
        let inventory = Inventory::load(path).map_err(|e| anyhow!("{e}"))?;
        for warning in select(&spec, &inventory).warnings {
            eprintln!("{}", spec.render(&warning));
        }
    }
    let d = &spec.decommission;
    eprintln!(
        "Success! The spec is valid: decommission {:?} with {} absent and {} keep block(s).",
        d.name,
        d.absent.len(),
        d.keep.len()
    );
    Ok(EXIT_OK)
}

async fn plan(args: PlanArgs) -> Result<i32> {
    let (spec, account) = match args.example {
        Some(example) => {
            let (spec, inventory) = example_inputs(example)?;
            (spec, Account::Snapshot(ReadOnlySnapshot::new(inventory)))
        }
        None => {
            let spec = load_spec(&args.spec, &args.spec_args)?;
            let account = connect(&args.source, Some(&spec), &[], Access::Read).await?;
            (spec, account)
        }
    };
    let planned = plan_spec(
        spec,
        account,
        &args.guard,
        Access::Read,
        args.source.no_progress,
    )
    .await?;
    let plan = &planned.plan;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        plan.write_json(std::io::BufWriter::with_capacity(1 << 16, &mut stdout))?;
    } else if args.markdown {
        write_markdown(&mut stdout, plan, args.max_comment_chars)?;
    } else {
        write!(stdout, "{}", render::text(plan))?;
    }
    drop(stdout);
    if let Some(out) = &args.out {
        let mut file = PlanFile::new(
            plan.clone(),
            &planned.inventory,
            planned.spec.decommission.archive_log_events,
        )
        .with_connection(connection_of(&planned.spec))
        .with_spec(review::embed(&planned.spec));
        if let Some(key) = signing_key() {
            file = file.sign(&key);
        }
        file.write(out)?;
        eprintln!(
            "Saved the plan to {}. To apply exactly this plan: decom apply {}",
            out.display(),
            out.display()
        );
    }
    if args.source.stats {
        print_stats(&planned.account);
    }
    let code = plan_exit_code(plan, args.detailed_exitcode);
    // The process exits next and the OS takes the memory back at once; freeing an
    // account's resources and the plan's steps one by one took 6% of a plan of
    // 100k resources (`perf`, glibc's allocator; docs/performance.md).
    std::mem::forget((planned.plan, planned.inventory));
    Ok(code)
}

/// The plan-signing key, when `DECOM_PLAN_SIGNING_KEY` is set and not empty.
fn signing_key() -> Option<Vec<u8>> {
    std::env::var_os(SIGNING_KEY_ENV)
        .filter(|k| !k.is_empty())
        .map(|k| k.into_encoded_bytes())
}

/// The pull-request comment, in parts shorter than `max_comment_chars`, each part
/// followed by a separator line for whoever posts them one by one.
fn write_markdown(out: &mut impl Write, plan: &Plan, max_comment_chars: usize) -> Result<()> {
    let parts = render::markdown(plan, MarkdownOptions { max_comment_chars });
    let count = parts.len();
    for (i, part) in parts.iter().enumerate() {
        write!(out, "{part}")?;
        if i + 1 < count {
            writeln!(out, "\n<!-- decom: end of part {} of {count} -->\n", i + 1)?;
        }
    }
    Ok(())
}

fn plan_exit_code(plan: &Plan, detailed: bool) -> i32 {
    if !plan.applyable {
        let why = if !plan.complete {
            "the inventory is incomplete".to_string()
        } else if !plan.blockers.is_empty() {
            format!("{} blocker(s)", plan.blockers.len())
        } else {
            "orphans were found and `orphans = \"fail\"`".to_string()
        };
        eprintln!("Error: the plan cannot be applied: {why}.");
        EXIT_ERROR
    } else if detailed && plan.has_changes() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}

fn example_inputs(example: Example) -> Result<(Spec, Inventory)> {
    let (name, spec_text, inventory_text) = examples::files(example);
    let spec = spec::parse_sources(
        vec![SourceFile {
            display_path: format!("<example {name}>/main.hcl"),
            file_name: "main.hcl".to_string(),
            text: spec_text.to_string(),
        }],
        &LoadOptions::default(),
    )
    .map_err(|d| anyhow!("{d}"))?;
    let inventory =
        Inventory::from_json(inventory_text, &format!("<example {name}>/inventory.json"))
            .map_err(|e| anyhow!("{e}"))?;
    Ok((spec, inventory))
}

fn show(args: ShowArgs) -> Result<i32> {
    let file = PlanFile::load(&args.plan_file)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        write!(stdout, "{}", file.plan.to_json())?;
    } else if args.markdown {
        write_markdown(&mut stdout, &file.plan, args.max_comment_chars)?;
    } else {
        write!(stdout, "{}", render::text(&file.plan))?;
    }
    Ok(EXIT_OK)
}

async fn graph(args: GraphArgs) -> Result<i32> {
    let plan = if PlanFile::looks_like_plan_file(&args.target) {
        PlanFile::load(&args.target)?.plan
    } else {
        let spec = load_spec(&args.target, &args.spec_args)?;
        let account = connect(&args.source, Some(&spec), &[], Access::Read).await?;
        plan_spec(
            spec,
            account,
            &GuardArgs::default(),
            Access::Read,
            args.source.no_progress,
        )
        .await?
        .plan
    };
    let text = match args.format {
        GraphFormat::Dot => render::dot(&plan),
        GraphFormat::Mermaid => render::mermaid(&plan),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(EXIT_OK)
}

fn load_plan_for_diff(path: &Path) -> Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if text.contains(&format!("\"{PLAN_FILE_FORMAT}\"")) {
        return Ok(PlanFile::from_json(&text, &path.display().to_string())?.plan);
    }
    serde_json::from_str(&text).with_context(|| {
        format!(
            "`{}` is neither a plan file nor a JSON plan\n  hint: use files written by `decom plan -out FILE` or `decom plan -json`",
            path.display()
        )
    })
}

fn diff(args: DiffArgs) -> Result<i32> {
    let old = load_plan_for_diff(&args.old)?;
    let new = load_plan_for_diff(&args.new)?;
    let d = decom::diff::diff(&old, &new);
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", d.summary())?;
    if !d.is_empty() {
        writeln!(stdout)?;
        write!(stdout, "{}", d.unified)?;
    }
    Ok(if d.is_empty() { EXIT_OK } else { EXIT_CHANGES })
}

async fn discover(args: DiscoverArgs) -> Result<i32> {
    let spec = match &args.spec {
        Some(path) => Some(load_spec(path, &args.spec_args)?),
        None => None,
    };
    let mut account = connect(
        &SourceArgs::default(),
        spec.as_ref(),
        &args.regions,
        Access::Read,
    )
    .await?;
    let regions = account.regions(spec.as_ref(), &args.regions)?;
    if regions.is_empty() {
        bail!(
            "no region to discover\n  hint: pass --region, set AWS_REGION, or list `regions` in the spec's provider block"
        );
    }
    guard(
        &mut account,
        account_guard(spec.as_ref(), &GuardArgs::default()),
        &regions,
        false,
    )
    .await?;
    let types = if args.types.is_empty() {
        ResourceType::ALL.into_iter().collect()
    } else {
        args.types
            .iter()
            .map(|t| {
                t.parse::<ResourceType>().map_err(|e| {
                    anyhow!(
                        "{e}\n  hint: --types takes Terraform type names such as aws_security_group"
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    let inventory = discover_inventory(
        &mut account,
        &DiscoveryRequest { regions, types },
        args.no_progress,
    )
    .await?;
    std::fs::write(&args.output, inventory.to_json())
        .with_context(|| format!("cannot write `{}`", args.output.display()))?;
    eprintln!(
        "Wrote {} resources of account {} to {}.",
        inventory.resources.len(),
        inventory.account_id,
        args.output.display()
    );
    if args.stats {
        print_stats(&account);
    }
    Ok(EXIT_OK)
}

/// `.decomignore` beside the spec (its directory, or the file's), else in the
/// working directory.
fn ignore_file(spec: Option<&Path>) -> std::path::PathBuf {
    let name = decom::audit::IGNORE_FILE_NAME;
    if let Some(path) = spec {
        let dir = if path.is_dir() {
            Some(path)
        } else {
            path.parent()
        };
        if let Some(dir) = dir {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    std::path::PathBuf::from(name)
}

async fn audit_command(args: AuditArgs) -> Result<i32> {
    use decom::audit::{self, AuditOptions, IgnoreRules, TerraformState, TerraformStates};

    let spec = match &args.spec {
        Some(path) => Some(load_spec(path, &args.spec_args)?),
        None => None,
    };
    // Settings first, so a bad state or ignore file fails before any AWS call.
    let states = args
        .tfstates
        .iter()
        .map(|p| TerraformState::load(p).map_err(|e| anyhow!("{e}")))
        .collect::<Result<Vec<_>>>()?;
    let ignore =
        IgnoreRules::load(&ignore_file(args.spec.as_deref())).map_err(|e| anyhow!("{e}"))?;
    let options = AuditOptions {
        now: args.as_of.unwrap_or_else(jiff::Timestamp::now),
        unused_days: args.unused_days,
        terraform: TerraformStates::new(states),
        include_managed: args.include_managed,
        ignore,
    };

    let mut account = connect(&args.source, spec.as_ref(), &args.regions, Access::Read).await?;
    let regions = account.regions(spec.as_ref(), &args.regions)?;
    if regions.is_empty() {
        bail!(
            "no region to audit\n  hint: pass --region, set AWS_REGION, or list `regions` in the spec's provider block"
        );
    }
    guard(
        &mut account,
        account_guard(spec.as_ref(), &GuardArgs::default()),
        &regions,
        false,
    )
    .await?;
    let inventory = discover_inventory(
        &mut account,
        &DiscoveryRequest::everything(regions),
        args.source.no_progress,
    )
    .await?;
    let report = audit::audit(&inventory, &options);

    let mut stdout = std::io::stdout().lock();
    if args.json {
        write!(stdout, "{}", report.to_json())?;
    } else if args.markdown {
        write!(stdout, "{}", audit::markdown(&report))?;
    } else {
        write!(stdout, "{}", audit::text(&report))?;
    }
    drop(stdout);
    if let Some(path) = &args.emit_spec {
        match audit::emit_spec(&report) {
            Some(text) => {
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                eprintln!(
                    "Wrote a spec deleting the {} finding(s) to {}. Review it, then: decom plan {}",
                    report.findings.len(),
                    path.display(),
                    path.display()
                );
            }
            None => eprintln!("No findings: no spec written to {}.", path.display()),
        }
    }
    if args.source.stats {
        print_stats(&account);
    }
    Ok(if args.detailed_exitcode && report.has_findings() {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

async fn apply_command(args: ApplyArgs) -> Result<i32> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let mut notices = Vec::new();
    let (plan_file, account, identity, discovered) = if PlanFile::looks_like_plan_file(&args.target)
    {
        let (file, account, identity, live, notice) = check_plan_file(&args).await?;
        notices.extend(notice);
        (file, account, identity, live)
    } else {
        if args.spec.is_some() {
            bail!(
                "--spec goes with a plan file: `{}` is a spec itself\n  hint: decom apply PLAN_FILE --spec DIR",
                args.target.display()
            );
        }
        let spec = load_spec(&args.target, &args.spec_args)?;
        let account = connect(&args.source, Some(&spec), &[], Access::Change).await?;
        let planned = plan_spec(
            spec,
            account,
            &args.guard,
            Access::Change,
            args.source.no_progress,
        )
        .await?;
        std::io::stdout()
            .lock()
            .write_all(render::text(&planned.plan).as_bytes())?;
        if !planned.plan.applyable {
            plan_exit_code(&planned.plan, false);
            return Ok(EXIT_ERROR);
        }
        if !planned.plan.has_changes() {
            eprintln!("Nothing to do.");
            return Ok(EXIT_OK);
        }
        if !args.auto_approve && !confirm()? {
            eprintln!("Apply cancelled.");
            return Ok(EXIT_ERROR);
        }
        let archive_events = planned.spec.decommission.archive_log_events;
        (
            PlanFile::new(planned.plan, &planned.inventory, archive_events),
            planned.account,
            planned.identity,
            planned.inventory,
        )
    };
    let state_dir = args.state_dir.join(plan_file.id());
    let progress = Arc::new(ApplyProgress::new(
        args.json,
        bars_wanted(args.source.no_progress),
        plan_file.plan.steps.len(),
    ));
    {
        let interrupt = interrupt.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nInterrupted: no new steps start; running steps finish, then the state is recorded. Run apply again to resume."
                );
                interrupt.store(true, Ordering::SeqCst);
            }
        });
    }
    let options = ApplyOptions {
        parallelism: args.parallelism,
        state_dir: state_dir.clone(),
        discovered: Some(Arc::new(discovered)),
    };
    let report = apply::execute(
        &plan_file,
        account.provider()?,
        &identity,
        &options,
        progress.clone(),
        interrupt.clone(),
    )
    .await?;
    progress.finish();
    if let (Some(out), Account::Sim(sim)) = (&args.write_inventory, &account) {
        std::fs::write(out, sim.snapshot().to_json())
            .with_context(|| format!("cannot write `{}`", out.display()))?;
    }
    let s = &report.summary;
    if report.was_already_applied() {
        eprintln!(
            "This plan was already applied: all {} steps are done. Nothing to do.",
            report.steps.len()
        );
    } else if s.deferred > 0 {
        eprintln!(
            "Deferred: not_before = {} is in the future; nothing was changed.",
            plan_file.plan.deferred[0].until
        );
    } else {
        eprintln!(
            "Apply {}: {} completed, {} already gone, {} done earlier, {} failed, {} skipped, {} not run.",
            if report.succeeded() {
                "complete"
            } else {
                "incomplete"
            },
            s.completed,
            s.already_gone,
            s.completed_earlier,
            s.failed,
            s.skipped,
            s.not_run
        );
    }
    eprintln!("Report: {}", state_dir.join("report.md").display());
    if args.source.stats {
        print_stats(&account);
    }
    Ok(if report.succeeded() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}

/// Everything a saved plan must pass before it runs, in this order, each before any
/// call that could change the account: its seal and (with a signing key) its
/// signature; the spec it embeds, against the plan's hash and the spec directory at
/// hand; the account guard; the account re-read and compared with the plan's
/// fingerprints; and the plan re-derived from its spec on that account, where a
/// saved step the spec does not produce is refused. Returns the file, the account,
/// who the caller is, the account as just read, and a notice of resources that now
/// match the spec but are not in the plan.
async fn check_plan_file(
    args: &ApplyArgs,
) -> Result<(PlanFile, Account, CallerIdentity, Inventory, Option<String>)> {
    let path = args.target.display().to_string();
    let file = PlanFile::load(&args.target)?;
    if let Some(key) = signing_key() {
        file.verify_signature(&key, &path)?;
    }
    let spec = review::embedded_spec(&file, &path)?;
    if let Some(dir) = &args.spec {
        let at_hand = load_spec(dir, &args.spec_args)?;
        review::check_spec_dir(&file, &path, &at_hand, &dir.display().to_string())?;
    }
    // The profile and role the plan was made with, as recorded in the file.
    let mut account = connect_with(
        &args.source,
        file.connection.as_ref(),
        file.regions.clone(),
        Access::Change,
    )
    .await?;
    let identity = guard(
        &mut account,
        account_guard(Some(&spec), &args.guard),
        &file.regions,
        true,
    )
    .await?;
    if identity.account_id != file.account_id {
        bail!(
            "refusing to apply: the plan was made for account {}, the credentials are for account {} ({})",
            file.account_id,
            identity.account_id,
            identity.arn
        );
    }
    eprintln!("Checking that the account still matches the plan...");
    let request = DiscoveryRequest {
        regions: file.regions.clone(),
        types: file.types.iter().copied().collect(),
    };
    let live = discover_inventory(&mut account, &request, args.source.no_progress).await?;
    let changes = apply::stale_changes(&file, &live);
    if !changes.is_empty() {
        eprintln!("The account changed since the plan was made:");
        for change in &changes {
            eprintln!("  - {change}");
        }
        bail!(
            "refusing to apply a stale plan\n  hint: run `decom plan -out FILE` again and review the new plan"
        );
    }
    let rederived = review::rederive(&file.plan, &spec, &live, jiff::Timestamp::now());
    // A resumed run executes the file its first run checked (the state directory is
    // named after the file's checksum); the steps that run completed are no longer
    // what the spec derives from the account, so only a first run is held to it.
    let resumed = args.state_dir.join(file.id()).join(JOURNAL_FILE).is_file();
    if !rederived.unreviewed.is_empty() && !resumed {
        eprintln!("Steps in the plan file that its spec does not produce on this account:");
        for step in &rederived.unreviewed {
            eprintln!("  - {step}");
        }
        bail!(
            "refusing to apply `{path}`: {} step(s) were not derived from the reviewed spec\n  hint: the plan file was changed after `decom plan` wrote it; run `decom plan -out` again and review the new plan",
            rederived.unreviewed.len()
        );
    }
    let notice = rederived.notice();
    if let Some(notice) = &notice {
        eprintln!("Note: {notice}");
    }
    Ok((file, account, identity, live, notice))
}

/// Terraform's prompt: only `yes` proceeds; without a terminal, never.
fn confirm() -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to apply without confirmation: stdin is not a terminal\n  hint: review the plan, then pass -auto-approve, or apply a saved plan file"
        );
    }
    eprint!(
        "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}
