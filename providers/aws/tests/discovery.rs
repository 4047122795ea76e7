//! Discovery of the web stack and its neighbour: every field and reference the model
//! needs, the requested types only, progress per service and region.

use std::collections::BTreeSet;

use decom_provider::{
    DiscoveryRequest, GLOBAL_REGION, InstanceState, Provider, RefKind, Reference, ResourceKey,
    ResourceType as T, RuleDirection,
};

use decom_testing::stack::{self, FOREIGN_ACCOUNT, INLINE, LOGS_KEY, POLICY_V2, TRUST_EC2};
use decom_testing::{moto_test, unreachable_endpoint};

use crate::{InAccount, RecordedProgress, details, get, ids, key};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("fixture json")
}

moto_test! {
    async fn discovers_every_field_of_the_stack(moto: Moto) {
        let sdk = moto.sdk().await;
        let (stack, more) = stack::build_varied(&sdk).await;
        let region = moto.region.as_str();
        let provider = moto.provider().await;
        let progress = RecordedProgress::default();
        let inv = provider
            .discover(&DiscoveryRequest::everything(vec![moto.region.clone()]), &progress)
            .await
            .expect("discovery");

        assert_eq!(inv.account_id, moto.account);
        assert_eq!(inv.regions, vec![moto.region.clone()]);
        assert_eq!(inv.types, T::ALL.to_vec());
        // One call per page, plus the per-resource calls AWS has no batch form for.
        let calls: Vec<(String, u64)> = provider.api_calls().into_iter().collect();
        let expected: Vec<(String, u64)> = [
            ("autoscaling:DescribeAutoScalingGroups", 1),
            ("autoscaling:DescribeLaunchConfigurations", 1),
            // No alarm, no repository: one listing each, nothing per resource.
            ("cloudwatch:DescribeAlarms", 1),
            ("ec2:DescribeImages", 1),
            ("ec2:DescribeInstanceAttribute", 3),
            ("ec2:DescribeInstances", 1),
            ("ec2:DescribeLaunchTemplateVersions", 1),
            ("ec2:DescribeLaunchTemplates", 1),
            ("ec2:DescribeNetworkInterfaces", 1),
            ("ec2:DescribeSecurityGroupRules", 1),
            ("ec2:DescribeSecurityGroups", 1),
            ("ec2:DescribeSnapshots", 1),
            ("ec2:DescribeVolumes", 1),
            ("ecr:DescribeRepositories", 1),
            // No cluster: nothing to describe; the revisions of both statuses listed.
            ("ecs:ListClusters", 1),
            ("ecs:ListTaskDefinitions", 2),
            ("elasticloadbalancing:DescribeListeners", 1),
            ("elasticloadbalancing:DescribeLoadBalancerAttributes", 1),
            ("elasticloadbalancing:DescribeLoadBalancers", 1),
            ("elasticloadbalancing:DescribeRules", 1),
            ("elasticloadbalancing:DescribeTags", 1),
            ("elasticloadbalancing:DescribeTargetGroups", 1),
            ("elasticloadbalancing:DescribeTargetHealth", 3),
            ("iam:GetAccountAuthorizationDetails", 1),
            ("iam:ListInstanceProfiles", 1),
            ("iam:ListPolicyTags", 2),
            ("logs:DescribeLogGroups", 1),
            ("logs:ListTagsForResource", 4),
            // No zone: no record to list.
            ("route53:ListHostedZones", 1),
            ("sts:GetCallerIdentity", 1),
        ]
        .into_iter()
        .map(|(call, n)| (call.to_string(), n))
        .collect();
        assert_eq!(calls, expected);
        let expected_progress: BTreeSet<String> = [
            "started ec2 eu-west-1", "finished ec2 eu-west-1",
            "started elbv2 eu-west-1", "finished elbv2 eu-west-1",
            "started logs eu-west-1", "finished logs eu-west-1",
            "started ecs eu-west-1", "finished ecs eu-west-1",
            "started autoscaling eu-west-1", "finished autoscaling eu-west-1",
            "started cloudwatch eu-west-1", "finished cloudwatch eu-west-1",
            "started ecr eu-west-1", "finished ecr eu-west-1",
            "started iam global", "finished iam global",
            "started route53 global", "finished route53 global",
        ].into_iter().map(String::from).collect();
        assert_eq!(progress.events(), expected_progress);

        // Security groups and their rules.
        let alb = get(&inv, T::SecurityGroup, &stack.alb.security_group);
        assert_eq!(alb.name, "web-alb");
        assert_eq!(alb.tags.get("stack").map(String::as_str), Some("web"));
        let alb_d = details!(alb, SecurityGroup);
        assert_eq!(alb_d.vpc_id.as_deref(), Some(stack.vpc.as_str()));
        assert_eq!(alb_d.description, "web-alb group");
        assert!(!alb_d.is_default);
        let https = alb_d
            .rules
            .iter()
            .find(|r| r.direction == RuleDirection::Ingress)
            .expect("ingress rule");
        assert!(https.rule_id.starts_with("sgr-"), "{}", https.rule_id);
        assert_eq!(https.protocol, "tcp");
        assert_eq!((https.from_port, https.to_port), (Some(443), Some(443)));
        assert_eq!(https.cidr_ipv4.as_deref(), Some("0.0.0.0/0"));
        assert_eq!(https.description.as_deref(), Some("https from anywhere"));
        assert!(https.referenced_group.is_none());
        let egress = alb_d
            .rules
            .iter()
            .find(|r| r.direction == RuleDirection::Egress)
            .expect("default egress rule");
        assert_eq!(egress.protocol, "-1");
        assert_eq!(egress.cidr_ipv4.as_deref(), Some("0.0.0.0/0"));

        let app = get(&inv, T::SecurityGroup, &stack.web.app_sg);
        let from_alb = details!(app, SecurityGroup)
            .rules
            .iter()
            .find(|r| r.referenced_group.is_some())
            .expect("rule admitting the ALB group");
        let group = from_alb.referenced_group.as_ref().unwrap();
        assert_eq!(group.group_id, stack.alb.security_group);
        assert_eq!(group.account_id, None);
        assert_eq!(from_alb.from_port, Some(8080));
        assert!(app.references().contains(&Reference::new(
            RefKind::RuleReferencesGroup { rule_id: from_alb.rule_id.clone() },
            key(T::SecurityGroup, region, &stack.alb.security_group),
        )));

        let referencing = details!(get(&inv, T::SecurityGroup, &more.referencing_sg), SecurityGroup);
        let referenced: BTreeSet<(String, Option<String>)> = referencing
            .rules
            .iter()
            .filter_map(|r| r.referenced_group.clone())
            .map(|g| (g.group_id, g.account_id))
            .collect();
        assert_eq!(
            referenced,
            BTreeSet::from([
                (stack.web.app_sg.clone(), None),
                (more.foreign_sg.clone(), Some(FOREIGN_ACCOUNT.to_string())),
            ])
        );
        let default_groups: Vec<_> = inv
            .resources
            .iter()
            .filter(|r| r.ty() == T::SecurityGroup && r.name == "default")
            .collect();
        assert!(!default_groups.is_empty());
        assert!(default_groups.iter().all(|g| details!(g, SecurityGroup).is_default));

        // Network interfaces: the load balancer's is attributed to it; the
        // instances' are attached.
        let elb_eni = get(&inv, T::NetworkInterface, &more.lb_interface);
        let eni = details!(elb_eni, NetworkInterface);
        assert_eq!(eni.managed_by, Some(key(T::Lb, region, &stack.alb.arn)));
        assert!(eni.description.starts_with("ELB app/web/"), "{}", eni.description);
        assert_eq!(eni.security_groups, vec![stack.alb.security_group.clone()]);
        assert_eq!(eni.subnet_id.as_deref(), Some(stack.subnets[1].as_str()));
        assert_eq!(eni.vpc_id.as_deref(), Some(stack.vpc.as_str()));
        assert_eq!(eni.status, "available");
        assert_eq!(eni.interface_type, "interface");
        assert!(eni.attachment.is_none());
        assert!(elb_eni.references().contains(&Reference::new(
            RefKind::ManagedBy,
            key(T::Lb, region, &stack.alb.arn)
        )));
        for instance in &stack.web.instances {
            let attached = inv
                .resources
                .iter()
                .filter_map(|r| match &r.details {
                    decom_provider::Details::NetworkInterface(e) => Some(e),
                    _ => None,
                })
                .find(|e| {
                    e.attachment.as_ref().and_then(|a| a.instance_id.as_deref())
                        == Some(instance.as_str())
                })
                .unwrap_or_else(|| panic!("no ENI attached to {instance}"));
            let attachment = attached.attachment.as_ref().unwrap();
            assert_eq!(attachment.device_index, Some(0));
            let sdk_view = sdk
                .ec2
                .describe_network_interfaces()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("attachment.instance-id")
                        .values(instance)
                        .build(),
                )
                .send()
                .await
                .expect("enis");
            let expected = sdk_view.network_interfaces()[0]
                .attachment()
                .and_then(|a| a.delete_on_termination())
                .unwrap_or(false);
            assert_eq!(attachment.delete_on_termination, expected);
            assert_eq!(attached.status, "in-use");
            assert_eq!(attached.security_groups, vec![stack.web.app_sg.clone()]);
            assert!(attached.managed_by.is_none());
        }

        // Instances.
        for id in &stack.web.instances {
            let resource = get(&inv, T::Instance, id);
            assert_eq!(resource.name, "web-task");
            let i = details!(resource, Instance);
            assert_eq!(i.state, InstanceState::Running);
            assert_eq!(i.instance_type, "t3.micro");
            assert_eq!(i.vpc_id.as_deref(), Some(stack.vpc.as_str()));
            assert_eq!(i.security_groups, vec![stack.web.app_sg.clone()]);
            assert_eq!(i.instance_profile.as_deref(), Some(stack.web.profile.as_str()));
            assert_eq!(i.termination_protection, *id == more.protected_instance);
            assert!(i.launch_time.is_some());
            assert!(resource.references().contains(&Reference::new(
                RefKind::UsesInstanceProfile,
                key(T::IamInstanceProfile, region, &stack.web.profile)
            )));
        }

        // Load balancer, listener, rule, target groups.
        let lb = get(&inv, T::Lb, &stack.alb.arn);
        assert_eq!(lb.name, stack.alb.name);
        assert_eq!(lb.tags.get("stack").map(String::as_str), Some("web"));
        let lb_d = details!(lb, Lb);
        assert_eq!(lb_d.lb_type, "application");
        assert_eq!(lb_d.scheme, "internet-facing");
        assert!(!lb_d.dns_name.is_empty());
        assert_eq!(lb_d.vpc_id.as_deref(), Some(stack.vpc.as_str()));
        assert_eq!(lb_d.security_groups, vec![stack.alb.security_group.clone()]);
        assert!(lb_d.deletion_protection);
        assert!(!lb_d.state.is_empty());
        assert!(lb_d.created.is_some());

        let listener = get(&inv, T::LbListener, &stack.alb.listener);
        let l = details!(listener, LbListener);
        assert_eq!(l.load_balancer, stack.alb.arn);
        assert_eq!(l.port, Some(80));
        assert_eq!(l.protocol, "HTTP");
        assert_eq!(l.forward_target_groups, vec![stack.web.target_group.clone(), stack.alb.green_target_group.clone()]);

        assert_eq!(ids(&inv, T::LbListenerRule), BTreeSet::from([stack.alb.rule.clone()]));
        let rule = details!(get(&inv, T::LbListenerRule, &stack.alb.rule), LbListenerRule);
        assert_eq!(rule.listener, stack.alb.listener);
        assert_eq!(rule.priority, "10");
        assert_eq!(rule.conditions, vec!["path-pattern=/api/*".to_string()]);
        assert_eq!(rule.forward_target_groups, vec![stack.alb.green_target_group.clone()]);

        let blue = get(&inv, T::LbTargetGroup, &stack.web.target_group);
        assert_eq!(blue.name, "web-blue");
        assert_eq!(blue.tags.get("stack").map(String::as_str), Some("web"));
        let b = details!(blue, LbTargetGroup);
        assert_eq!(b.target_type, "instance");
        assert_eq!(b.protocol.as_deref(), Some("HTTP"));
        assert_eq!(b.port, Some(8080));
        assert_eq!(b.vpc_id.as_deref(), Some(stack.vpc.as_str()));
        assert_eq!(b.load_balancers, vec![stack.alb.arn.clone()]);
        let mut targets: Vec<_> = b.targets.iter().map(|t| (t.id.clone(), t.port)).collect();
        targets.sort();
        let mut expected: Vec<_> = stack.web.instances.iter().map(|i| (i.clone(), Some(8080))).collect();
        expected.sort();
        assert_eq!(targets, expected);
        assert_eq!(b.healthy_targets(), 2, "moto reports registered targets healthy");
        let green = details!(get(&inv, T::LbTargetGroup, &stack.alb.green_target_group), LbTargetGroup);
        assert_eq!(green.load_balancers, vec![stack.alb.arn.clone()]);
        assert!(green.targets.is_empty());
        let kept = details!(get(&inv, T::LbTargetGroup, &stack.neighbour.target_group), LbTargetGroup);
        assert!(kept.load_balancers.is_empty());

        // IAM.
        assert_eq!(
            ids(&inv, T::IamRole),
            BTreeSet::from([stack.web.role.clone(), stack.neighbour.role.clone(), more.service_role.clone()])
        );
        let role = get(&inv, T::IamRole, &stack.web.role);
        assert_eq!(role.region, GLOBAL_REGION);
        assert_eq!(role.tags.get("stack").map(String::as_str), Some("web"));
        let r = details!(role, IamRole);
        assert_eq!(r.arn, format!("arn:aws:iam::{}:role/{}", moto.account, stack.web.role));
        assert_eq!(r.path, "/");
        assert_eq!(r.trust_policy, Some(json(TRUST_EC2)));
        let mut attached = vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string(), stack.web.policy_arn.clone()];
        attached.sort();
        assert_eq!(r.attached_policies, attached);
        assert_eq!(r.inline_policies.len(), 1);
        assert_eq!(r.inline_policies[0].name, "write-logs");
        assert_eq!(r.inline_policies[0].document, Some(json(INLINE)));
        assert!(!r.service_linked);
        assert!(r.created.is_some());
        assert_eq!(
            role.references(),
            vec![Reference::new(
                RefKind::AttachedPolicy,
                ResourceKey::new(T::IamPolicy, GLOBAL_REGION, &stack.web.policy_arn)
            )]
        );
        assert_eq!(details!(get(&inv, T::IamRole, &more.service_role), IamRole).path, "/service/");

        assert_eq!(
            ids(&inv, T::IamPolicy),
            BTreeSet::from([stack.web.policy_arn.clone(), stack.neighbour.policy_arn.clone()])
        );
        let policy = get(&inv, T::IamPolicy, &stack.web.policy_arn);
        assert_eq!(policy.name, "web-assets");
        assert_eq!(policy.tags.get("stack").map(String::as_str), Some("web"));
        let p = details!(policy, IamPolicy);
        assert_eq!(p.path, "/");
        assert_eq!(p.default_version_id, "v2");
        let versions: Vec<_> = p.versions.iter().map(|v| (v.version_id.as_str(), v.is_default)).collect();
        assert_eq!(versions, vec![("v1", false), ("v2", true)]);
        assert_eq!(p.attachment_count, 3);
        assert_eq!(p.attached_users, vec![more.user.clone()]);
        assert_eq!(p.attached_groups, vec![more.group.clone()]);
        assert_eq!(p.document, Some(json(POLICY_V2)));

        let profile = get(&inv, T::IamInstanceProfile, &stack.web.profile);
        let pr = details!(profile, IamInstanceProfile);
        assert_eq!(pr.roles, vec![stack.web.role.clone()]);
        assert_eq!(pr.path, "/");
        assert!(pr.arn.ends_with(&format!(":instance-profile/{}", stack.web.profile)));

        // Log groups.
        assert_eq!(
            ids(&inv, T::CloudwatchLogGroup),
            stack.web.log_groups.iter().chain(&stack.neighbour.log_groups).cloned().collect()
        );
        let web = get(&inv, T::CloudwatchLogGroup, &stack.web.log_groups[0]);
        assert_eq!(web.tags.get("stack").map(String::as_str), Some("web"));
        let w = details!(web, CloudwatchLogGroup);
        assert_eq!(w.retention_days, Some(30));
        assert!(w.arn.ends_with(":log-group:/ecs/web"), "{}", w.arn);
        assert!(w.created.is_some());
        assert!(w.stored_bytes.is_some());
        assert_eq!(w.kms_key_id, None);
        let migrations = details!(get(&inv, T::CloudwatchLogGroup, &stack.web.log_groups[1]), CloudwatchLogGroup);
        assert_eq!(migrations.kms_key_id.as_deref(), Some(LOGS_KEY));
        assert_eq!(migrations.retention_days, None);
        for name in &stack.neighbour.log_groups {
            assert_eq!(details!(get(&inv, T::CloudwatchLogGroup, name), CloudwatchLogGroup).retention_days, None);
        }
    }
}

moto_test! {
    async fn discovers_only_the_requested_types(moto: Moto) {
        let sdk = moto.sdk().await;
        let (stack, more) = stack::build_varied(&sdk).await;
        let region = moto.region.as_str();

        let provider = moto.provider().await;
        let request = DiscoveryRequest {
            regions: vec![moto.region.clone()],
            types: BTreeSet::from([T::NetworkInterface]),
        };
        let inv = provider
            .discover(&request, &decom_provider::NoProgress)
            .await
            .expect("discovery");
        assert_eq!(inv.types, vec![T::NetworkInterface]);
        assert!(inv.resources.iter().all(|r| r.ty() == T::NetworkInterface));
        // The load balancers (and ECS clusters, for their tasks' interfaces) were
        // listed to attribute their interfaces, not returned.
        let eni = details!(get(&inv, T::NetworkInterface, &more.lb_interface), NetworkInterface);
        assert_eq!(eni.managed_by, Some(key(T::Lb, region, &stack.alb.arn)));
        let calls: BTreeSet<String> = provider.api_calls().into_keys().collect();
        assert_eq!(
            calls,
            BTreeSet::from([
                "sts:GetCallerIdentity".to_string(),
                "ec2:DescribeNetworkInterfaces".to_string(),
                "elasticloadbalancing:DescribeLoadBalancers".to_string(),
                "ecs:ListClusters".to_string(),
            ])
        );

        let provider = moto.provider().await;
        let request = DiscoveryRequest {
            regions: vec![moto.region.clone()],
            types: BTreeSet::from([T::IamInstanceProfile, T::CloudwatchLogGroup]),
        };
        let inv = provider
            .discover(&request, &decom_provider::NoProgress)
            .await
            .expect("discovery");
        assert_eq!(inv.types, vec![T::IamInstanceProfile, T::CloudwatchLogGroup]);
        assert_eq!(
            ids(&inv, T::IamInstanceProfile),
            BTreeSet::from([stack.web.profile.clone(), stack.neighbour.profile.clone()])
        );
        assert_eq!(ids(&inv, T::CloudwatchLogGroup).len(), 4);
        let calls: Vec<(String, u64)> = provider.api_calls().into_iter().collect();
        assert_eq!(
            calls,
            vec![
                ("iam:ListInstanceProfiles".to_string(), 1),
                ("logs:DescribeLogGroups".to_string(), 1),
                ("logs:ListTagsForResource".to_string(), 4),
                ("sts:GetCallerIdentity".to_string(), 1),
            ]
        );
    }
}

moto_test! {
    async fn an_instance_profile_without_a_role_is_found(moto: Moto) {
        let sdk = moto.sdk().await;
        sdk.iam
            .create_instance_profile()
            .instance_profile_name("orphan")
            .path("/legacy/")
            .send()
            .await
            .expect("profile");
        let provider = moto.provider().await;
        let inv = provider
            .discover(&DiscoveryRequest::everything(vec![moto.region.clone()]), &decom_provider::NoProgress)
            .await
            .expect("discovery");
        let profile = details!(get(&inv, T::IamInstanceProfile, "orphan"), IamInstanceProfile);
        assert!(profile.roles.is_empty());
        assert_eq!(profile.path, "/legacy/");
        assert!(ids(&inv, T::IamRole).is_empty());
    }
}

fn logs_unreachable() -> Vec<(String, String)> {
    vec![
        (
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS".to_string(),
            unreachable_endpoint(),
        ),
        ("AWS_MAX_ATTEMPTS".to_string(), "1".to_string()),
    ]
}

moto_test! {
    env: logs_unreachable;
    async fn a_failing_service_fails_the_whole_discovery(moto: Moto) {
        let sdk = moto.sdk().await;
        stack::security_group(
            &sdk,
            &stack::vpc_with_subnets(&sdk).await.0,
            "kept",
            "x",
        )
        .await;
        let provider = moto.provider().await;
        let error = provider
            .discover(&DiscoveryRequest::everything(vec![moto.region.clone()]), &decom_provider::NoProgress)
            .await
            .expect_err("logs cannot be reached: no partial inventory");
        assert_eq!(error.operation, "logs:DescribeLogGroups");
        assert_eq!(error.region.as_deref(), Some(moto.region.as_str()));
        assert_eq!(error.kind, decom_provider::ErrorKind::Transient, "{error}");
        assert!(
            error.to_string().starts_with("logs:DescribeLogGroups failed in eu-west-1: DispatchFailure"),
            "{error}"
        );
        // The per-service endpoint variable reached only that service.
        let request = DiscoveryRequest {
            regions: vec![moto.region.clone()],
            types: BTreeSet::from([T::SecurityGroup, T::IamRole]),
        };
        let inv = provider
            .discover(&request, &decom_provider::NoProgress)
            .await
            .expect("EC2 and IAM still answer");
        assert!(inv.resources.iter().any(|r| r.name == "kept"));
    }
}

moto_test! {
    async fn discovers_several_regions_and_service_linked_roles(moto: Moto) {
        let sdk = moto.sdk().await;
        sdk.iam
            .create_service_linked_role()
            .aws_service_name("elasticloadbalancing.amazonaws.com")
            .send()
            .await
            .expect("service-linked role");
        let west = stack::security_group(&sdk, &stack::vpc_with_subnets(&sdk).await.0, "west", "x").await;
        let east_sdk = moto.sdk_in("us-east-1").await;
        let east = stack::security_group(&east_sdk, &stack::vpc_with_subnets(&east_sdk).await.0, "east", "x").await;

        let provider = moto.provider().await;
        let progress = RecordedProgress::default();
        let request = DiscoveryRequest {
            regions: vec!["us-east-1".to_string(), moto.region.clone()],
            types: BTreeSet::from([T::SecurityGroup, T::IamRole]),
        };
        let inv = provider.discover(&request, &progress).await.expect("discovery");
        assert_eq!(inv.regions, vec![moto.region.clone(), "us-east-1".to_string()]);
        assert_eq!(get(&inv, T::SecurityGroup, &west).region, moto.region);
        assert_eq!(get(&inv, T::SecurityGroup, &east).region, "us-east-1");
        let expected: BTreeSet<String> = [
            "started ec2 eu-west-1", "finished ec2 eu-west-1",
            "started ec2 us-east-1", "finished ec2 us-east-1",
            "started iam global", "finished iam global",
        ].into_iter().map(String::from).collect();
        assert_eq!(progress.events(), expected);
        assert_eq!(provider.api_calls().get("iam:GetAccountAuthorizationDetails"), Some(&1), "IAM once");
        assert_eq!(provider.api_calls().get("ec2:DescribeSecurityGroups"), Some(&2), "once per region");

        let linked: Vec<_> = inv.resources.iter().filter(|r| r.ty() == T::IamRole).collect();
        assert_eq!(linked.len(), 1);
        let role = details!(linked[0], IamRole);
        assert!(role.service_linked, "{role:?}");
        assert!(role.path.starts_with("/aws-service-role/"), "{}", role.path);
    }
}

moto_test! {
    async fn discovers_a_scaling_group_its_template_instances_and_volumes(moto: Moto) {
        let sdk = moto.sdk().await;
        let fleet = stack::build_fleet(&sdk).await;
        let provider = moto.provider().await;
        let inv = provider
            .discover(
                &DiscoveryRequest::everything(vec![moto.region.clone()]),
                &decom_provider::NoProgress,
            )
            .await
            .expect("discovery");

        let group = get(&inv, T::AutoscalingGroup, &fleet.group);
        let group_d = details!(group, AutoscalingGroup);
        assert_eq!(
            (group_d.min_size, group_d.desired_capacity, group_d.max_size),
            (2, 2, 2)
        );
        assert_eq!(group_d.launch_template.as_deref(), Some(fleet.template.as_str()));
        assert_eq!(group_d.target_groups, vec![fleet.target_group.clone()]);
        assert_eq!(group_d.instances, fleet.instances);
        assert_eq!(group.tags.get("stack").map(String::as_str), Some("fleet"));
        let refs = group.references();
        assert!(refs.contains(&Reference::new(
            RefKind::LaunchesFrom,
            key(T::LaunchTemplate, &moto.region, &fleet.template)
        )));
        assert!(refs.contains(&Reference::new(
            RefKind::RegistersInstancesIn,
            key(T::LbTargetGroup, &moto.region, &fleet.target_group)
        )));

        let template = get(&inv, T::LaunchTemplate, &fleet.template);
        assert_eq!(template.name, "fleet-lt");
        let template_d = details!(template, LaunchTemplate);
        assert_eq!(template_d.security_groups, vec![fleet.security_group.clone()]);

        // The instances name their group (the tag AWS puts on them); their root
        // volumes are deleted on termination (from the instances' block devices).
        for id in &fleet.instances {
            let instance = get(&inv, T::Instance, id);
            assert_eq!(instance.autoscaling_group(), Some(fleet.group.as_str()));
            assert!(instance.references().contains(&Reference::new(
                RefKind::InstanceOfGroup,
                key(T::AutoscalingGroup, &moto.region, &fleet.group)
            )));
        }
        for id in &fleet.root_volumes {
            let volume = details!(get(&inv, T::EbsVolume, id), EbsVolume);
            let attachment = volume.attached_instance().expect("attached");
            assert!(fleet.instances.contains(&attachment.instance_id));
            assert!(attachment.delete_on_termination, "{id}");
        }
        let data = details!(get(&inv, T::EbsVolume, &fleet.data_volume), EbsVolume);
        assert!(data.attachments.is_empty());
        assert_eq!(data.size_gib, 10);
        let snapshot = details!(get(&inv, T::EbsSnapshot, &fleet.snapshot), EbsSnapshot);
        assert_eq!(snapshot.volume_id.as_deref(), Some(fleet.data_volume.as_str()));
        assert!(snapshot.images.is_empty());

        // The archive describes the group with what the model leaves out.
        let described = provider
            .describe(&key(T::AutoscalingGroup, &moto.region, &fleet.group))
            .await
            .expect("describe")
            .expect("the group exists");
        assert_eq!(described["model"]["id"], fleet.group.as_str());
        assert!(described.get("vpc_zone_identifier").is_some());
    }
}
