//! Route53 in the planner (issue 17): a weighted set's traffic is not moved to the
//! records that stay unless allowed, nor a failover primary's; a zone goes after its
//! records, and a record it keeps blocks it.

use decom::plan::{PlanOptions, Selection};
use decom::spec::Allow;
use decom_provider::{Details, Inventory, ResourceKey, ResourceType};
use decom_sim::build::{AccountBuilder, Routing, tags};

use crate::util::*;

/// A zone with a weighted blue (100) / green (`green_weight`) pair naming one ALB,
/// a failover pair, and a plain CNAME.
fn account(green_weight: i64) -> (Inventory, Keys) {
    let mut b = AccountBuilder::new("123456789012", "us-east-1", 17);
    let lb = b.load_balancer("shop-alb", "application", &[], tags(&[]));
    let dns = match b.details_mut(ResourceType::Lb, &lb) {
        Details::Lb(lb) => lb.dns_name.clone(),
        _ => unreachable!("a load balancer"),
    };
    let zone = b.hosted_zone("shop.example.com", false);
    let api = "api.shop.example.com";
    let blue = b.alias_record(
        &zone,
        api,
        &dns,
        Routing::Weighted {
            set: "blue",
            weight: 100,
        },
    );
    let green = b.alias_record(
        &zone,
        api,
        &dns,
        Routing::Weighted {
            set: "green",
            weight: green_weight,
        },
    );
    let primary = b.cname_record(&zone, "db.shop.example.com", "db-a.example.org");
    let secondary = b.cname_record(&zone, "db2.shop.example.com", "db-b.example.org");
    let mut inventory = b.finish();
    // The builder makes plain CNAMEs: turn the pair into a failover set.
    for resource in &mut inventory.resources {
        if let Details::Route53Record(r) = &mut resource.details {
            let role = if resource.id == primary {
                "PRIMARY"
            } else if resource.id == secondary {
                "SECONDARY"
            } else {
                continue;
            };
            r.record_name = "db.shop.example.com.".into();
            r.set_identifier = Some(role.to_lowercase());
            r.failover = Some(role.into());
        }
    }
    let key = |ty, id: &str| ResourceKey::new(ty, "global", id);
    let keys = Keys {
        zone: key(ResourceType::Route53Zone, &zone),
        blue: key(ResourceType::Route53Record, &blue),
        green: key(ResourceType::Route53Record, &green),
        primary: key(ResourceType::Route53Record, &primary),
        secondary: key(ResourceType::Route53Record, &secondary),
    };
    (inventory, keys)
}

struct Keys {
    zone: ResourceKey,
    blue: ResourceKey,
    green: ResourceKey,
    primary: ResourceKey,
    secondary: ResourceKey,
}

fn select(keys: &[&ResourceKey]) -> Selection {
    let mut selection = Selection::default();
    for key in keys {
        selection
            .targets
            .insert((*key).clone(), "selected by the test".into());
    }
    selection
}

fn allowing_moves() -> PlanOptions {
    PlanOptions {
        allow: Allow {
            move_dns_traffic: true,
            ..Allow::default()
        },
        ..PlanOptions::default()
    }
}

#[test]
fn deleting_the_last_weighted_record_above_zero_is_a_blocker_unless_allowed() {
    let (inventory, k) = account(0);
    let plan = plan_for(&inventory, &select(&[&k.blue]), &PlanOptions::default());
    assert!(!plan.applyable);
    assert_eq!(plan.blockers.len(), 1, "{:#?}", plan.blockers);
    let blocker = &plan.blockers[0];
    assert_eq!(blocker.id, k.blue.id);
    assert_eq!(blocker.blocked_by.id, k.green.id);
    assert!(
        blocker.reason.contains("would take its traffic"),
        "{}",
        blocker.reason
    );
    assert!(
        blocker.hint.contains("move_dns_traffic"),
        "{}",
        blocker.hint
    );
    assert_eq!(blocker.path.len(), 2);

    assert!(plan_for(&inventory, &select(&[&k.blue]), &allowing_moves()).applyable);
    // Both records of the set: nothing is left to take the traffic.
    assert!(
        plan_for(
            &inventory,
            &select(&[&k.blue, &k.green]),
            &PlanOptions::default()
        )
        .applyable
    );
    // Green above 0 still takes traffic: blue goes alone.
    let (inventory, k) = account(50);
    assert!(plan_for(&inventory, &select(&[&k.blue]), &PlanOptions::default()).applyable);
}

#[test]
fn deleting_a_failover_primary_whose_secondary_stays_is_a_blocker() {
    let (inventory, k) = account(0);
    let plan = plan_for(&inventory, &select(&[&k.primary]), &PlanOptions::default());
    let blocker = plan
        .blockers
        .iter()
        .find(|b| b.id == k.primary.id)
        .unwrap_or_else(|| panic!("a blocker on the primary: {:#?}", plan.blockers));
    assert_eq!(blocker.blocked_by.id, k.secondary.id);
    assert!(
        blocker.reason.contains("primary of its failover pair"),
        "{}",
        blocker.reason
    );
    assert!(
        plan_for(
            &inventory,
            &select(&[&k.secondary]),
            &PlanOptions::default()
        )
        .applyable
    );
    assert!(plan_for(&inventory, &select(&[&k.primary]), &allowing_moves()).applyable);
}

#[test]
fn a_zone_goes_after_its_records_and_a_kept_record_blocks_it() {
    let (inventory, k) = account(0);
    let every = [&k.zone, &k.blue, &k.green, &k.primary, &k.secondary];
    let plan = plan_for(&inventory, &select(&every), &PlanOptions::default());
    assert!(plan.applyable, "{:#?}", plan.blockers);
    assert_topological(&plan);
    let order = |key: &ResourceKey| {
        plan.steps
            .iter()
            .find(|s| s.ty == key.ty && s.id == key.id)
            .map(|s| s.order)
            .expect("a step")
    };
    for record in [&k.blue, &k.green, &k.primary, &k.secondary] {
        assert!(order(record) < order(&k.zone));
    }
    let plan = plan_for(&inventory, &select(&[&k.zone]), &PlanOptions::default());
    assert!(!plan.applyable);
    assert_eq!(plan.blockers.len(), 4, "{:#?}", plan.blockers);
    assert!(
        plan.blockers
            .iter()
            .all(|b| b.reason.contains("HostedZoneNotEmpty"))
    );
}
