//! The run lock: two applies of one plan never run at once, and a lock left by a
//! process that is gone does not stand in the way.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use decom::apply::{self, ApplyError, ApplyOptions, LOCK_FILE, LockHolder, Silent};
use decom::planfile::PlanFile;
use decom_provider::Provider;
use decom_sim::{Knobs, SimProvider};

use crate::apply::Wrapped;
use crate::util::*;

fn options(state: &std::path::Path) -> ApplyOptions {
    ApplyOptions {
        parallelism: 4,
        state_dir: state.to_path_buf(),
        discovered: None,
        notices: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_of_one_plan_at_once_run_it_once() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = Arc::new(PlanFile::new(plan.clone(), &inventory, false));
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    // Every call waits at the gate: the apply that got the lock holds it there.
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let provider = Arc::new(Wrapped {
        gate: Some(gate.clone()),
        ..Wrapped::new(sim.clone())
    });
    let caller = provider.caller_identity().await.expect("identity");
    let state = tempfile::tempdir().expect("tempdir");
    let start = || {
        let (plan_file, provider, caller) = (plan_file.clone(), provider.clone(), caller.clone());
        let options = options(state.path());
        tokio::spawn(async move {
            apply::execute(
                &plan_file,
                provider,
                &caller,
                &options,
                Arc::new(Silent),
                Arc::new(AtomicBool::new(false)),
            )
            .await
        })
    };
    let (mut a, mut b) = (start(), start());
    let first = tokio::time::timeout(Duration::from_secs(20), async {
        tokio::select! {
            result = &mut a => (result, true),
            result = &mut b => (result, false),
        }
    })
    .await
    .expect("one of the two applies is refused at once");
    let (refused, a_refused) = first;
    let error = refused
        .expect("joins")
        .expect_err("the other apply holds the lock");
    let ApplyError::Locked {
        holder: Some(LockHolder { pid, .. }),
        ..
    } = &error
    else {
        panic!("not the lock error: {error}");
    };
    assert_eq!(*pid, std::process::id());
    let message = error.to_string();
    assert!(
        message.contains(&format!("process {}", std::process::id()))
            && message.contains("since")
            && message.contains("hint:"),
        "{message}"
    );

    gate.add_permits(1);
    let winner = if a_refused { b } else { a };
    let report = winner.await.expect("joins").expect("the other apply runs");
    assert!(report.succeeded(), "{}", report.to_markdown());
    assert_clean_history(&sim);
    assert_end_state(&plan, &inventory, &sim.snapshot());
    for step in &plan.steps {
        let calls = provider.calls_of(&step.operation());
        assert_eq!(calls, 1, "{} called {calls} times", step.operation());
    }

    // Released with the run: the next apply finds the plan applied.
    let again = start().await.expect("joins").expect("the lock is free");
    assert!(again.was_already_applied());
}

/// A lock file with content and no process holding it — its apply was killed — is
/// taken over silently, and then names the new holder.
#[tokio::test]
async fn a_lock_left_by_a_dead_process_is_taken_over() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = PlanFile::new(plan, &inventory, false);
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let caller = sim.caller_identity().await.expect("identity");
    let state = tempfile::tempdir().expect("tempdir");
    let lock = state.path().join(LOCK_FILE);
    std::fs::write(
        &lock,
        r#"{"pid": 4000000, "host": "gone", "since": "2020-01-01T00:00:00Z"}"#,
    )
    .expect("lock written");
    let report = apply::execute(
        &plan_file,
        sim,
        &caller,
        &options(state.path()),
        Arc::new(Silent),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect("not blocked by a lock nobody holds");
    assert!(report.succeeded());
    let holder: LockHolder =
        serde_json::from_str(&std::fs::read_to_string(&lock).expect("lock")).expect("holder");
    assert_eq!(holder.pid, std::process::id(), "{holder:?}");
    assert!(
        holder.since.parse::<jiff::Timestamp>().is_ok(),
        "{holder:?}"
    );
}

/// Held by another process (here, the test's own handle): the apply stops before it
/// opens the journal, and says who holds the lock.
#[tokio::test]
async fn a_held_lock_stops_the_apply_before_its_journal() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = PlanFile::new(plan, &inventory, false);
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let caller = sim.caller_identity().await.expect("identity");
    let state = tempfile::tempdir().expect("tempdir");
    let lock = state.path().join(LOCK_FILE);
    std::fs::write(
        &lock,
        r#"{"pid": 4242, "host": "ci-7", "since": "2026-11-21T12:00:00Z"}"#,
    )
    .expect("lock written");
    let held = std::fs::File::open(&lock).expect("opens");
    held.try_lock().expect("the test holds the lock");
    let error = apply::execute(
        &plan_file,
        sim.clone(),
        &caller,
        &options(state.path()),
        Arc::new(Silent),
        Arc::new(AtomicBool::new(false)),
    )
    .await
    .expect_err("refused");
    assert!(
        error
            .to_string()
            .starts_with("another apply of this plan is running (process 4242 on ci-7, since 2026-11-21T12:00:00Z)"),
        "{error}"
    );
    assert!(!state.path().join("journal.jsonl").exists());
    assert!(sim.history().is_empty());
}
