//! The archive's file names and index: every resource keeps its own files, however
//! alike their ids, and the index leads back from each resource to them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

use decom::apply::{Archive, INDEX, MANIFEST};
use decom::planfile::PlanFile;
use decom_provider::{Details, Inventory, LogGroup, Resource, ResourceKey, ResourceType};
use decom_sim::{Knobs, SimProvider};
use proptest::prelude::*;

use crate::apply::{LogEvents, Wrapped, fast_tempdir};
use crate::util::*;

fn any_key() -> impl Strategy<Value = ResourceKey> {
    let types = proptest::sample::select(ResourceType::ALL.to_vec());
    let regions = proptest::sample::select(vec!["us-east-1", "eu-west-1", "eu/west", "ü-1", ""]);
    let ids = prop_oneof![
        "[a-z/_:.]{0,12}",
        "[a-zA-Z0-9/_:. \\-üß€中]{0,40}",
        "\\PC{0,20}",
        "[a-z/_]{300,600}",
    ];
    (types, regions, ids).prop_map(|(ty, region, id)| ResourceKey::new(ty, region, id))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any set of keys in, as many distinct files out, each with its own
    /// description, read back through the index after the archive is reopened.
    #[test]
    fn every_key_keeps_its_own_description(
        keys in proptest::collection::btree_set(any_key(), 1..40),
        batched in any::<bool>(),
    ) {
        let dir = fast_tempdir();
        let root = dir.path().join("archive");
        let described: BTreeMap<&ResourceKey, serde_json::Value> = keys
            .iter()
            .enumerate()
            .map(|(n, key)| (key, serde_json::json!({"id": key.id, "region": key.region, "n": n})))
            .collect();
        {
            let archive = Archive::open(&root).expect("opens");
            if batched {
                let items: Vec<_> = described.iter().map(|(k, d)| (*k, d)).collect();
                for result in archive.write_many(&items) {
                    result.expect("written");
                }
            } else {
                for (key, description) in &described {
                    archive.write(key, description).expect("written");
                }
            }
            archive.seal().expect("sealed");
        }
        let archive = Archive::open(&root).expect("reopens");
        let mut files = BTreeSet::new();
        for (key, description) in &described {
            prop_assert!(archive.contains(key));
            prop_assert_eq!(archive.description(key).expect("reads"), Some(description.clone()));
            let listed = archive.files(key).and_then(|f| f.description).expect("indexed");
            prop_assert_eq!(root.join(&listed), archive.path_for(key, ".json"));
            let name = listed.rsplit('/').next().unwrap_or_default().to_string();
            prop_assert!(name.len() < 120, "{}", name);
            files.insert(listed);
        }
        prop_assert_eq!(files.len(), keys.len());
        prop_assert_eq!(archive.entries().len(), keys.len());
        let manifest = std::fs::read_to_string(root.join(MANIFEST)).expect("manifest");
        prop_assert_eq!(manifest.lines().count(), keys.len() + 1);
        for file in &files {
            let listed = format!("  {file}\n");
            prop_assert!(manifest.contains(&listed), "{} not in the manifest", file);
        }
    }
}

/// Three log groups whose ids differ only where a file name cannot: before, all
/// three were archived to one file, and the second and third counted as archived
/// because the first was.
#[tokio::test]
async fn log_groups_with_alike_names_are_archived_apart() {
    let ids = ["/svc/a_b", "/svc/a/b", "_svc_a_b"];
    let mut inventory = Inventory::new("123456789012", vec!["us-east-1".into()]);
    for id in ids {
        inventory.resources.push(Resource {
            id: id.into(),
            name: id.into(),
            region: "us-east-1".into(),
            tags: [("Service".to_string(), "svc".to_string())].into(),
            details: Details::CloudwatchLogGroup(LogGroup {
                arn: format!("arn:aws:logs:us-east-1:123456789012:log-group:{id}"),
                ..LogGroup::default()
            }),
        });
    }
    let plan = plan_for(
        &inventory,
        &select_by_tag(&inventory, "Service", &["svc"]),
        &decom::plan::PlanOptions::default(),
    );
    assert_eq!(plan.steps.len(), 3);
    let plan_file = PlanFile::new(plan.clone(), &inventory, true);
    let sim = Arc::new(SimProvider::new(inventory.clone(), Knobs::default()));
    let provider = Arc::new(Wrapped {
        log_events: Some(LogEvents::Invented),
        ..Wrapped::new(sim.clone())
    });
    let (report, state) = apply_file(&plan_file, provider.clone(), 3).await;
    let report = report.expect("apply");
    assert!(report.succeeded(), "{}", report.to_markdown());
    assert_end_state(&plan, &inventory, &sim.snapshot());

    let root = state.path().join("archive");
    let archive = Archive::open(&root).expect("archive opens");
    let mut files = BTreeSet::new();
    for id in ids {
        let key = ResourceKey::new(ResourceType::CloudwatchLogGroup, "us-east-1", id);
        let description = archive.description(&key).expect("reads").expect("archived");
        assert_eq!(description["id"], id);
        let listed = archive.files(&key).expect("indexed");
        let events = listed.events.expect("events indexed");
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(root.join(&events)).expect("events"))
            .read_to_string(&mut text)
            .expect("gzip");
        assert_eq!(text.lines().count(), 25, "{id}");
        assert!(
            text.lines().all(|l| l.contains(&format!("\"{id} line "))),
            "{id}'s events hold only its own lines"
        );
        files.insert(listed.description.expect("description indexed"));
        files.insert(events);
    }
    assert_eq!(files.len(), 6, "{files:?}");
    let manifest = std::fs::read_to_string(root.join(MANIFEST)).expect("manifest");
    assert_eq!(
        manifest.lines().count(),
        8,
        "six files, the index and the plan: {manifest}"
    );
    assert!(manifest.contains(&format!("  {INDEX}\n")));
    let leftovers: Vec<_> = std::fs::read_dir(root.join("aws_cloudwatch_log_group"))
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
