//! Pagination: hundreds of resources per type, every one found, and the calls
//! counted. moto pages DescribeInstances (100 reservations), DescribeLoadBalancers,
//! DescribeRules and DescribeLogGroups (50 each); it answers DescribeSecurityGroups,
//! DescribeTargetGroups, GetAccountAuthorizationDetails and ListInstanceProfiles in
//! one page, so for those the test proves completeness, not the paging itself.

use std::collections::BTreeSet;

use decom_provider::{DiscoveryRequest, NoProgress, Provider, ResourceType as T};

use decom_testing::child::Moto;
use decom_testing::stack::{self, POLICY_V1, TRUST_EC2};
use decom_testing::{in_parallel, moto_test};

use crate::{InAccount, ids};

const PARALLEL: usize = 8;

fn request(moto: &Moto, types: &[T]) -> DiscoveryRequest {
    DiscoveryRequest {
        regions: vec![moto.region.clone()],
        types: types.iter().copied().collect(),
    }
}

fn calls(provider: &impl Provider, call: &str) -> u64 {
    provider.api_calls().get(call).copied().unwrap_or(0)
}

moto_test! {
    async fn pages_through_log_groups(moto: Moto) {
        let sdk = moto.sdk().await;
        let names: Vec<String> = (0..150).map(|i| format!("/app/group-{i:03}")).collect();
        in_parallel(names.clone(), PARALLEL, |name| {
            let logs = sdk.logs.clone();
            async move { logs.create_log_group().log_group_name(name).send().await.expect("log group") }
        })
        .await;
        let provider = moto.provider().await;
        let inv = provider.discover(&request(&moto, &[T::CloudwatchLogGroup]), &NoProgress).await.expect("discovery");
        assert_eq!(ids(&inv, T::CloudwatchLogGroup), names.into_iter().collect::<BTreeSet<_>>());
        assert_eq!(calls(&provider, "logs:DescribeLogGroups"), 3, "150 groups in pages of 50");
        assert_eq!(calls(&provider, "logs:ListTagsForResource"), 150);
    }
}

moto_test! {
    async fn pages_through_security_groups_and_instances(moto: Moto) {
        let sdk = moto.sdk().await;
        let (vpc, subnets) = stack::vpc_with_subnets(&sdk).await;
        let groups = in_parallel((0..120).collect(), PARALLEL, |i: usize| {
            let sdk = sdk.clone();
            let vpc = vpc.clone();
            async move { stack::security_group(&sdk, &vpc, &format!("sg-{i:03}"), "bulk").await }
        })
        .await;
        // One reservation per RunInstances: 105 reservations make two pages.
        let instances = in_parallel((0..105).collect(), PARALLEL, |_: usize| {
            let ec2 = sdk.ec2.clone();
            let subnet = subnets[0].clone();
            async move {
                ec2.run_instances()
                    .image_id("ami-12c6146b")
                    .min_count(1)
                    .max_count(1)
                    .subnet_id(subnet)
                    .send()
                    .await
                    .expect("run instance")
                    .instances()[0]
                    .instance_id()
                    .expect("id")
                    .to_string()
            }
        })
        .await;
        let provider = moto.provider().await;
        let inv = provider
            .discover(&request(&moto, &[T::SecurityGroup, T::Instance]), &NoProgress)
            .await
            .expect("discovery");
        let found = ids(&inv, T::SecurityGroup);
        assert!(groups.iter().all(|g| found.contains(g)), "missing security groups");
        assert_eq!(ids(&inv, T::Instance), instances.into_iter().collect::<BTreeSet<_>>());
        assert_eq!(calls(&provider, "ec2:DescribeInstances"), 2, "105 reservations in pages of 100");
        assert_eq!(calls(&provider, "ec2:DescribeInstanceAttribute"), 105);
        assert_eq!(calls(&provider, "ec2:DescribeSecurityGroups"), 1);
        assert_eq!(calls(&provider, "ec2:DescribeSecurityGroupRules"), 1);
    }
}

moto_test! {
    async fn pages_through_load_balancers_rules_and_target_groups(moto: Moto) {
        let sdk = moto.sdk().await;
        let (vpc, subnets) = stack::vpc_with_subnets(&sdk).await;
        let sg = stack::security_group(&sdk, &vpc, "lb", "bulk").await;
        let lbs = in_parallel((0..55).collect(), PARALLEL, |i: usize| {
            let (sdk, subnets, sg) = (sdk.clone(), subnets.clone(), sg.clone());
            async move { stack::load_balancer(&sdk, &format!("lb-{i:03}"), &subnets, &sg, "bulk").await }
        })
        .await;
        let tgs = in_parallel((0..450).collect(), PARALLEL, |i: usize| {
            let (sdk, vpc) = (sdk.clone(), vpc.clone());
            let name = format!("tg-{i:03}");
            // Each tagged with its own name: the tags are read in batches.
            async move { stack::target_group(&sdk, &vpc, &name, &name).await }
        })
        .await;
        let listener = sdk
            .elbv2
            .create_listener()
            .load_balancer_arn(&lbs[0])
            .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
            .port(80)
            .default_actions(stack::forward_one(&tgs[0]))
            .send()
            .await
            .expect("listener")
            .listeners()[0]
            .listener_arn()
            .expect("arn")
            .to_string();
        let rules = in_parallel((1..=55).collect(), PARALLEL, |i: i32| {
            let (elbv2, listener, tg) = (sdk.elbv2.clone(), listener.clone(), tgs[i as usize].clone());
            async move {
                elbv2
                    .create_rule()
                    .listener_arn(listener)
                    .priority(i)
                    .conditions(stack::path_condition(&format!("/r{i}/*")))
                    .actions(stack::forward_one(&tg))
                    .send()
                    .await
                    .expect("rule")
                    .rules()[0]
                    .rule_arn()
                    .expect("arn")
                    .to_string()
            }
        })
        .await;

        let provider = moto.provider().await;
        let inv = provider
            .discover(
                &request(&moto, &[T::Lb, T::LbListener, T::LbListenerRule, T::LbTargetGroup]),
                &NoProgress,
            )
            .await
            .expect("discovery");
        assert_eq!(ids(&inv, T::Lb), lbs.iter().cloned().collect::<BTreeSet<_>>());
        assert_eq!(ids(&inv, T::LbTargetGroup), tgs.iter().cloned().collect::<BTreeSet<_>>());
        assert_eq!(ids(&inv, T::LbListenerRule), rules.iter().cloned().collect::<BTreeSet<_>>());
        assert_eq!(ids(&inv, T::LbListener), BTreeSet::from([listener]));
        assert_eq!(calls(&provider, "elasticloadbalancing:DescribeLoadBalancers"), 2, "55 in pages of 50");
        assert_eq!(calls(&provider, "elasticloadbalancing:DescribeRules"), 2, "56 rules in pages of 50");
        assert_eq!(calls(&provider, "elasticloadbalancing:DescribeListeners"), 55);
        assert_eq!(calls(&provider, "elasticloadbalancing:DescribeLoadBalancerAttributes"), 55);
        assert_eq!(calls(&provider, "elasticloadbalancing:DescribeTargetGroups"), 1);
        assert_eq!(calls(&provider, "elasticloadbalancing:DescribeTargetHealth"), 450);
        let tagged: u64 = 55 + 1 + 55 + 450;
        assert_eq!(
            calls(&provider, "elasticloadbalancing:DescribeTags"),
            tagged.div_ceil(20),
            "tags in batches of 20"
        );
        let tg = inv.resources.iter().find(|r| r.id == tgs[7]).unwrap();
        assert_eq!(tg.tags.get("stack").map(String::as_str), Some("tg-007"));
    }
}

moto_test! {
    async fn finds_every_role_policy_and_profile(moto: Moto) {
        let sdk = moto.sdk().await;
        let roles = in_parallel((0..120).collect(), PARALLEL, |i: usize| {
            let iam = sdk.iam.clone();
            async move {
                let name = format!("role-{i:03}");
                iam.create_role()
                    .role_name(&name)
                    .assume_role_policy_document(TRUST_EC2)
                    .send()
                    .await
                    .expect("role");
                iam.create_instance_profile()
                    .instance_profile_name(&name)
                    .send()
                    .await
                    .expect("profile");
                iam.create_policy()
                    .policy_name(&name)
                    .policy_document(POLICY_V1)
                    .send()
                    .await
                    .expect("policy");
                name
            }
        })
        .await;
        let provider = moto.provider().await;
        let inv = provider
            .discover(&request(&moto, &[T::IamRole, T::IamPolicy, T::IamInstanceProfile]), &NoProgress)
            .await
            .expect("discovery");
        let expected: BTreeSet<String> = roles.iter().cloned().collect();
        assert_eq!(ids(&inv, T::IamRole), expected);
        assert_eq!(ids(&inv, T::IamInstanceProfile), expected);
        assert_eq!(ids(&inv, T::IamPolicy).len(), 120);
        assert_eq!(calls(&provider, "iam:GetAccountAuthorizationDetails"), 1);
        assert_eq!(calls(&provider, "iam:ListInstanceProfiles"), 1);
        assert_eq!(calls(&provider, "iam:ListPolicyTags"), 120);
    }
}
