//! `decom apply`: a saved plan checked by the session (or a spec planned and
//! confirmed), then executed with progress, interruptible, and summed up.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use decom::apply::{self, ApplyOptions};
use decom::planfile::PlanFile;
use decom::render;
use decom::session::{self, Access, Account, SavedPlanChecks};

use super::args::ApplyArgs;
use super::commands::{
    EXIT_ERROR, EXIT_OK, allowed, load_spec, plan_exit_code, plan_spec, print_stats, signing_key,
    with_bars,
};
use super::progress::{ApplyProgress, bars_wanted};

pub(super) async fn apply_command(args: ApplyArgs) -> Result<i32> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let mut notices = Vec::new();
    let (plan_file, account, identity, discovered) = if PlanFile::looks_like_plan_file(&args.target)
    {
        let spec_at_hand = match &args.spec {
            Some(dir) => Some((load_spec(dir, &args.spec_args)?, dir.display().to_string())),
            None => None,
        };
        let key = signing_key();
        let checks = SavedPlanChecks {
            inventory: args.source.inventory.as_deref(),
            spec_at_hand: spec_at_hand.as_ref().map(|(spec, dir)| (spec, dir.clone())),
            allowed_account_ids: allowed(&args.guard),
            signing_key: key.as_deref(),
            state_root: args.state_dir.clone(),
        };
        eprintln!("Checking the plan file against its spec and the account...");
        let live = args.source.inventory.is_none();
        let checked = with_bars(live, args.source.no_progress, async |progress| {
            session::check_saved_plan(&args.target, &checks, progress).await
        })
        .await?;
        if let Some(notice) = &checked.notice {
            eprintln!("Note: {notice}");
        }
        notices.extend(checked.notice);
        (
            checked.file,
            checked.account,
            checked.identity,
            checked.live,
        )
    } else {
        if args.spec.is_some() {
            bail!(
                "--spec goes with a plan file: `{}` is a spec itself\n  hint: decom apply PLAN_FILE --spec DIR",
                args.target.display()
            );
        }
        let spec = load_spec(&args.target, &args.spec_args)?;
        let account = Account::for_spec(
            args.source.inventory.as_deref(),
            Some(&spec),
            &[],
            Access::Change,
        )
        .await?;
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
        if !args.auto_approve && !confirm("apply")? {
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
        notices,
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

/// Terraform's prompt: only `yes` proceeds; without a terminal, never.
/// `command` (`apply`, `restore`) names what is refused.
pub(super) fn confirm(command: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "refusing to {command} without confirmation: stdin is not a terminal\n  hint: review the plan, then pass -auto-approve, or {command} a saved plan file"
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
