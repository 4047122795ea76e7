//! Every action against moto, its effect checked through the SDK; error kinds for
//! refusals and for deleting what is already gone; archive descriptions.

use std::time::{Duration, Instant};

use decom_provider::{
    Action, DiscoveryRequest, ErrorKind, Operation, Provider, ProviderError, ResourceType as T,
    RuleDirection,
};

use decom_testing::child::Moto;
use decom_testing::stack::{self, INLINE, POLICY_V1, POLICY_V2, TRUST_EC2};
use decom_testing::{Sdk, moto_test};

use crate::{InAccount, details, get, key};

fn op(moto: &Moto, ty: T, id: &str, action: Action) -> Operation {
    Operation::new(key(ty, &moto.region, id), action)
}

/// A metric filter `errors` on the log group.
async fn error_metric_filter(sdk: &Sdk, log_group: &str) {
    sdk.logs
        .put_metric_filter()
        .log_group_name(log_group)
        .filter_name("errors")
        .filter_pattern("ERROR")
        .metric_transformations(
            aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name("Errors")
                .metric_namespace("Test")
                .metric_value("1")
                .build()
                .expect("transformation"),
        )
        .send()
        .await
        .expect("metric filter");
}

async fn ok(provider: &impl Provider, operation: Operation) {
    if let Err(e) = provider.execute(&operation).await {
        panic!("{operation}: {e}");
    }
}

async fn fails(provider: &impl Provider, operation: Operation) -> ProviderError {
    match provider.execute(&operation).await {
        Ok(()) => panic!("{operation} succeeded; expected an error"),
        Err(e) => e,
    }
}

/// Polls `is_settled` at the provider's interval, at most `bound`.
async fn settles(provider: &impl Provider, operation: &Operation, bound: Duration) {
    let started = Instant::now();
    loop {
        if provider.is_settled(operation).await.expect("is_settled") {
            return;
        }
        assert!(
            started.elapsed() < bound,
            "{operation} did not settle within {bound:?}"
        );
        tokio::time::sleep(provider.poll_interval()).await;
    }
}

async fn lb_protection(sdk: &Sdk, arn: &str) -> String {
    sdk.elbv2
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .expect("attributes")
        .attributes()
        .iter()
        .find(|a| a.key() == Some("deletion_protection.enabled"))
        .and_then(|a| a.value())
        .unwrap_or_default()
        .to_string()
}

async fn termination_protected(sdk: &Sdk, id: &str) -> bool {
    sdk.ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .expect("attribute")
        .disable_api_termination()
        .and_then(|v| v.value())
        .unwrap_or(false)
}

async fn rule_ids(sdk: &Sdk, group: &str) -> Vec<(String, bool)> {
    sdk.ec2
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(group)
                .build(),
        )
        .send()
        .await
        .expect("rules")
        .security_group_rules()
        .iter()
        .map(|r| {
            (
                r.security_group_rule_id().unwrap_or_default().to_string(),
                r.is_egress().unwrap_or(false),
            )
        })
        .collect()
}

moto_test! {
    async fn executes_every_action(moto: Moto) {
        let sdk = moto.sdk().await;
        let (s, more) = stack::build_varied(&sdk).await;
        let provider = moto.provider().await;
        let inv = provider
            .discover(&DiscoveryRequest::everything(vec![moto.region.clone()]), &decom_provider::NoProgress)
            .await
            .expect("discovery");

        // Load balancer side: protection off, rule, listener, balancer, groups.
        assert_eq!(lb_protection(&sdk, &s.alb.arn).await, "true");
        ok(&provider, op(&moto, T::Lb, &s.alb.arn, Action::DisableDeletionProtection)).await;
        assert_eq!(lb_protection(&sdk, &s.alb.arn).await, "false");

        let in_use = fails(&provider, op(&moto, T::LbTargetGroup, &s.web.target_group, Action::Delete)).await;
        assert_eq!((in_use.kind, in_use.code.as_str()), (ErrorKind::Conflict, "ResourceInUse"));
        assert_eq!(in_use.operation, "elasticloadbalancing:DeleteTargetGroup");
        assert_eq!(in_use.region.as_deref(), Some(moto.region.as_str()));

        ok(&provider, op(&moto, T::LbListenerRule, &s.alb.rule, Action::Delete)).await;
        let rules = sdk.elbv2.describe_rules().listener_arn(&s.alb.listener).send().await.expect("rules");
        assert!(rules.rules().iter().all(|r| r.is_default() == Some(true)));
        ok(&provider, op(&moto, T::LbListener, &s.alb.listener, Action::Delete)).await;
        ok(&provider, op(&moto, T::Lb, &s.alb.arn, Action::Delete)).await;
        let lbs = sdk.elbv2.describe_load_balancers().send().await.expect("lbs");
        assert!(lbs.load_balancers().is_empty());
        for tg in [&s.web.target_group, &s.alb.green_target_group] {
            ok(&provider, op(&moto, T::LbTargetGroup, tg, Action::Delete)).await;
        }
        let tgs = sdk.elbv2.describe_target_groups().send().await.expect("tgs");
        let left: Vec<_> = tgs.target_groups().iter().filter_map(|t| t.target_group_arn()).collect();
        assert_eq!(left, vec![s.neighbour.target_group.as_str()]);

        // Instances: protection refuses, is turned off, termination settles.
        let refused = fails(&provider, op(&moto, T::Instance, &more.protected_instance, Action::Delete)).await;
        assert_eq!(refused.kind, ErrorKind::NotPermitted, "{refused}");
        assert_eq!(refused.operation, "ec2:TerminateInstances");
        assert!(termination_protected(&sdk, &more.protected_instance).await);
        ok(&provider, op(&moto, T::Instance, &more.protected_instance, Action::DisableTerminationProtection)).await;
        assert!(!termination_protected(&sdk, &more.protected_instance).await);
        for id in &s.web.instances {
            let terminate = op(&moto, T::Instance, id, Action::Delete);
            ok(&provider, terminate.clone()).await;
            settles(&provider, &terminate, Duration::from_secs(30)).await;
        }

        // Network interface: AwaitDeletion makes no call and settles once it is gone.
        let wait = op(&moto, T::NetworkInterface, &more.lb_interface, Action::AwaitDeletion);
        let before = provider.api_calls();
        ok(&provider, wait.clone()).await;
        assert_eq!(provider.api_calls(), before, "AwaitDeletion made a call");
        assert!(!provider.is_settled(&wait).await.expect("is_settled"));
        ok(&provider, op(&moto, T::NetworkInterface, &more.lb_interface, Action::Delete)).await;
        settles(&provider, &wait, Duration::from_secs(5)).await;

        // Security group rules: one ingress (the app group's rule admitting the ALB's)
        // and one egress rule, by id.
        let app = details!(get(&inv, T::SecurityGroup, &s.web.app_sg), SecurityGroup);
        let ingress = app.rules.iter().find(|r| r.direction == RuleDirection::Ingress).unwrap();
        let egress = app.rules.iter().find(|r| r.direction == RuleDirection::Egress).unwrap();
        for rule in [ingress, egress] {
            ok(&provider, op(&moto, T::SecurityGroup, &s.web.app_sg, Action::RevokeRule { rule_id: rule.rule_id.clone() })).await;
            assert!(!rule_ids(&sdk, &s.web.app_sg).await.iter().any(|(id, _)| *id == rule.rule_id));
        }
        let again = fails(&provider, op(&moto, T::SecurityGroup, &s.web.app_sg, Action::RevokeRule { rule_id: ingress.rule_id.clone() })).await;
        assert_eq!(again.kind, ErrorKind::NotFound, "{again}");
        for sg in [&s.web.app_sg, &s.alb.security_group] {
            ok(&provider, op(&moto, T::SecurityGroup, sg, Action::Delete)).await;
        }
        // (moto lets a VPC's default group be deleted; AWS answers CannotDelete, which
        // the simulator covers.)

        // IAM: a role with attachments conflicts; detach, delete inline, remove from
        // the profile, then it goes.
        let conflict = fails(&provider, op(&moto, T::IamRole, &s.web.role, Action::Delete)).await;
        assert_eq!((conflict.kind, conflict.code.as_str()), (ErrorKind::Conflict, "DeleteConflict"));
        assert_eq!(conflict.operation, "iam:DeleteRole");
        assert_eq!(conflict.region, None);
        for policy_arn in [s.web.policy_arn.clone(), "arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()] {
            ok(&provider, op(&moto, T::IamRole, &s.web.role, Action::DetachRolePolicy { policy_arn })).await;
        }
        let attached = sdk.iam.list_attached_role_policies().role_name(&s.web.role).send().await.expect("attached");
        assert!(attached.attached_policies().is_empty());
        ok(&provider, op(&moto, T::IamRole, &s.web.role, Action::DeleteInlinePolicy { policy_name: "write-logs".into() })).await;
        let inline = sdk.iam.list_role_policies().role_name(&s.web.role).send().await.expect("inline");
        assert!(inline.policy_names().is_empty());
        let conflict = fails(&provider, op(&moto, T::IamInstanceProfile, &s.web.profile, Action::Delete)).await;
        assert_eq!(conflict.kind, ErrorKind::Conflict, "{conflict}");
        ok(&provider, op(&moto, T::IamInstanceProfile, &s.web.profile, Action::RemoveRoleFromProfile { role: s.web.role.clone() })).await;
        let profile = sdk.iam.get_instance_profile().instance_profile_name(&s.web.profile).send().await.expect("profile");
        assert!(profile.instance_profile().unwrap().roles().is_empty());
        ok(&provider, op(&moto, T::IamRole, &s.web.role, Action::Delete)).await;
        ok(&provider, op(&moto, T::IamInstanceProfile, &s.web.profile, Action::Delete)).await;

        ok(&provider, op(&moto, T::IamPolicy, &s.web.policy_arn, Action::DeletePolicyVersion { version_id: "v1".into() })).await;
        let versions = sdk.iam.list_policy_versions().policy_arn(&s.web.policy_arn).send().await.expect("versions");
        let versions: Vec<_> = versions.versions().iter().filter_map(|v| v.version_id()).collect();
        assert_eq!(versions, vec!["v2"]);
        ok(&provider, op(&moto, T::IamPolicy, &s.web.policy_arn, Action::DetachUserPolicy { user: more.user.clone() })).await;
        ok(&provider, op(&moto, T::IamPolicy, &s.web.policy_arn, Action::DetachGroupPolicy { group: more.group.clone() })).await;
        let user = sdk.iam.list_attached_user_policies().user_name(&more.user).send().await.expect("user");
        assert!(user.attached_policies().is_empty());
        let group = sdk.iam.list_attached_group_policies().group_name(&more.group).send().await.expect("group");
        assert!(group.attached_policies().is_empty());
        ok(&provider, op(&moto, T::IamPolicy, &s.web.policy_arn, Action::Delete)).await;

        for name in &s.web.log_groups {
            ok(&provider, op(&moto, T::CloudwatchLogGroup, name, Action::Delete)).await;
        }

        // What is left is the neighbour stack, untouched.
        let after = provider
            .discover(&DiscoveryRequest::everything(vec![moto.region.clone()]), &decom_provider::NoProgress)
            .await
            .expect("discovery");
        let survivors = |ty: T| crate::ids(&after, ty);
        let n = &s.neighbour;
        assert!(survivors(T::SecurityGroup).contains(&more.referencing_sg));
        assert!(survivors(T::SecurityGroup).contains(&n.app_sg));
        assert!(!survivors(T::SecurityGroup).contains(&s.web.app_sg));
        assert_eq!(survivors(T::LbTargetGroup), [n.target_group.clone()].into());
        assert_eq!(survivors(T::IamRole), [n.role.clone(), more.service_role.clone()].into());
        assert_eq!(survivors(T::CloudwatchLogGroup), n.log_groups.iter().cloned().collect());
        assert!(survivors(T::Lb).is_empty());
        assert_eq!(survivors(T::Instance), n.instances.iter().cloned().collect(), "terminated instances are not listed");
        assert_eq!(survivors(T::IamPolicy), [n.policy_arn.clone()].into());
        assert_eq!(survivors(T::IamInstanceProfile), [n.profile.clone()].into());

        // Deleting again: NotFound, which the engine counts as done. (DeleteLoadBalancer
        // succeeds for a missing balancer in AWS too; moto also lets DeleteRule succeed.)
        let gone = [
            op(&moto, T::SecurityGroup, &s.web.app_sg, Action::Delete),
            op(&moto, T::NetworkInterface, &more.lb_interface, Action::Delete),
            op(&moto, T::LbTargetGroup, &s.web.target_group, Action::Delete),
            op(&moto, T::LbListener, &s.alb.listener, Action::Delete),
            op(&moto, T::IamRole, &s.web.role, Action::Delete),
            op(&moto, T::IamPolicy, &s.web.policy_arn, Action::Delete),
            op(&moto, T::IamInstanceProfile, &s.web.profile, Action::Delete),
            op(&moto, T::CloudwatchLogGroup, &s.web.log_groups[0], Action::Delete),
            op(&moto, T::IamRole, &s.web.role, Action::DetachRolePolicy { policy_arn: s.web.policy_arn.clone() }),
            op(&moto, T::IamRole, &s.web.role, Action::DeleteInlinePolicy { policy_name: "write-logs".into() }),
        ];
        for operation in gone {
            let e = fails(&provider, operation.clone()).await;
            assert_eq!(e.kind, ErrorKind::NotFound, "{operation}: {e}");
        }
        // An action a type does not have is refused without a call.
        let before = provider.api_calls();
        let e = fails(&provider, op(&moto, T::CloudwatchLogGroup, "/ecs/neighbour", Action::DisableDeletionProtection)).await;
        assert_eq!(e.code, "UnsupportedOperation");
        assert_eq!(provider.api_calls(), before);
    }
}

moto_test! {
    async fn describes_resources_for_the_archive(moto: Moto) {
        let sdk = moto.sdk().await;
        let (s, more) = stack::build_varied(&sdk).await;
        error_metric_filter(&sdk, &s.web.log_groups[0]).await;
        let provider = moto.provider().await;
        let describe = |ty: T, id: &str| {
            let target = key(ty, &moto.region, id);
            let provider = &provider;
            async move {
                provider
                    .describe(&target)
                    .await
                    .unwrap_or_else(|e| panic!("describe {target}: {e}"))
            }
        };

        let sg = describe(T::SecurityGroup, &s.web.app_sg).await.expect("app group");
        let rules = sg["model"]["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), 2, "{sg}");
        assert!(rules.iter().any(|r| r["referenced_group"]["group_id"] == s.alb.security_group.as_str()));

        let role = describe(T::IamRole, &s.web.role).await.expect("role");
        assert_eq!(role["model"]["trust_policy"], serde_json::from_str::<serde_json::Value>(TRUST_EC2).unwrap());
        assert_eq!(role["model"]["inline_policies"][0]["document"], serde_json::from_str::<serde_json::Value>(INLINE).unwrap());
        assert_eq!(role["model"]["attached_policies"].as_array().unwrap().len(), 2);
        assert_eq!(role["instance_profiles"], serde_json::json!([s.web.profile]));

        let policy = describe(T::IamPolicy, &s.web.policy_arn).await.expect("policy");
        assert_eq!(policy["model"]["document"], serde_json::from_str::<serde_json::Value>(POLICY_V2).unwrap());
        assert_eq!(policy["attached_roles"], serde_json::json!([s.web.role]));
        assert_eq!(policy["model"]["attached_users"], serde_json::json!([more.user]));

        let profile = describe(T::IamInstanceProfile, &s.web.profile).await.expect("profile");
        assert_eq!(profile["model"]["roles"], serde_json::json!([s.web.role]));

        let lb = describe(T::Lb, &s.alb.arn).await.expect("lb");
        assert_eq!(lb["attributes"]["deletion_protection.enabled"], "true");
        assert_eq!(lb["model"]["tags"]["stack"], "web");
        let listeners = lb["listeners"].as_array().expect("listeners");
        assert_eq!(listeners.len(), 1);
        assert_eq!(listeners[0]["rules"].as_array().unwrap().len(), 2, "the default rule and the path rule");
        assert_eq!(listeners[0]["model"]["forward_target_groups"].as_array().unwrap().len(), 2);

        let listener = describe(T::LbListener, &s.alb.listener).await.expect("listener");
        assert_eq!(listener["model"]["port"], 80);
        let rule = describe(T::LbListenerRule, &s.alb.rule).await.expect("rule");
        assert_eq!(rule["model"]["listener"], s.alb.listener.as_str());
        assert_eq!(rule["model"]["conditions"], serde_json::json!(["path-pattern=/api/*"]));

        let tg = describe(T::LbTargetGroup, &s.web.target_group).await.expect("tg");
        assert_eq!(tg["model"]["targets"].as_array().unwrap().len(), 2);
        assert!(tg["attributes"].as_object().is_some_and(|a| !a.is_empty()), "{tg}");

        let logs = describe(T::CloudwatchLogGroup, &s.web.log_groups[0]).await.expect("log group");
        assert_eq!(logs["model"]["retention_days"], 30);
        assert_eq!(logs["model"]["tags"]["stack"], "web");
        assert_eq!(logs["metric_filters"][0]["name"], "errors");
        assert!(logs["subscription_filters"].as_array().is_some());
        // A prefix of another group's name is not that group.
        assert!(describe(T::CloudwatchLogGroup, "/ecs/we").await.is_none());

        let instance = describe(T::Instance, &s.web.instances[1]).await.expect("instance");
        assert_eq!(instance["model"]["instance_profile"], s.web.profile.as_str());
        assert_eq!(instance["model"]["termination_protection"], false);
        assert_eq!(instance["image_id"], "ami-12c6146b");
        assert_eq!(instance["subnet_id"], s.subnets[0].as_str());
        assert_eq!(instance["network_interfaces"].as_array().map(Vec::len), Some(1));
        let protected = describe(T::Instance, &more.protected_instance).await.expect("instance");
        assert_eq!(protected["model"]["termination_protection"], true);
        let eni = describe(T::NetworkInterface, &more.lb_interface).await.expect("eni");
        assert_eq!(eni["model"]["description"].as_str().map(|d| d.starts_with("ELB ")), Some(true));

        // Gone: None.
        sdk.logs.delete_log_group().log_group_name(&s.web.log_groups[1]).send().await.expect("delete");
        assert!(describe(T::CloudwatchLogGroup, &s.web.log_groups[1]).await.is_none());
        sdk.iam.delete_role().role_name(&more.service_role).send().await.expect("delete role");
        assert!(describe(T::IamRole, &more.service_role).await.is_none());
        sdk.elbv2.delete_target_group().target_group_arn(&s.neighbour.target_group).send().await.expect("delete tg");
        assert!(describe(T::LbTargetGroup, &s.neighbour.target_group).await.is_none());
        sdk.ec2.delete_security_group().group_id(&more.referencing_sg).send().await.expect("delete sg");
        assert!(describe(T::SecurityGroup, &more.referencing_sg).await.is_none());
        sdk.ec2.delete_network_interface().network_interface_id(&more.lb_interface).send().await.expect("delete eni");
        assert!(describe(T::NetworkInterface, &more.lb_interface).await.is_none());
        assert!(describe(T::IamPolicy, &format!("arn:aws:iam::{}:policy/nope", moto.account)).await.is_none());
        assert!(describe(T::IamInstanceProfile, "nope").await.is_none());
        assert!(describe(T::Lb, &s.alb.arn.replace("/web/", "/gone/")).await.is_none());
        sdk.ec2.terminate_instances().instance_ids(&s.web.instances[1]).send().await.expect("terminate");
        assert!(describe(T::Instance, &s.web.instances[1]).await.is_none(), "terminated is gone");
    }
}

moto_test! {
    async fn describes_many_resources_as_one_by_one_with_fewer_calls(moto: Moto) {
        let sdk = moto.sdk().await;
        let (s, more) = stack::build_varied(&sdk).await;
        // Enough roles, policies and profiles for IAM's account-wide listings.
        let mut roles = vec![s.web.role.clone(), more.service_role.clone()];
        let mut policies = vec![s.web.policy_arn.clone()];
        let mut profiles = vec![s.web.profile.clone()];
        for i in 0..10 {
            let role = format!("batch-role-{i}");
            sdk.iam.create_role().role_name(&role).assume_role_policy_document(TRUST_EC2)
                .description(format!("role {i}")).max_session_duration(7200).send().await.expect("role");
            sdk.iam.put_role_policy().role_name(&role).policy_name("inline")
                .policy_document(INLINE).send().await.expect("inline policy");
            let policy = sdk.iam.create_policy().policy_name(format!("batch-policy-{i}"))
                .policy_document(POLICY_V1).send().await.expect("policy");
            let policy_arn = policy.policy().and_then(|p| p.arn()).expect("arn").to_string();
            sdk.iam.attach_role_policy().role_name(&role).policy_arn(&policy_arn).send().await.expect("attach");
            let profile = format!("batch-profile-{i}");
            sdk.iam.create_instance_profile().instance_profile_name(&profile).send().await.expect("profile");
            sdk.iam.add_role_to_instance_profile().instance_profile_name(&profile).role_name(&role)
                .send().await.expect("add role");
            roles.push(role);
            policies.push(policy_arn);
            profiles.push(profile);
        }
        // Enough log groups for the region's metric filters, one with a filter.
        let mut log_groups = s.web.log_groups.clone();
        for i in 0..10 {
            let name = format!("/batch/{i}");
            sdk.logs.create_log_group().log_group_name(&name).send().await.expect("log group");
            log_groups.push(name);
        }
        error_metric_filter(&sdk, "/batch/3").await;
        let mut targets = Vec::new();
        let mut add = |ty: T, ids: &[String]| targets.extend(ids.iter().map(|id| key(ty, &moto.region, id)));
        add(T::SecurityGroup, &[s.alb.security_group.clone(), s.web.app_sg.clone(), more.referencing_sg.clone()]);
        add(T::Instance, &s.web.instances);
        // Named twice: the protected instance is also the first of `s.web.instances`.
        add(T::Instance, std::slice::from_ref(&more.protected_instance));
        add(T::NetworkInterface, std::slice::from_ref(&more.lb_interface));
        add(T::Lb, std::slice::from_ref(&s.alb.arn));
        add(T::LbListener, std::slice::from_ref(&s.alb.listener));
        add(T::LbListenerRule, std::slice::from_ref(&s.alb.rule));
        add(T::LbTargetGroup, &[s.web.target_group.clone(), s.alb.green_target_group.clone(), s.neighbour.target_group.clone()]);
        add(T::IamRole, &roles);
        add(T::IamPolicy, &policies);
        add(T::IamInstanceProfile, &profiles);
        add(T::CloudwatchLogGroup, &log_groups);
        add(T::CloudwatchLogGroup, std::slice::from_ref(&s.neighbour.log_groups[1]));

        // Each answer is the one describe gives, in fewer calls.
        let single = moto.provider().await;
        let mut one_by_one = Vec::new();
        for target in &targets {
            one_by_one.push(single.describe(target).await.unwrap_or_else(|e| panic!("describe {target}: {e}")));
        }
        let batched = moto.provider().await;
        let many = batched.describe_many(&targets, None).await;
        assert_eq!(many.len(), targets.len());
        for ((target, many), single) in targets.iter().zip(many).zip(&one_by_one) {
            let many = many.unwrap_or_else(|e| panic!("describe_many {target}: {e}"));
            assert!(single.is_some(), "{target} exists");
            assert_eq!(&many, single, "{target}");
        }
        let calls = |provider: &decom_aws::AwsProvider| provider.api_calls().values().sum::<u64>();
        let (single_calls, batched_calls) = (calls(&single), calls(&batched));
        assert!(
            batched_calls * 3 < single_calls,
            "{batched_calls} calls in batches against {single_calls} one by one: {:?}",
            batched.api_calls()
        );
        for call in ["ec2:DescribeSecurityGroups", "ec2:DescribeInstances", "iam:GetAccountAuthorizationDetails"] {
            assert!(batched.api_calls().get(call) <= Some(&2), "{call}: {:?}", batched.api_calls());
        }
        assert_eq!(batched.api_calls().get("iam:GetRole"), None, "{:?}", batched.api_calls());
        assert_eq!(batched.api_calls().get("logs:DescribeMetricFilters"), Some(&1), "{:?}", batched.api_calls());
        let filtered = targets.iter().position(|t| t.id == "/batch/3").expect("target");
        assert_eq!(one_by_one[filtered].as_ref().expect("group")["metric_filters"][0]["name"], "errors");

        // With the account as just discovered: the same answers, without reading
        // again what discovery read per resource.
        let discovering = moto.provider().await;
        let discovered = discovering
            .discover(&DiscoveryRequest::everything(vec![moto.region.clone()]), &decom_provider::NoProgress)
            .await
            .expect("discovery");
        let informed = moto.provider().await;
        let many = informed.describe_many(&targets, Some(&discovered)).await;
        for ((target, many), single) in targets.iter().zip(many).zip(&one_by_one) {
            let many = many.unwrap_or_else(|e| panic!("describe_many {target}: {e}"));
            assert_eq!(&many, single, "{target}");
        }
        let informed_calls = informed.api_calls();
        for call in [
            "ec2:DescribeInstanceAttribute",
            "elasticloadbalancing:DescribeTargetHealth",
            "iam:ListPolicyTags",
            "logs:ListTagsForResource",
        ] {
            assert_eq!(informed_calls.get(call), None, "{call}: {informed_calls:?}");
            assert!(batched.api_calls().get(call) > Some(&0), "{call} without the discovery");
        }

        // Gone resources among them: `None` for those, the others' answers unchanged
        // (a batch that fails on a gone id falls back to one describe per resource).
        sdk.ec2.delete_security_group().group_id(&more.referencing_sg).send().await.expect("delete sg");
        sdk.elbv2.delete_target_group().target_group_arn(&s.neighbour.target_group).send().await.expect("delete tg");
        sdk.logs.delete_log_group().log_group_name(&s.neighbour.log_groups[1]).send().await.expect("delete log group");
        sdk.iam.remove_role_from_instance_profile().instance_profile_name("batch-profile-0")
            .role_name("batch-role-0").send().await.expect("remove role");
        sdk.iam.delete_instance_profile().instance_profile_name("batch-profile-0").send().await.expect("delete profile");
        let gone = [
            key(T::SecurityGroup, &moto.region, &more.referencing_sg),
            key(T::LbTargetGroup, &moto.region, &s.neighbour.target_group),
            key(T::CloudwatchLogGroup, &moto.region, &s.neighbour.log_groups[1]),
            key(T::IamInstanceProfile, &moto.region, "batch-profile-0"),
        ];
        let many = moto.provider().await.describe_many(&targets, None).await;
        for ((target, many), single) in targets.iter().zip(many).zip(&one_by_one) {
            let many = many.unwrap_or_else(|e| panic!("describe_many {target}: {e}"));
            if gone.contains(target) {
                assert_eq!(many, None, "{target} is gone");
            } else if target.ty == T::IamRole && target.id == "batch-role-0" {
                assert_eq!(many.expect("role")["instance_profiles"], serde_json::json!([]));
            } else {
                assert_eq!(&many, single, "{target}");
            }
        }
    }
}

moto_test! {
    async fn exports_every_event_of_a_log_group(moto: Moto) {
        let sdk = moto.sdk().await;
        let group = "/ecs/events-export";
        sdk.logs.create_log_group().log_group_name(group).send().await.expect("group");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        for stream in ["a", "b"] {
            sdk.logs
                .create_log_stream()
                .log_group_name(group)
                .log_stream_name(stream)
                .send()
                .await
                .expect("stream");
            let events: Vec<_> = (0..30)
                .map(|i| {
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                        .timestamp(now - 1_000 + i)
                        .message(format!("{stream} event {i}"))
                        .build()
                        .expect("event")
                })
                .collect();
            sdk.logs
                .put_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .set_log_events(Some(events))
                .send()
                .await
                .expect("put");
        }
        let provider = moto.provider().await;
        let key = decom_provider::ResourceKey::new(T::CloudwatchLogGroup, &moto.region, group);
        let mut seen = Vec::new();
        let mut sink = |event: serde_json::Value| {
            seen.push(event);
            Ok(())
        };
        let count = provider.export_log_events(&key, &mut sink).await.expect("export");
        assert_eq!(count, 60);
        assert_eq!(seen.len(), 60);
        assert!(seen.iter().any(|e| e["message"] == "b event 29" && e["log_stream_name"] == "b"));

        // A sink that cannot write stops the export with an error.
        let mut failing = |_: serde_json::Value| Err(std::io::Error::other("disk full"));
        let e = provider.export_log_events(&key, &mut failing).await.expect_err("fails");
        assert_eq!(e.code, "ArchiveWriteFailed");
        let gone = decom_provider::ResourceKey::new(T::CloudwatchLogGroup, &moto.region, "/ecs/none");
        let mut ignore = |_: serde_json::Value| Ok(());
        let e = provider.export_log_events(&gone, &mut ignore).await.expect_err("missing");
        assert_eq!(e.kind, decom_provider::ErrorKind::NotFound);
    }
}

moto_test! {
    async fn polls_many_waits_as_one_by_one_with_one_call_per_service(moto: Moto) {
        let sdk = moto.sdk().await;
        let (s, more) = stack::build_varied(&sdk).await;
        sdk.ec2.terminate_instances().instance_ids(&s.web.instances[1]).send().await.expect("terminate");
        sdk.ec2.delete_security_group().group_id(&more.referencing_sg).send().await.expect("delete sg");
        // (operation, settled): terminated, running, unknown to AWS; an interface
        // still there, one gone (the batch must not fail on it); no wait at all.
        let cases = [
            (op(&moto, T::Instance, &s.web.instances[1], Action::Delete), true),
            (op(&moto, T::Instance, &more.protected_instance, Action::Delete), false),
            (op(&moto, T::Instance, "i-0123456789abcdef0", Action::Delete), true),
            (op(&moto, T::NetworkInterface, &more.lb_interface, Action::AwaitDeletion), false),
            (op(&moto, T::NetworkInterface, "eni-0123456789abcdef0", Action::AwaitDeletion), true),
            (op(&moto, T::SecurityGroup, &more.referencing_sg, Action::AwaitDeletion), true),
            (op(&moto, T::SecurityGroup, &s.web.app_sg, Action::Delete), true),
        ];
        let single = moto.provider().await;
        for (operation, settled) in &cases {
            assert_eq!(single.is_settled(operation).await.expect("is_settled"), *settled, "{operation}");
        }
        let batched = moto.provider().await;
        let operations: Vec<Operation> = cases.iter().map(|(o, _)| o.clone()).collect();
        let answers = batched.settled_many(&operations).await;
        assert_eq!(answers.len(), cases.len());
        for ((operation, settled), answer) in cases.iter().zip(answers) {
            assert_eq!(answer.expect("settled_many"), *settled, "{operation}");
        }
        let calls = batched.api_calls();
        for call in ["ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups"] {
            assert_eq!(calls.get(call), Some(&1), "{call}: {calls:?}");
        }
        assert!(calls.values().sum::<u64>() < single.api_calls().values().sum::<u64>(), "{calls:?}");
    }
}
