//! Restore calls against moto: resources built with the SDK, described for the
//! archive, deleted, recreated from their descriptions in dependency order (old ids
//! replaced by new ones, as the engine does), described again and compared.

use aws_sdk_ec2::types::{IpPermission, IpRange};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as ElbAction, ActionTypeEnum, FixedResponseActionConfig, Matcher, ProtocolEnum,
    TargetGroupAttribute,
};
use decom_provider::{
    ErrorKind, Provider, ProviderError, ResourceType as T, RestoreAction, RestoreCall, Restored,
};
use serde_json::{Value, json};

use decom_testing::child::Moto;
use decom_testing::moto_test;
use decom_testing::stack::{self, INLINE, POLICY_V1, Source, TRUST_EC2};

use crate::{InAccount, key};

/// The description of a resource; panics if it is gone.
async fn described(provider: &impl Provider, moto: &Moto, ty: T, id: &str) -> Value {
    let target = key(ty, &moto.region, id);
    provider
        .describe(&target)
        .await
        .unwrap_or_else(|e| panic!("describe {target}: {e}"))
        .unwrap_or_else(|| panic!("{target} is gone"))
}

async fn try_restore(
    provider: &impl Provider,
    moto: &Moto,
    ty: T,
    id: &str,
    action: RestoreAction,
) -> Result<Restored, ProviderError> {
    let call = RestoreCall {
        target: key(ty, &moto.region, id),
        action,
    };
    provider.restore(&call).await
}

async fn restore(
    provider: &impl Provider,
    moto: &Moto,
    ty: T,
    id: &str,
    action: RestoreAction,
) -> Restored {
    let what = action.describe();
    try_restore(provider, moto, ty, id, action)
        .await
        .unwrap_or_else(|e| panic!("restore {ty} {id} ({what}): {e}"))
}

fn create(description: &Value) -> RestoreAction {
    RestoreAction::Create {
        description: description.clone(),
    }
}

/// `value` with each old id replaced by its new one, as the engine does.
fn remap(value: &Value, ids: &[(String, String)]) -> Value {
    let mut text = value.to_string();
    for (old, new) in ids {
        text = text.replace(old.as_str(), new);
    }
    serde_json::from_str(&text).expect("remapped JSON")
}

/// Fields that differ between a resource and its restored copy by nature: AWS's
/// own ids of rules (a listener's default rule's ARN among them; the restored
/// resources' ids are compared as `id`), timestamps, DNS names, states; arrays
/// sorted, since their order follows ids.
fn comparable(value: &Value) -> Value {
    const VOLATILE: &[&str] = &[
        "rule_id",
        "arn",
        "created",
        "last_used",
        "dns_name",
        "state",
        "last_event",
        "stored_bytes",
    ];
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(comparable).collect();
            items.sort_by_key(Value::to_string);
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// Compares two descriptions field by field, naming the first difference.
fn assert_same(restored: &Value, original: &Value, what: &str) {
    let (restored, original) = (comparable(restored), comparable(original));
    if restored != original {
        let fields: std::collections::BTreeSet<&String> = restored
            .as_object()
            .into_iter()
            .chain(original.as_object())
            .flat_map(|m| m.keys())
            .collect();
        for field in fields {
            assert_eq!(
                restored.get(field),
                original.get(field),
                "{what}: field `{field}` differs"
            );
        }
        assert_eq!(restored, original, "{what}");
    }
}

moto_test! {
    async fn restores_security_groups_with_their_rules(moto: Moto) {
        let sdk = moto.sdk().await;
        let provider = moto.provider().await;
        let (vpc, _) = stack::vpc_with_subnets(&sdk).await;
        let lb_group = stack::security_group(&sdk, &vpc, "lb", "web").await;
        let app_group = stack::security_group(&sdk, &vpc, "app", "web").await;
        stack::ingress(&sdk, &app_group, 8080, Source::Group(&lb_group)).await;
        stack::ingress(&sdk, &lb_group, 443, Source::Cidr("0.0.0.0/0", "the world")).await;
        // The app group may only reach 443: AWS's allow-all egress is revoked.
        sdk.ec2.revoke_security_group_egress().group_id(&app_group)
            .ip_permissions(IpPermission::builder().ip_protocol("-1").ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build())
            .send().await.expect("revoke egress");
        sdk.ec2.authorize_security_group_egress().group_id(&app_group)
            .ip_permissions(IpPermission::builder().ip_protocol("tcp").from_port(443).to_port(443).ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").description("internal https").build()).build())
            .send().await.expect("authorize egress");

        let lb_archived = described(&provider, &moto, T::SecurityGroup, &lb_group).await;
        let app_archived = described(&provider, &moto, T::SecurityGroup, &app_group).await;
        assert_eq!(app_archived["model"]["rules"].as_array().map(Vec::len), Some(2), "{app_archived}");
        for group in [&app_group, &lb_group] {
            sdk.ec2.delete_security_group().group_id(group).send().await.expect("delete group");
        }

        let mut ids = Vec::new();
        for (old, archived) in [(&lb_group, &lb_archived), (&app_group, &app_archived)] {
            let archived = remap(archived, &ids);
            let created = restore(&provider, &moto, T::SecurityGroup, old, create(&archived)).await;
            assert!(!created.present);
            assert_ne!(&created.id, old);
            ids.push((old.clone(), created.id.clone()));
            let rules: Vec<decom_provider::SecurityGroupRule> =
                serde_json::from_value(archived["model"]["rules"].clone()).expect("rules");
            for rule in rules {
                let authorized = restore(&provider, &moto, T::SecurityGroup, &created.id, RestoreAction::AuthorizeRule { rule }).await;
                assert_eq!(authorized.id, created.id);
            }
        }
        for (old, archived) in [(&lb_group, &lb_archived), (&app_group, &app_archived)] {
            let new = &ids.iter().find(|(o, _)| o == old).expect("restored").1;
            let restored = described(&provider, &moto, T::SecurityGroup, new).await;
            assert_same(&restored, &remap(archived, &ids), old);
        }

        // Again: the group is there, and so is each rule.
        let app_new = ids[1].1.clone();
        let again = restore(&provider, &moto, T::SecurityGroup, &app_group, create(&remap(&app_archived, &ids))).await;
        assert!(again.present);
        assert_eq!(again.id, app_new);
        let rule: decom_provider::SecurityGroupRule =
            serde_json::from_value(remap(&app_archived, &ids)["model"]["rules"][0].clone()).expect("rule");
        assert!(restore(&provider, &moto, T::SecurityGroup, &app_new, RestoreAction::AuthorizeRule { rule }).await.present);

        // moto creates a group in a VPC that does not exist (AWS answers
        // `InvalidVpcID.NotFound`): a gone dependency is checked with a load
        // balancer's subnet instead.
        let calls = provider.api_calls();
        assert!(calls.get("ec2:CreateSecurityGroup").copied().unwrap_or(0) >= 3, "{calls:?}");
    }
}

moto_test! {
    async fn restores_roles_policies_and_instance_profiles(moto: Moto) {
        let sdk = moto.sdk().await;
        let provider = moto.provider().await;
        let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().expect("tag");
        sdk.iam.create_role().role_name("app").path("/svc/").assume_role_policy_document(TRUST_EC2)
            .description("the app").max_session_duration(7200).tags(tag("stack", "web"))
            .send().await.expect("role");
        sdk.iam.put_role_policy().role_name("app").policy_name("write-logs").policy_document(INLINE).send().await.expect("inline");
        let policy_arn = sdk.iam.create_policy().policy_name("assets").path("/web/").policy_document(POLICY_V1)
            .description("read assets").tags(tag("stack", "web"))
            .send().await.expect("policy").policy.and_then(|p| p.arn).expect("arn");
        sdk.iam.attach_role_policy().role_name("app").policy_arn(&policy_arn).send().await.expect("attach");
        sdk.iam.create_user().user_name("deployer").send().await.expect("user");
        sdk.iam.attach_user_policy().user_name("deployer").policy_arn(&policy_arn).send().await.expect("attach user");
        sdk.iam.create_instance_profile().instance_profile_name("app-instance").path("/svc/").tags(tag("stack", "web"))
            .send().await.expect("profile");
        sdk.iam.add_role_to_instance_profile().instance_profile_name("app-instance").role_name("app").send().await.expect("add role");

        let role = described(&provider, &moto, T::IamRole, "app").await;
        let policy = described(&provider, &moto, T::IamPolicy, &policy_arn).await;
        let profile = described(&provider, &moto, T::IamInstanceProfile, "app-instance").await;
        assert_eq!(role["max_session_duration"], 7200, "{role}");

        sdk.iam.remove_role_from_instance_profile().instance_profile_name("app-instance").role_name("app").send().await.expect("remove");
        sdk.iam.delete_instance_profile().instance_profile_name("app-instance").send().await.expect("delete profile");
        sdk.iam.detach_role_policy().role_name("app").policy_arn(&policy_arn).send().await.expect("detach");
        sdk.iam.detach_user_policy().user_name("deployer").policy_arn(&policy_arn).send().await.expect("detach user");
        sdk.iam.delete_role_policy().role_name("app").policy_name("write-logs").send().await.expect("delete inline");
        sdk.iam.delete_role().role_name("app").send().await.expect("delete role");
        sdk.iam.delete_policy().policy_arn(&policy_arn).send().await.expect("delete policy");

        let created = restore(&provider, &moto, T::IamPolicy, &policy_arn, create(&policy)).await;
        assert_eq!(created.id, policy_arn, "a customer policy's ARN is its path and name");
        assert!(!created.present);
        assert_eq!(restore(&provider, &moto, T::IamRole, "app", create(&role)).await.id, "app");
        restore(&provider, &moto, T::IamRole, "app", RestoreAction::AttachRolePolicy { policy_arn: policy_arn.clone() }).await;
        restore(&provider, &moto, T::IamPolicy, &policy_arn, RestoreAction::AttachUserPolicy { user: "deployer".into() }).await;
        restore(&provider, &moto, T::IamInstanceProfile, "app-instance", create(&profile)).await;
        let added = restore(&provider, &moto, T::IamInstanceProfile, "app-instance", RestoreAction::AddRoleToProfile { role: "app".into() }).await;
        assert!(!added.present);

        assert_same(&described(&provider, &moto, T::IamRole, "app").await, &role, "role");
        assert_same(&described(&provider, &moto, T::IamInstanceProfile, "app-instance").await, &profile, "profile");
        // The policy comes back with one version: its archived default.
        let mut restored_policy = described(&provider, &moto, T::IamPolicy, &policy_arn).await;
        for p in [&mut restored_policy, &mut policy.clone()] {
            p["model"]["versions"] = Value::Null;
            p["model"]["default_version_id"] = Value::Null;
        }
        let mut archived_policy = policy.clone();
        archived_policy["model"]["versions"] = Value::Null;
        archived_policy["model"]["default_version_id"] = Value::Null;
        assert_same(&restored_policy, &archived_policy, "policy");

        // Again: present, nothing created.
        assert!(restore(&provider, &moto, T::IamRole, "app", create(&role)).await.present);
        assert!(restore(&provider, &moto, T::IamPolicy, &policy_arn, create(&policy)).await.present);
        assert!(restore(&provider, &moto, T::IamInstanceProfile, "app-instance", create(&profile)).await.present);
        assert!(restore(&provider, &moto, T::IamInstanceProfile, "app-instance", RestoreAction::AddRoleToProfile { role: "app".into() }).await.present);

        // A policy that is gone: NotFound.
        let gone = format!("arn:aws:iam::{}:policy/nope", moto.account);
        let e = try_restore(&provider, &moto, T::IamRole, "app", RestoreAction::AttachRolePolicy { policy_arn: gone }).await.expect_err("gone policy");
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert_eq!(e.code, "NoSuchEntity");
    }
}

moto_test! {
    async fn restores_load_balancers_listeners_rules_and_target_groups(moto: Moto) {
        let sdk = moto.sdk().await;
        let provider = moto.provider().await;
        let (vpc, subnets) = stack::vpc_with_subnets(&sdk).await;
        let group = stack::security_group(&sdk, &vpc, "lb", "web").await;
        let api = sdk.elbv2.create_target_group().name("api").protocol(ProtocolEnum::Http).port(8080).vpc_id(&vpc)
            .health_check_path("/health").health_check_interval_seconds(15).healthy_threshold_count(3)
            .matcher(Matcher::builder().http_code("200-299").build())
            .send().await.expect("target group").target_groups()[0].target_group_arn().expect("arn").to_string();
        sdk.elbv2.modify_target_group_attributes().target_group_arn(&api)
            .attributes(TargetGroupAttribute::builder().key("deregistration_delay.timeout_seconds").value("30").build())
            .send().await.expect("attributes");
        let web = stack::target_group(&sdk, &vpc, "web", "web").await;
        let instance = sdk.ec2.run_instances().image_id("ami-12c6146b").min_count(1).max_count(1).subnet_id(&subnets[0])
            .send().await.expect("instance").instances()[0].instance_id().expect("id").to_string();
        sdk.elbv2.register_targets().target_group_arn(&web)
            .targets(aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder().id(&instance).port(8081).build())
            .send().await.expect("register");
        let lb = stack::load_balancer(&sdk, "front", &subnets, &group, "web").await;
        let listener = sdk.elbv2.create_listener().load_balancer_arn(&lb).protocol(ProtocolEnum::Http).port(80)
            .default_actions(stack::forward_one(&web))
            .send().await.expect("listener").listeners()[0].listener_arn().expect("arn").to_string();
        let api_rule = sdk.elbv2.create_rule().listener_arn(&listener).priority(10)
            .conditions(stack::path_condition("/api/*")).actions(stack::forward(&[(&api, 80), (&web, 20)]))
            .send().await.expect("rule").rules()[0].rule_arn().expect("arn").to_string();
        let teapot = ElbAction::builder().r#type(ActionTypeEnum::FixedResponse)
            .fixed_response_config(FixedResponseActionConfig::builder().status_code("418").content_type("text/plain").message_body("teapot").build())
            .build();
        let teapot_rule = sdk.elbv2.create_rule().listener_arn(&listener).priority(20)
            .conditions(stack::path_condition("/tea")).actions(teapot)
            .send().await.expect("rule").rules()[0].rule_arn().expect("arn").to_string();

        let archived = [
            (T::LbTargetGroup, api.clone(), described(&provider, &moto, T::LbTargetGroup, &api).await),
            (T::LbTargetGroup, web.clone(), described(&provider, &moto, T::LbTargetGroup, &web).await),
            (T::Lb, lb.clone(), described(&provider, &moto, T::Lb, &lb).await),
            (T::LbListener, listener.clone(), described(&provider, &moto, T::LbListener, &listener).await),
            (T::LbListenerRule, api_rule.clone(), described(&provider, &moto, T::LbListenerRule, &api_rule).await),
            (T::LbListenerRule, teapot_rule.clone(), described(&provider, &moto, T::LbListenerRule, &teapot_rule).await),
        ];
        assert_eq!(archived[0].2["health_check"]["path"], "/health", "{}", archived[0].2);

        sdk.elbv2.delete_load_balancer().load_balancer_arn(&lb).send().await.expect("delete lb");
        for tg in [&api, &web] {
            sdk.elbv2.delete_target_group().target_group_arn(tg).send().await.expect("delete tg");
        }

        let mut ids: Vec<(String, String)> = Vec::new();
        for (ty, old, description) in &archived {
            let restored = restore(&provider, &moto, *ty, old, create(&remap(description, &ids))).await;
            assert!(!restored.present, "{ty} {old}");
            if *ty == T::Lb {
                assert!(restored.notes.iter().any(|n| n.contains("new DNS name")), "{:?}", restored.notes);
            }
            if *ty == T::LbTargetGroup {
                assert!(restored.notes.is_empty(), "the archive holds the health check: {:?}", restored.notes);
            }
            if *ty == T::LbTargetGroup {
                let targets: Vec<decom_provider::Target> =
                    serde_json::from_value(description["model"]["targets"].clone()).expect("targets");
                restore(&provider, &moto, *ty, &restored.id, RestoreAction::RegisterTargets { targets }).await;
            }
            ids.push((old.clone(), restored.id));
        }
        assert_eq!(archived[1].2["model"]["targets"][0]["id"], instance.as_str());
        for (ty, old, description) in &archived {
            let new = &ids.iter().find(|(o, _)| o == old).expect("restored").1;
            let mut restored = described(&provider, &moto, *ty, new).await;
            let mut expected = remap(description, &ids);
            // The balancer's listeners come back with their own calls; its DNS name is new.
            for d in [&mut restored, &mut expected] {
                d["listeners"] = Value::Null;
            }
            assert_same(&restored, &expected, &format!("{ty} {old}"));
        }

        // Again: each is present, with the id it has now.
        for (ty, old, description) in &archived {
            let again = restore(&provider, &moto, *ty, old, create(&remap(description, &ids))).await;
            assert!(again.present, "{ty} {old}");
            assert_eq!(again.id, ids.iter().find(|(o, _)| o == old).expect("restored").1);
        }

        // An archived target group without a health check (an older archive): AWS's
        // defaults, said in a note.
        let mut older = archived[1].2.clone();
        older["model"]["name"] = json!("older");
        older.as_object_mut().expect("object").remove("health_check");
        let restored = restore(&provider, &moto, T::LbTargetGroup, &web, create(&remap(&older, &ids))).await;
        assert!(restored.notes.iter().any(|n| n.contains("health check")), "{:?}", restored.notes);

        // Gone dependencies: NotFound with AWS's code.
        let new_lb = ids[2].1.clone();
        sdk.elbv2.delete_load_balancer().load_balancer_arn(&new_lb).send().await.expect("delete lb");
        let e = try_restore(&provider, &moto, T::LbListener, &listener, create(&remap(&archived[3].2, &ids))).await.expect_err("lb gone");
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert_eq!(e.code, "LoadBalancerNotFound");
        let mut no_vpc = archived[1].2.clone();
        no_vpc["model"]["name"] = json!("novpc");
        no_vpc["model"]["vpc_id"] = json!("vpc-0123456789abcdef0");
        let e = try_restore(&provider, &moto, T::LbTargetGroup, &web, create(&no_vpc)).await.expect_err("vpc gone");
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert_eq!(e.code, "ValidationError");
        let mut no_subnet = archived[2].2.clone();
        no_subnet["availability_zones"][0]["subnet_id"] = json!("subnet-0123456789abcdef0");
        let e = try_restore(&provider, &moto, T::Lb, &lb, create(&no_subnet)).await.expect_err("subnet gone");
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        // AWS answers `SubnetNotFound`; moto with EC2's code.
        assert!(["SubnetNotFound", "InvalidSubnetID.NotFound"].contains(&e.code.as_str()), "{e}");
    }
}

moto_test! {
    async fn restores_log_groups_with_filters_and_events(moto: Moto) {
        let sdk = moto.sdk().await;
        let provider = moto.provider().await;
        let name = "/app/web";
        sdk.logs.create_log_group().log_group_name(name).tags("stack", "web").send().await.expect("group");
        sdk.logs.put_retention_policy().log_group_name(name).retention_in_days(7).send().await.expect("retention");
        sdk.logs.put_metric_filter().log_group_name(name).filter_name("errors").filter_pattern("ERROR")
            .metric_transformations(aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name("Errors").metric_namespace("Test").metric_value("1").build().expect("transformation"))
            .send().await.expect("metric filter");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64;
        let hour = 3_600_000;
        for (stream, times) in [("a", vec![now - 3 * hour, now - 2 * hour]), ("b", vec![now - hour])] {
            sdk.logs.create_log_stream().log_group_name(name).log_stream_name(stream).send().await.expect("stream");
            let events = times.iter().enumerate().map(|(i, t)| aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(*t).message(format!("{stream} {i}")).build().expect("event")).collect();
            sdk.logs.put_log_events().log_group_name(name).log_stream_name(stream).set_log_events(Some(events)).send().await.expect("put");
        }

        let target = key(T::CloudwatchLogGroup, &moto.region, name);
        let archived = described(&provider, &moto, T::CloudwatchLogGroup, name).await;
        let mut events = Vec::new();
        let exported = provider.export_log_events(&target, &mut |e| { events.push(e); Ok(()) }).await.expect("export");
        assert_eq!(exported, 3);
        // moto keeps a deleted group's metric filters (AWS deletes them with it).
        sdk.logs.delete_metric_filter().log_group_name(name).filter_name("errors").send().await.expect("delete filter");
        sdk.logs.delete_log_group().log_group_name(name).send().await.expect("delete");

        // A subscription filter whose destination is gone: a note, not a failure.
        let mut with_subscription = archived.clone();
        with_subscription["subscription_filters"] = json!([{
            "name": "to-gone", "pattern": "", "role_arn": null, "distribution": null,
            "destination_arn": format!("arn:aws:lambda:{}:{}:function:gone", moto.region, moto.account),
        }]);
        let restored = restore(&provider, &moto, T::CloudwatchLogGroup, name, create(&with_subscription)).await;
        assert_eq!(restored.id, name);
        assert!(!restored.present);
        assert!(restored.notes.iter().any(|n| n.contains("to-gone")), "{:?}", restored.notes);
        assert_same(&described(&provider, &moto, T::CloudwatchLogGroup, name).await, &archived, "log group");
        assert!(restore(&provider, &moto, T::CloudwatchLogGroup, name, create(&archived)).await.present);

        // Events: an archived one older than the retention (and than AWS takes) is left out.
        let mut with_old = events.clone();
        with_old.push(json!({"timestamp": now - 20 * 24 * hour, "log_stream_name": "a", "message": "old", "event_id": "x", "ingestion_time": now}));
        with_old.reverse();
        assert_eq!(provider.import_log_events(&target, &with_old).await.expect("import"), 3);
        let mut reexported = Vec::new();
        provider.export_log_events(&target, &mut |e| { reexported.push(e); Ok(()) }).await.expect("export");
        let essentials = |events: &[Value]| {
            let mut v: Vec<(String, i64, String)> = events.iter().map(|e| (
                e["log_stream_name"].as_str().unwrap_or_default().to_string(),
                e["timestamp"].as_i64().unwrap_or_default(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )).collect();
            v.sort();
            v
        };
        assert_eq!(essentials(&reexported), essentials(&events));
        // A stream that exists already is fine.
        assert_eq!(provider.import_log_events(&target, &events[..1]).await.expect("import again"), 1);
        let calls = provider.api_calls();
        assert_eq!(calls.get("logs:CreateLogStream"), Some(&3), "{calls:?}");
    }
}

moto_test! {
    async fn restores_ecs_clusters_task_definitions_and_services(moto: Moto) {
        let sdk = moto.sdk().await;
        let provider = moto.provider().await;
        let (vpc, subnets) = stack::vpc_with_subnets(&sdk).await;
        let group = stack::security_group(&sdk, &vpc, "app", "web").await;
        let target_group = stack::target_group(&sdk, &vpc, "api", "web").await;
        let role = sdk.iam.create_role().role_name("api-task").assume_role_policy_document(TRUST_EC2)
            .send().await.expect("role").role.map(|r| r.arn).expect("arn");
        let built = stack::ecs::build(&sdk, "api", "web", 2, &role, "/ecs/api", &subnets, &group, &target_group).await;
        let revision = built.task_definitions.last().expect("a revision").clone();

        let cluster = described(&provider, &moto, T::EcsCluster, &built.cluster).await;
        let task_definition = described(&provider, &moto, T::EcsTaskDefinition, &revision).await;
        let service = described(&provider, &moto, T::EcsService, &built.service).await;
        let container = &task_definition["registration"]["containerDefinitions"][0];
        assert_eq!(container["image"], format!("123456789012.dkr.ecr.{}.amazonaws.com/api:v2", moto.region), "{task_definition}");
        assert_eq!(container["logConfiguration"]["options"]["awslogs-group"], "/ecs/api");
        assert_eq!(task_definition["registration"]["taskRoleArn"], role.as_str());
        let lb = &service["configuration"]["loadBalancers"][0];
        assert_eq!((lb["targetGroupArn"].as_str(), lb["containerName"].as_str(), lb["containerPort"].as_i64()),
            (Some(target_group.as_str()), Some("app"), Some(8080)), "{service}");
        assert_eq!(service["configuration"]["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"][0], group.as_str());

        sdk.ecs.update_service().cluster(&built.cluster).service(&built.service).desired_count(0).send().await.expect("scale");
        sdk.ecs.delete_service().cluster(&built.cluster).service(&built.service).send().await.expect("delete service");
        sdk.ecs.deregister_task_definition().task_definition(&revision).send().await.expect("deregister");
        sdk.ecs.delete_cluster().cluster(&built.cluster).send().await.expect("delete cluster");

        let restored_cluster = restore(&provider, &moto, T::EcsCluster, &built.cluster, create(&cluster)).await;
        assert!(!restored_cluster.present);
        assert_eq!(restored_cluster.id, built.cluster, "a cluster's ARN is its name");
        let registered = restore(&provider, &moto, T::EcsTaskDefinition, &revision, create(&task_definition)).await;
        assert!(!registered.present);
        assert!(registered.id.ends_with("task-definition/api:3"), "the next revision: {}", registered.id);
        assert!(registered.notes.iter().any(|n| n.contains("revision 3") && n.contains("revision 2")), "{:?}", registered.notes);
        let ids = vec![(revision.clone(), registered.id.clone())];
        let created = restore(&provider, &moto, T::EcsService, &built.service, create(&remap(&service, &ids))).await;
        assert!(!created.present);
        assert_eq!(created.id, built.service);
        assert!(created.notes.iter().any(|n| n == "created with desired count 0 (it had 1)"), "{:?}", created.notes);

        // As archived, but for the revision's number and ARN and the service's counts.
        let mut restored_cluster = described(&provider, &moto, T::EcsCluster, &built.cluster).await;
        let mut archived_cluster = cluster.clone();
        for d in [&mut restored_cluster, &mut archived_cluster] {
            d["model"]["running_tasks"] = Value::Null;
        }
        assert_same(&restored_cluster, &archived_cluster, "cluster");
        let mut restored_td = described(&provider, &moto, T::EcsTaskDefinition, &registered.id).await;
        assert_eq!(restored_td["model"]["revision"], 3);
        let mut archived_td = task_definition.clone();
        for d in [&mut restored_td, &mut archived_td] {
            for field in ["id", "name", "revision", "registered"] {
                d["model"][field] = Value::Null;
            }
        }
        assert_same(&restored_td, &archived_td, "task definition");
        let mut restored_service = described(&provider, &moto, T::EcsService, &built.service).await;
        let mut archived_service = remap(&service, &ids);
        assert_eq!(restored_service["model"]["desired_count"], 0, "{restored_service}");
        for d in [&mut restored_service, &mut archived_service] {
            for field in ["desired_count", "running_count", "pending_count"] {
                d["model"][field] = Value::Null;
            }
        }
        assert_same(&restored_service, &archived_service, "service");

        // Again: the cluster and the service are present.
        assert!(restore(&provider, &moto, T::EcsCluster, &built.cluster, create(&cluster)).await.present);
        let again = restore(&provider, &moto, T::EcsService, &built.service, create(&remap(&service, &ids))).await;
        assert!(again.present);
        assert_eq!(again.id, built.service);

        // An archive without the registration input (an older one): InvalidArchive.
        let mut older = task_definition.clone();
        older.as_object_mut().expect("object").remove("registration");
        let e = try_restore(&provider, &moto, T::EcsTaskDefinition, &revision, create(&older)).await.expect_err("older archive");
        assert_eq!(e.code, "InvalidArchive", "{e}");

        // The cluster is gone: NotFound.
        sdk.ecs.delete_service().cluster(&built.cluster).service(&built.service).force(true).send().await.expect("delete service");
        sdk.ecs.delete_cluster().cluster(&built.cluster).send().await.expect("delete cluster");
        let e = try_restore(&provider, &moto, T::EcsService, &built.service, create(&remap(&service, &ids))).await.expect_err("cluster gone");
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert_eq!(e.code, "ClusterNotFoundException");
    }
}

moto_test! {
    async fn restores_route53_records_after_their_load_balancer(moto: Moto) {
        use decom_provider::{Action, GLOBAL_REGION, Operation};
        let sdk = moto.sdk().await;
        let provider = moto.provider().await;
        let dns = stack::build_dns(&sdk, "restore.example.com").await;
        let www = "www.restore.example.com";
        stack::dns::upsert(&sdk, &dns.zone, aws_sdk_route53::types::ResourceRecordSet::builder()
            .name(www).r#type(aws_sdk_route53::types::RrType::A).ttl(60)
            .resource_records(aws_sdk_route53::types::ResourceRecord::builder().value("192.0.2.10").build().expect("value"))
            .resource_records(aws_sdk_route53::types::ResourceRecord::builder().value("192.0.2.11").build().expect("value"))
            .build().expect("record")).await;
        let plain = stack::dns::record_key(&dns.zone, www, "A", None);
        let record = |id: &str| key(T::Route53Record, GLOBAL_REGION, id);
        // A latency record with a health check: routing the model does not hold.
        let check = sdk.route53.create_health_check().caller_reference("restore-eu")
            .health_check_config(aws_sdk_route53::types::HealthCheckConfig::builder()
                .r#type(aws_sdk_route53::types::HealthCheckType::Http).fully_qualified_domain_name("eu.example.org").port(80)
                .build().expect("config"))
            .send().await.expect("health check").health_check.expect("check").id;
        let eu = "eu.restore.example.com";
        stack::dns::upsert(&sdk, &dns.zone, aws_sdk_route53::types::ResourceRecordSet::builder()
            .name(eu).r#type(aws_sdk_route53::types::RrType::Cname).ttl(60).set_identifier("eu")
            .region(aws_sdk_route53::types::ResourceRecordSetRegion::EuWest1).health_check_id(&check)
            .resource_records(aws_sdk_route53::types::ResourceRecord::builder().value("eu.example.org").build().expect("value"))
            .build().expect("record")).await;
        let latency = stack::dns::record_key(&dns.zone, eu, "CNAME", Some("eu"));
        let describe = |id: String| {
            let provider = &provider;
            async move {
                provider.describe(&record(&id)).await.expect("describe").unwrap_or_else(|| panic!("{id} is gone"))
            }
        };
        let records: Vec<String> = dns.aliases.iter().cloned()
            .chain([dns.neighbour.clone(), plain.clone(), latency.clone()]).collect();
        let mut archived = Vec::new();
        for id in &records {
            archived.push((id.clone(), describe(id.clone()).await));
        }
        assert_eq!(archived[0].1["model"]["weight"], 100, "{}", archived[0].1);
        assert_eq!(archived[4].1["routing"]["region"], "eu-west-1", "{}", archived[4].1);
        assert_eq!(archived[4].1["routing"]["health_check_id"], check.as_str(), "{}", archived[4].1);
        let lb_archived = described(&provider, &moto, T::Lb, &dns.load_balancer).await;

        for id in &records {
            provider.execute(&Operation::new(record(id), Action::Delete)).await.expect("delete record");
        }
        sdk.elbv2.delete_load_balancer().load_balancer_arn(&dns.load_balancer).send().await.expect("delete lb");

        // The load balancer first: a new ARN and DNS name, carried into the aliases.
        let lb = restore(&provider, &moto, T::Lb, &dns.load_balancer, create(&lb_archived)).await;
        assert!(!lb.renamed.is_empty(), "{lb:?}");
        let mut ids: Vec<(String, String)> = vec![(dns.load_balancer.clone(), lb.id.clone())];
        ids.extend(lb.renamed.clone());
        for (old, description) in &archived {
            let call = RestoreCall { target: record(old), action: create(&remap(description, &ids)) };
            let restored = provider.restore(&call).await.unwrap_or_else(|e| panic!("restore {old}: {e}"));
            assert!(!restored.present, "{old}");
            assert_eq!(&restored.id, old, "a record's id is its zone, name, type and set");
        }
        for (id, description) in &archived {
            assert_same(&describe(id.clone()).await, &remap(description, &ids), id);
        }
        // The aliases name the restored balancer (moto gives a balancer created again
        // under its name the same DNS name; AWS a new one, which `renamed` carries).
        let lb_dns = described(&provider, &moto, T::Lb, &lb.id).await["model"]["dns_name"].as_str().unwrap_or_default().to_lowercase();
        for alias in &dns.aliases {
            let restored = describe(alias.clone()).await;
            assert_eq!(restored["model"]["alias"]["dns_name"].as_str().map(str::to_lowercase), Some(format!("dualstack.{lb_dns}")), "{restored}");
        }

        // Again: each is present.
        for (old, description) in &archived {
            let call = RestoreCall { target: record(old), action: create(&remap(description, &ids)) };
            let again = provider.restore(&call).await.expect("restore again");
            assert!(again.present, "{old}");
            assert_eq!(&again.id, old);
        }
        let calls = provider.api_calls();
        assert_eq!(calls.get("route53:ChangeResourceRecordSets"), Some(&10), "{calls:?}");

        // The zone gone: NotFound.
        for id in &records {
            provider.execute(&Operation::new(record(id), Action::Delete)).await.expect("delete record");
        }
        sdk.route53.delete_hosted_zone().id(&dns.zone).send().await.expect("delete zone");
        let call = RestoreCall { target: record(&plain), action: create(&archived[3].1) };
        let e = provider.restore(&call).await.expect_err("zone gone");
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert_eq!(e.code, "NoSuchHostedZone");
    }
}
