//! `decom restore`: the restore plan of an archive (or a saved one), reviewed, then
//! executed behind the account guard, with a line per finished step.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use decom::restore::{
    self, RestoreEvent, RestoreOptions, RestorePlan, RestoreReporter, RestoreSource,
};
use decom::session::{Access, Account};

use super::apply::confirm;
use super::args::RestoreArgs;
use super::commands::{EXIT_ERROR, EXIT_OK, print_stats};

/// One line per step on stderr, or NDJSON events on stdout with `-json`.
struct Lines;

impl RestoreReporter for Lines {
    fn on_event(&self, event: &RestoreEvent) {
        match event {
            RestoreEvent::StepStarted { .. } => {}
            RestoreEvent::StepRetrying {
                order,
                address,
                code,
                attempt,
            } => eprintln!("  #{order} {address}: {code}, retrying (attempt {attempt})"),
            RestoreEvent::StepFinished {
                order,
                address,
                action,
                outcome,
            } => {
                eprintln!("  #{order} {address}: {action}: {outcome}");
            }
        }
    }
}

pub(super) async fn restore_command(args: RestoreArgs) -> Result<i32> {
    let saved = RestorePlan::looks_like_plan_file(&args.source);
    let plan = if saved {
        let text = std::fs::read_to_string(&args.source)
            .with_context(|| format!("cannot read `{}`", args.source.display()))?;
        let plan = RestorePlan::from_json(&text, &args.source.display().to_string())?;
        if !args.only.is_empty() || args.register_targets || args.desired_count.is_some() {
            bail!(
                "--only, --register-targets and --desired-count shape a new restore plan; `{}` is a saved one\n  hint: decom restore ARCHIVE_DIR --only ADDRESS -out FILE",
                args.source.display()
            );
        }
        // The plan embeds the descriptions; the archive must still be the one it
        // was made from (its events, for one).
        restore::verify_manifest(&plan.archive_dir)?;
        plan
    } else {
        let source = RestoreSource::open(&args.source)?;
        let options = RestoreOptions {
            only: args.only.clone(),
            register_targets: args.register_targets,
            desired_count: args.desired_count,
        };
        restore::build_restore_plan(&source, &options)?
    };

    if args.json {
        std::io::stdout()
            .lock()
            .write_all(plan.to_json().as_bytes())?;
    } else if args.markdown {
        std::io::stdout()
            .lock()
            .write_all(restore::restore_markdown(&plan).as_bytes())?;
    } else {
        std::io::stdout()
            .lock()
            .write_all(restore::restore_text(&plan).as_bytes())?;
    }
    if let Some(out) = &args.out {
        std::fs::write(out, plan.to_json())
            .with_context(|| format!("cannot write `{}`", out.display()))?;
        eprintln!(
            "Saved the restore plan to {}; run `decom restore {}` to execute it.",
            out.display(),
            out.display()
        );
        return Ok(EXIT_OK);
    }
    if args.json || args.markdown {
        return Ok(EXIT_OK);
    }
    if plan.steps.is_empty() {
        eprintln!("Nothing to restore.");
        return Ok(EXIT_OK);
    }

    let Some(expected) = args.account.clone().or_else(|| plan.account_id.clone()) else {
        bail!(
            "the archive does not say which account its run changed\n  hint: pass --account ACCOUNT_ID: the restore is refused in any other account"
        );
    };
    let account = Account::connect(
        args.source_args.inventory.as_deref(),
        plan.connection.as_ref(),
        plan.regions.clone(),
        Access::Change,
    )
    .await?;
    let provider = account.provider()?;
    let identity = provider
        .caller_identity()
        .await
        .context("cannot tell which account the credentials belong to")?;
    if identity.account_id != expected {
        bail!(
            "the credentials belong to account {} ({}), but this restore is for account {expected}\n  hint: use credentials of account {expected}{}",
            identity.account_id,
            identity.arn,
            if args.account.is_some() {
                ""
            } else {
                ", or pass --account to restore into another account on purpose"
            }
        );
    }
    // A saved restore plan was reviewed when it was saved, as a saved plan is.
    if !saved && !args.auto_approve && !confirm("restore")? {
        eprintln!("Restore cancelled.");
        return Ok(EXIT_ERROR);
    }
    let interrupt = Arc::new(AtomicBool::new(false));
    {
        let interrupt = interrupt.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nInterrupted: no new steps start; running steps finish, then the state is recorded. Run restore again to resume."
                );
                interrupt.store(true, Ordering::SeqCst);
            }
        });
    }
    let report = restore::execute(
        &plan,
        provider,
        &identity,
        args.parallelism,
        Arc::new(Lines),
        interrupt,
    )
    .await?;
    if let (Some(out), Account::Sim(sim)) = (&args.write_inventory, &account) {
        std::fs::write(out, sim.snapshot().to_json())
            .with_context(|| format!("cannot write `{}`", out.display()))?;
    }
    eprintln!("Restore {}.", report.summary());
    for step in &report.steps {
        for note in &step.notes {
            eprintln!("Note: {}: {note}", step.address);
        }
    }
    eprintln!("Report: {}", plan.state_dir().join("report.md").display());
    if args.source_args.stats {
        print_stats(&account);
    }
    Ok(if report.succeeded() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
