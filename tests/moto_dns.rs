//! Route53 against moto (issue 17): a hosted zone whose weighted blue/green aliases
//! name an ALB. `decom apply` removes the ALB and exactly those aliases (the zone and
//! its other record stay); a record the spec keeps that still names the ALB blocks
//! the plan, with its path and hint.

use std::collections::BTreeSet;

use decom_testing::account::{MotoAccount, provider_block};
use decom_testing::stack::{self, Key, dns};

use crate::util::DecomOnMoto;

const DOMAIN: &str = "shop.example.com";

fn dns_spec(allowed_account: &str) -> String {
    format!(
        r#"{provider}
decommission "dns" {{
  absent "aws_lb"             {{ names = ["dns-alb"] }}
  absent "aws_route53_record" {{ names = ["api.{DOMAIN}"] }}

  orphans = "report"
}}
"#,
        provider = provider_block(allowed_account)
    )
}

fn plan_json(moto: &MotoAccount, spec: &str) -> serde_json::Value {
    let plan = moto.decom(&["plan", spec, "-json"]);
    serde_json::from_str(&plan.stdout()).unwrap_or_else(|e| {
        panic!(
            "plan -json prints JSON ({e}):\n{}\n{}",
            plan.stdout(),
            plan.stderr()
        )
    })
}

fn destroyed(plan: &serde_json::Value) -> BTreeSet<Key> {
    plan["steps"]
        .as_array()
        .expect("plan steps")
        .iter()
        .filter(|s| s["change"] == "destroy")
        .map(|s| {
            (
                s["type"].as_str().expect("type").to_string(),
                s["id"].as_str().expect("id").to_string(),
            )
        })
        .collect()
}

#[test]
fn alias_records_of_a_removed_load_balancer_go_with_it_and_nothing_else() {
    let moto = MotoAccount::new("alias_records_of_a_removed_load_balancer_go_with_it");
    let sdk = moto.sdk();
    let stack = moto.block_on(stack::build_dns(&sdk, DOMAIN));
    let before = moto.block_on(stack::dns_census(&sdk));
    for key in &stack.removed_keys() {
        assert!(before.contains(key), "the fixture made {key:?}");
    }

    let spec = moto.write_spec("spec", &dns_spec(&moto.account));
    let spec = spec.to_str().expect("utf-8 path");
    let plan = moto.decom(&["plan", spec, "-out", "p.plan", "-detailed-exitcode"]);
    plan.expect_code(2, "changes present");
    let shown = moto.decom(&["show", "p.plan", "-json"]);
    let planned: serde_json::Value =
        serde_json::from_str(&shown.stdout()).expect("show -json prints JSON");
    assert_eq!(planned["applyable"], true, "plan:\n{}", plan.stdout());
    assert_eq!(
        destroyed(&planned),
        stack.removed_keys(),
        "{}",
        plan.stdout()
    );
    // The aliases go before the balancer they name.
    let text = plan.stdout();
    let lb_step = text
        .lines()
        .skip_while(|l| !l.contains("aws_lb.dns-alb will be destroyed"))
        .find(|l| l.contains("after:"))
        .unwrap_or_else(|| panic!("the balancer's step waits for something:\n{text}"));
    assert_eq!(
        lb_step.matches("delete aws_route53_record.").count(),
        2,
        "{lb_step}"
    );

    let apply = moto.decom(&["apply", "p.plan", "-auto-approve"]);
    apply.expect_code(0, "the plan applies");
    let after = moto.block_on(stack::dns_census(&sdk));
    let gone: BTreeSet<Key> = before.difference(&after).cloned().collect();
    assert_eq!(
        gone,
        stack.removed_keys(),
        "exactly the planned resources are gone"
    );
    assert!(after.is_subset(&before), "apply creates nothing");
    assert!(after.contains(&("aws_route53_zone".to_string(), stack.zone.clone())));
    assert!(after.contains(&("aws_route53_record".to_string(), stack.neighbour.clone())));
}

#[test]
fn a_kept_record_naming_the_removed_load_balancer_blocks_the_plan() {
    let moto = MotoAccount::new("a_kept_record_naming_the_removed_load_balancer_blocks");
    let sdk = moto.sdk();
    let stack = moto.block_on(stack::build_dns(&sdk, DOMAIN));
    // `www` names the same balancer (its DNS name in upper case, without
    // `dualstack.`), and the spec does not select it.
    let www = format!("www.{DOMAIN}");
    moto.block_on(dns::upsert(
        &sdk,
        &stack.zone,
        dns::cname(&www, &stack.lb_dns_name.to_uppercase()),
    ));
    let www_id = dns::record_key(&stack.zone, &www, "CNAME", None);

    let spec = moto.write_spec("spec", &dns_spec(&moto.account));
    let plan = plan_json(&moto, spec.to_str().expect("utf-8 path"));
    assert_eq!(plan["applyable"], false);
    let blockers = plan["blockers"].as_array().expect("blockers");
    let blocker = blockers
        .iter()
        .find(|b| b["blocked_by"]["id"] == www_id.as_str())
        .unwrap_or_else(|| panic!("a blocker naming {www_id}: {blockers:#?}"));
    assert_eq!(blocker["type"], "aws_lb");
    assert_eq!(blocker["id"], stack.load_balancer.as_str());
    assert_eq!(
        blocker["path"],
        serde_json::json!([format!("aws_route53_record.{www}"), "aws_lb.dns-alb"])
    );
    let reason = blocker["reason"].as_str().expect("reason");
    assert!(reason.contains("point at nothing"), "{reason}");
    let hint = blocker["hint"].as_str().expect("hint");
    assert!(
        hint.contains(&format!(
            "add aws_route53_record.{www} to an `absent` block"
        )),
        "{hint}"
    );
    assert_eq!(blockers.len(), 1, "{blockers:#?}");
}
