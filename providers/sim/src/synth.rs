//! Synthetic accounts for benchmarks and property tests: `n` service stacks of the
//! ecs-story-5.8 shape beside a few shared, kept resources.

use decom_provider::Inventory;

use crate::build::{AccountBuilder, TargetSpec, tags};

/// The account the synthetic stacks live in.
pub const ACCOUNT_ID: &str = "123456789012";
/// Their region.
pub const REGION: &str = "us-east-1";

/// Resources in one stack: ALB + its 2 ENIs, listener, path rule, 2 target groups,
/// ALB and app security groups, 2 instances + their 2 primary ENIs, instance
/// profile, role, customer policy, 2 log groups.
pub const RESOURCES_PER_STACK: usize = 18;
/// Shared resources beside the stacks: the VPC's default security group,
/// `shared-monitoring-sg`, `shared-ecs-execution-role`.
pub const SHARED_RESOURCES: usize = 3;

/// How many resources `stacks(n, _)` holds.
pub fn resource_count(n: usize) -> usize {
    n * RESOURCES_PER_STACK + SHARED_RESOURCES
}

/// How many stacks make an account of at least `resources` resources.
pub fn stacks_for(resources: usize) -> usize {
    resources
        .saturating_sub(SHARED_RESOURCES)
        .div_ceil(RESOURCES_PER_STACK)
}

/// `n` stacks named `svc-0001-…`, each tagged `Service=svc-0001`, in us-east-1 of
/// account 123456789012; the same `seed` gives the same account, byte for byte.
///
/// Each stack: ALB `svc-NNNN-alb` (SG `svc-NNNN-alb-sg`, 2 ENIs) with an HTTPS
/// listener forwarding to `svc-NNNN-blue` and a rule `path-pattern=/api/*` forwarding
/// to `svc-NNNN-green`; app SG `svc-NNNN-app-sg` admitting the ALB SG; instances
/// `svc-NNNN-ecs-1/2` (registered in both target groups, `unused`) with instance
/// profile `svc-NNNN-ecs-instance-profile` holding role `svc-NNNN-ecs-instance-role`,
/// which has the customer policy `svc-NNNN-ecs-policy` attached and an inline policy
/// `svc-NNNN-logs`; log groups `/ecs/svc-NNNN` and `/ecs/svc-NNNN-migrations`.
/// Shared and kept: the default SG, `shared-monitoring-sg` (admits nothing from the
/// stacks) and `shared-ecs-execution-role` (an AWS managed policy attached).
pub fn stacks(n: usize, seed: u64) -> Inventory {
    let mut b = AccountBuilder::new(ACCOUNT_ID, REGION, seed);
    b.reserve(resource_count(n));
    b.default_security_group();
    let monitoring = b.security_group(
        "shared-monitoring-sg",
        "Prometheus scrapers",
        tags(&[("Team", "platform")]),
    );
    b.allow_from_cidr(&monitoring, "10.0.0.0/16", 9090, "prometheus");
    let execution = b.role(
        "shared-ecs-execution-role",
        "ecs-tasks.amazonaws.com",
        tags(&[("Team", "platform")]),
    );
    b.attach_role_policy(
        &execution,
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    );
    for i in 1..=n {
        stack(&mut b, &format!("svc-{i:04}"));
    }
    b.finish()
}

fn stack(b: &mut AccountBuilder, service: &str) {
    let t = || tags(&[("Service", service), ("Environment", "production")]);
    let alb_sg = b.security_group(&format!("{service}-alb-sg"), "ALB ingress", t());
    b.allow_from_cidr(&alb_sg, "0.0.0.0/0", 443, "HTTPS from anywhere");
    let app_sg = b.security_group(&format!("{service}-app-sg"), "ECS container instances", t());
    b.allow_from_group(&app_sg, &alb_sg, 8080, "from the ALB");

    let policy = b.policy(
        &format!("{service}-ecs-policy"),
        &["ecs:*", "ecr:GetAuthorizationToken", "ecr:BatchGetImage"],
        0,
        t(),
    );
    let role = b.role(
        &format!("{service}-ecs-instance-role"),
        "ec2.amazonaws.com",
        t(),
    );
    b.attach_role_policy(&role, &policy);
    b.inline_policy(
        &role,
        &format!("{service}-logs"),
        &["logs:CreateLogStream", "logs:PutLogEvents"],
    );
    let profile = b.instance_profile(&format!("{service}-ecs-instance-profile"), Some(&role), t());

    let instances: Vec<String> = (1..=2)
        .map(|k| {
            b.instance(
                &format!("{service}-ecs-{k}"),
                "m5.large",
                &[&app_sg],
                Some(&profile),
                t(),
            )
        })
        .collect();
    let targets: Vec<TargetSpec<'_>> = instances
        .iter()
        .map(|id| TargetSpec {
            id,
            port: 8080,
            health: "unused",
        })
        .collect();
    let blue = b.target_group(&format!("{service}-blue"), "HTTP", 8080, &targets, t());
    let green = b.target_group(&format!("{service}-green"), "HTTP", 8080, &targets, t());

    let alb = b.load_balancer(&format!("{service}-alb"), "application", &[&alb_sg], t());
    let listener = b.listener(&alb, "HTTPS", 443, &[&blue]);
    b.listener_rule(&listener, 10, &["path-pattern=/api/*"], &[&green]);

    b.log_group(&format!("/ecs/{service}"), Some(30), 52_428_800, t());
    b.log_group(
        &format!("/ecs/{service}-migrations"),
        Some(14),
        1_048_576,
        t(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use decom_provider::{InventoryIndex, ResourceKey, ResourceType};

    #[test]
    fn same_seed_same_account_other_seed_other_ids() {
        let a = stacks(3, 7).to_json();
        assert_eq!(a, stacks(3, 7).to_json());
        assert_ne!(a, stacks(3, 8).to_json());
    }

    #[test]
    fn counts_match_the_documented_shape() {
        for n in [0, 1, 5] {
            let inventory = stacks(n, 1);
            assert_eq!(inventory.resources.len(), resource_count(n), "n = {n}");
        }
        assert_eq!(stacks_for(1000), 56);
        assert!(resource_count(stacks_for(100_000)) >= 100_000);
    }

    #[test]
    fn round_trips_through_the_snapshot_format() {
        let inventory = stacks(4, 3);
        let loaded = Inventory::from_json(&inventory.to_json(), "synth").unwrap();
        assert_eq!(loaded, inventory);
    }

    #[test]
    fn every_reference_points_at_a_resource_of_the_account() {
        let inventory = stacks(2, 5);
        let index = InventoryIndex::new(&inventory);
        for resource in &inventory.resources {
            for reference in resource.references() {
                assert!(
                    index.contains(&reference.to),
                    "{} points at missing {}",
                    resource.key(),
                    reference.to
                );
            }
        }
        let tagged = inventory
            .resources
            .iter()
            .filter(|r| r.tags.get("Service").map(String::as_str) == Some("svc-0002"))
            .count();
        // Everything but the four ENIs, the listener and the rule carries the tag.
        assert_eq!(tagged, RESOURCES_PER_STACK - 6);
        let role = ResourceKey::new(
            ResourceType::IamRole,
            "global",
            "svc-0001-ecs-instance-role",
        );
        assert!(index.contains(&role));
    }
}
