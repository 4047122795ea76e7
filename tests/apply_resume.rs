//! Resuming after a run that died inside steps: a step journaled as started and
//! never finished is observed in the account before anything is called again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use decom::apply::{self, ApplyOptions, Journal, JournalEntry, Outcome, Silent};
use decom::planfile::PlanFile;
use decom_provider::{Action, Provider, ResourceType};
use decom_sim::{Knobs, SimProvider};

use crate::apply::Wrapped;
use crate::util::*;

/// Three steps whose calls landed before the earlier run died (a role removed from
/// its instance profile, a rule revoked, an inactive task definition revision
/// deleted) and one whose call
/// never went out. Calling the first three again would fail (the wrapper answers
/// them as AWS answers a RemoveRoleFromInstanceProfile for a role no longer in the
/// profile: with an error); the resumed run finds them done without a call, through
/// the discovery it is given or, without one, through one discovery of its own.
#[tokio::test]
async fn a_step_left_in_doubt_is_observed_not_repeated() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = PlanFile::new(plan.clone(), &inventory, false);
    let first = |pick: &dyn Fn(&decom::plan::PlanStep) -> bool| {
        plan.steps
            .iter()
            .find(|s| pick(s) && s.depends_on.is_empty())
            .expect("step")
            .clone()
    };
    let landed = [
        first(&|s| matches!(s.action, Action::RemoveRoleFromProfile { .. })),
        first(&|s| matches!(s.action, Action::RevokeRule { .. })),
        first(&|s| s.ty == ResourceType::EcsTaskDefinition && s.action == Action::Delete),
    ];
    let lost = plan
        .steps
        .iter()
        .filter(|s| s.ty == ResourceType::CloudwatchLogGroup)
        .nth(1)
        .expect("a second log group")
        .clone();
    for given in [false, true] {
        let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
        let state = tempfile::tempdir().expect("tempdir");
        {
            let (journal, _) =
                Journal::open(&state.path().join("journal.jsonl"), &plan_file.id()).expect("opens");
            let at = "2026-11-21T12:00:00Z".to_string();
            journal
                .record(&JournalEntry::Opened {
                    plan_id: plan_file.id(),
                    decom_version: "0".into(),
                    at: at.clone(),
                })
                .expect("recorded");
            for step in landed.iter().chain([&lost]) {
                journal
                    .record(&JournalEntry::Started {
                        order: step.order,
                        operation: step.operation().to_string(),
                        at: at.clone(),
                    })
                    .expect("recorded");
            }
            for step in &landed {
                sim.execute(&step.operation())
                    .await
                    .expect("the call lands");
            }
        }
        let provider = Arc::new(Wrapped {
            refused: landed.iter().map(|s| s.operation()).collect(),
            ..Wrapped::new(sim.clone())
        });
        let caller = provider.caller_identity().await.expect("identity");
        let options = ApplyOptions {
            parallelism: 4,
            state_dir: state.path().to_path_buf(),
            discovered: given.then(|| Arc::new(sim.snapshot())),
            notices: Vec::new(),
        };
        let report = apply::execute(
            &plan_file,
            provider.clone(),
            &caller,
            &options,
            Arc::new(Silent),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("apply runs");
        let case = format!("discovery given: {given}");
        assert!(report.succeeded(), "{case}: {}", report.to_markdown());
        assert!(report.resumed);
        for step in &landed {
            assert_eq!(provider.calls_of(&step.operation()), 0, "{case}: {step:?}");
            let expected = if step.action.removes_target() {
                Outcome::AlreadyGone
            } else {
                Outcome::CompletedEarlier
            };
            assert_eq!(report.steps[step.order - 1].outcome, expected, "{case}");
        }
        assert_eq!(provider.calls_of(&lost.operation()), 1, "{case}");
        assert_eq!(report.steps[lost.order - 1].outcome, Outcome::Completed);
        assert_eq!(
            provider.discoveries.load(Ordering::SeqCst),
            usize::from(!given),
            "{case}: one discovery for all the steps in doubt, none when given one"
        );
        let journal = std::fs::read_to_string(state.path().join("journal.jsonl")).expect("journal");
        assert_eq!(
            journal
                .lines()
                .filter(|l| l.contains("\"observed\":true"))
                .count(),
            landed.len(),
            "{case}"
        );
        assert_clean_history(&sim);
        assert_end_state(&plan, &inventory, &sim.snapshot());
    }
}
