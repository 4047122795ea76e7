//! The reports apply leaves: one per run that did something, the latest as
//! `report.json` and `report.md`, with the caller's notices.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use decom::apply::{self, ApplyOptions, ApplyReport, REPORTS_DIR, Silent};
use decom::planfile::PlanFile;
use decom_provider::Provider;
use decom_sim::{Knobs, SimProvider};

use crate::apply::InterruptAfter;
use crate::util::*;

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An interrupted run, its resumption, then a run with nothing left to do: the
/// first two keep their own reports, the last overwrites nothing.
#[tokio::test]
async fn a_run_with_nothing_to_do_keeps_the_report_of_the_run_that_did_the_work() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = PlanFile::new(plan, &inventory, false);
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let caller = sim.caller_identity().await.expect("identity");
    let state = tempfile::tempdir().expect("tempdir");
    let options = ApplyOptions {
        parallelism: 2,
        state_dir: state.path().to_path_buf(),
        discovered: None,
        notices: Vec::new(),
    };
    let flag = Arc::new(AtomicBool::new(false));
    let interrupt = Arc::new(InterruptAfter {
        after: 5,
        completed: AtomicUsize::new(0),
        flag: flag.clone(),
    });
    let run = |reporter: Arc<dyn apply::ApplyReporter>, flag: Arc<AtomicBool>| {
        apply::execute(&plan_file, sim.clone(), &caller, &options, reporter, flag)
    };
    let first = run(interrupt, flag).await.expect("first run");
    assert!(first.interrupted);
    let second = run(Arc::new(Silent), Arc::new(AtomicBool::new(false)))
        .await
        .expect("second run");
    assert!(second.succeeded() && second.summary.completed > 0);
    let latest_json = read(&state.path().join("report.json"));
    let latest_md = read(&state.path().join("report.md"));

    let third = run(Arc::new(Silent), Arc::new(AtomicBool::new(false)))
        .await
        .expect("third run");
    assert!(third.was_already_applied());
    assert_eq!(read(&state.path().join("report.json")), latest_json);
    assert_eq!(read(&state.path().join("report.md")), latest_md);

    let runs = state.path().join(REPORTS_DIR);
    let mut names: Vec<String> = std::fs::read_dir(&runs)
        .expect("reports")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["run-1.json", "run-1.md", "run-2.json", "run-2.md"]);
    let kept: ApplyReport = serde_json::from_str(&read(&runs.join("run-1.json"))).expect("json");
    assert_eq!(kept, first);
    assert_eq!(read(&runs.join("run-2.json")), latest_json);
    assert!(read(&runs.join("run-1.md")).contains("interrupted: run apply again to resume"));
}

#[tokio::test]
async fn notices_are_on_record_in_both_reports() {
    let (_, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let plan_file = PlanFile::new(plan, &inventory, false);
    let notices = vec![
        "2 resources now match the spec and are not in this plan; run plan again to include them"
            .to_string(),
        "applied from CI job 7".to_string(),
    ];
    for given in [notices.clone(), Vec::new()] {
        let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
        let caller = sim.caller_identity().await.expect("identity");
        let state = tempfile::tempdir().expect("tempdir");
        let options = ApplyOptions {
            parallelism: 4,
            state_dir: state.path().to_path_buf(),
            discovered: None,
            notices: given.clone(),
        };
        let report = apply::execute(
            &plan_file,
            sim,
            &caller,
            &options,
            Arc::new(Silent),
            Arc::new(AtomicBool::new(false)),
        )
        .await
        .expect("apply runs");
        assert_eq!(report.notices, given);
        let json: serde_json::Value =
            serde_json::from_str(&read(&state.path().join("report.json"))).expect("json");
        assert_eq!(json["notices"], serde_json::json!(given));
        let md = read(&state.path().join("report.md"));
        if given.is_empty() {
            assert!(!md.contains("Notices"), "{md}");
            continue;
        }
        let section = md.find("## Notices").expect("a Notices section");
        assert!(
            section < md.find("| # | Resource").expect("steps"),
            "near the top: {md}"
        );
        for notice in &given {
            assert!(md.contains(&format!("\n- {notice}\n")), "{md}");
        }
    }
}
