//! The commands: each resolves its arguments, runs the library's session, prints
//! data on stdout and everything else on stderr, and returns the exit code.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use clap::CommandFactory;
use decom::plan::Plan;
use decom::planfile::{PLAN_FILE_FORMAT, PlanFile, SIGNING_KEY_ENV};
use decom::render::{self, MarkdownOptions};
use decom::review;
use decom::select::select;
use decom::session::{self, Access, Account, Planned};
use decom::spec::{self, LoadOptions, SourceFile, Spec};
use decom_provider::{DiscoveryProgress, Inventory, NoProgress, ResourceType};
use decom_sim::ReadOnlySnapshot;

use super::args::{
    AuditArgs, Cli, Command, DiffArgs, DiscoverArgs, Example, GraphArgs, GraphFormat, GuardArgs,
    PlanArgs, ShowArgs, SpecArgs, ValidateArgs,
};
use super::progress::{DiscoveryBars, bars_wanted};
use super::{doctor, examples, init};

pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_CHANGES: i32 = 2;

pub fn run(cli: Cli) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Validate(args) => validate(args).await,
            Command::Plan(args) => plan(args).await,
            Command::Apply(args) => super::apply::apply_command(args).await,
            Command::Show(args) => show(args),
            Command::Graph(args) => graph(args).await,
            Command::Discover(args) => discover(args).await,
            Command::Diff(args) => diff(args),
            Command::Audit(args) => audit_command(args).await,
            Command::Restore(args) => super::restore::restore_command(args).await,
            Command::Doctor(args) => doctor::run(args).await,
            Command::Init(args) => init::run(args).await,
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

pub(super) fn load_spec(path: &Path, args: &SpecArgs) -> Result<Spec> {
    spec::load(path, &load_options(args)?).map_err(|diagnostics| anyhow!("{diagnostics}"))
}

/// The guard of the command line.
pub(super) fn allowed(args: &GuardArgs) -> &[String] {
    &args.allowed_account_ids
}

/// Runs `work` with discovery progress bars where they are wanted (a live account,
/// on a terminal), else with none.
pub(super) async fn with_bars<T>(
    live: bool,
    no_progress: bool,
    work: impl AsyncFnOnce(&dyn DiscoveryProgress) -> T,
) -> T {
    if live && bars_wanted(no_progress) {
        let bars = DiscoveryBars::new();
        let result = work(&bars).await;
        bars.finish();
        result
    } else {
        work(&NoProgress).await
    }
}

/// Plans a spec, printing its warnings.
pub(super) async fn plan_spec(
    spec: Spec,
    account: Account,
    guard: &GuardArgs,
    access: Access,
    no_progress: bool,
) -> Result<Planned> {
    let planned = with_bars(account.is_live(), no_progress, async |progress| {
        session::plan_spec(spec, account, allowed(guard), access, progress).await
    })
    .await?;
    for warning in &planned.warnings {
        eprintln!("{warning}");
    }
    Ok(planned)
}

pub(super) fn print_stats(account: &Account) {
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
            let account = Account::for_spec(
                args.source.inventory.as_deref(),
                Some(&spec),
                &[],
                Access::Read,
            )
            .await?;
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
        .with_connection(session::connection_of(&planned.spec))
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
pub(super) fn signing_key() -> Option<Vec<u8>> {
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

pub(super) fn plan_exit_code(plan: &Plan, detailed: bool) -> i32 {
    if let Some(why) = plan.not_applyable_because().first() {
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
        let account = Account::for_spec(
            args.source.inventory.as_deref(),
            Some(&spec),
            &[],
            Access::Read,
        )
        .await?;
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
    let mut account = Account::for_spec(None, spec.as_ref(), &args.regions, Access::Read).await?;
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
    let inventory = with_bars(account.is_live(), args.no_progress, async |progress| {
        session::read_account(&mut account, spec.as_ref(), &args.regions, types, progress).await
    })
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

    let mut account = Account::for_spec(
        args.source.inventory.as_deref(),
        spec.as_ref(),
        &args.regions,
        Access::Read,
    )
    .await?;
    let inventory = with_bars(
        account.is_live(),
        args.source.no_progress,
        async |progress| {
            session::read_account(
                &mut account,
                spec.as_ref(),
                &args.regions,
                ResourceType::ALL.into_iter().collect(),
                progress,
            )
            .await
        },
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
