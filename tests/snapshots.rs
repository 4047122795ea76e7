//! The plan output is a product: text, JSON and Markdown of every fixture are
//! snapshot-tested (review changes with `cargo insta review`).

use decom::render::{self, MarkdownOptions};
use regex::Regex;

use crate::util::*;

#[test]
fn fixture_plans_render_as_reviewed() {
    for (fixture, spec) in FIXTURES {
        let (_, _, plan) = fixture_plan(fixture, spec);
        let name = format!("{fixture}-{spec}");
        insta::assert_snapshot!(format!("{name}.txt"), render::text(&plan));
        insta::assert_snapshot!(format!("{name}.json"), plan.to_json());
        let parts = render::markdown(&plan, MarkdownOptions::default());
        assert_eq!(parts.len(), 1, "{name} fits in one comment");
        insta::assert_snapshot!(format!("{name}.md"), parts[0]);
    }
}

#[test]
fn the_markdown_plan_line_matches_atlantis() {
    let atlantis = Regex::new(
        r"Plan: (?:(\d+) to import, )?(\d+) to add, (\d+) to change, (\d+) to destroy(?:, (\d+) to forget)?\.",
    )
    .expect("regex");
    for (fixture, spec) in FIXTURES {
        let (_, _, plan) = fixture_plan(fixture, spec);
        let md = &render::markdown(&plan, MarkdownOptions::default())[0];
        let captures = atlantis
            .captures(md)
            .unwrap_or_else(|| panic!("{fixture}/{spec}: no Plan: line"));
        assert_eq!(captures[3].parse::<usize>().ok(), Some(plan.summary.change));
        assert_eq!(
            captures[4].parse::<usize>().ok(),
            Some(plan.summary.destroy)
        );
        // Outside the fold.
        let fold = md.find("<details>").unwrap_or(md.len());
        assert!(captures.get(0).expect("match").start() < fold);
    }
}

#[test]
fn long_markdown_plans_split_into_parts_that_each_fit() {
    let (_, _, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let whole = render::markdown(&plan, MarkdownOptions::default());
    for limit in [2_000, 3_000, 5_000] {
        let parts = render::markdown(
            &plan,
            MarkdownOptions {
                max_comment_chars: limit,
            },
        );
        assert!(parts.len() > 1, "limit {limit} splits");
        for (i, part) in parts.iter().enumerate() {
            assert!(part.len() < limit, "part {i} has {} chars", part.len());
            assert_eq!(
                part.matches("```diff").count(),
                1,
                "the fence is reopened in part {i}"
            );
            assert_eq!(part.matches("```").count(), 2, "and closed");
            if parts.len() > 1 {
                assert!(part.contains(&format!("of {}", parts.len())));
            }
        }
        assert!(parts[0].contains(&plan.summary_line()));
        // Nothing lost: every diff line of the whole plan is in some part.
        let body = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with("- ") || l.starts_with("! ") || l.starts_with("  #"))
                .map(String::from)
                .collect()
        };
        let joined: Vec<String> = parts.iter().flat_map(|p| body(p)).collect();
        assert_eq!(joined, body(&whole[0]));
    }
}

#[test]
fn adding_one_resource_changes_a_handful_of_plan_lines() {
    let (spec, inventory, plan) = fixture_plan("ecs-story-5.8", "spec-optin");
    let mut grown = inventory.clone();
    grown.resources.push(decom_provider::Resource {
        id: "/ecs/lego-api-worker".into(),
        name: "/ecs/lego-api-worker".into(),
        region: "us-east-1".into(),
        tags: [("Service".to_string(), "lego-api".to_string())].into(),
        details: decom_provider::Details::CloudwatchLogGroup(Default::default()),
    });
    grown.normalize();
    let after = plan_spec_on(&spec, &grown);
    let d = decom::diff::diff(&plan, &after);
    assert_eq!(d.steps_added.len(), 1, "{}", d.summary());
    assert!(d.steps_removed.is_empty() && d.steps_moved.is_empty());
    let changed = d
        .unified
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .count();
    assert!(changed <= 8, "{changed} lines changed:\n{}", d.unified);
}
