//! Fixtures built with the SDK on moto: an ECS-style web stack (VPC, ALB with a
//! listener and a path rule, blue/green target groups, ALB and app security groups,
//! two instances with an instance profile, IAM role and policies, log groups) beside a
//! neighbour stack that a decommission would keep.

use aws_sdk_ec2::types::{
    AttributeBooleanValue, IamInstanceProfileSpecification, IpPermission, IpRange,
    ResourceType as Ec2ResourceType, Tag as Ec2Tag, TagSpecification, UserIdGroupPair,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as ElbAction, ActionTypeEnum, ForwardActionConfig, LoadBalancerAttribute,
    LoadBalancerSchemeEnum, PathPatternConditionConfig, ProtocolEnum, RuleCondition, Tag as ElbTag,
    TargetDescription, TargetGroupTuple,
};

use crate::util::Sdk;

pub const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
pub const POLICY_V1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::web-assets/*"}]}"#;
pub const POLICY_V2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}"#;
pub const INLINE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}"#;
/// The key the migrations log group is encrypted with.
pub const LOGS_KEY: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";
/// A group of another account, referenced by a rule of the neighbour's group.
pub const FOREIGN_ACCOUNT: &str = "999988887777";

/// Identifiers of everything the stack made.
#[derive(Debug, Clone)]
pub struct Stack {
    pub vpc: String,
    pub subnets: Vec<String>,
    pub alb_sg: String,
    pub app_sg: String,
    pub neighbour_sg: String,
    pub foreign_sg: String,
    pub lb_arn: String,
    pub lb_name: String,
    pub listener_arn: String,
    pub rule_arn: String,
    pub blue_tg: String,
    pub green_tg: String,
    pub neighbour_tg: String,
    pub instances: Vec<String>,
    pub protected_instance: String,
    pub elb_eni: String,
    pub role: String,
    pub policy_arn: String,
    pub profile: String,
    pub user: String,
    pub group: String,
    pub log_groups: Vec<String>,
    pub neighbour_log_group: String,
    pub neighbour_role: String,
}

fn ec2_tags(kind: Ec2ResourceType, name: &str, stack: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Ec2Tag::builder().key("Name").value(name).build())
        .tags(Ec2Tag::builder().key("stack").value(stack).build())
        .build()
}

fn elb_tag(key: &str, value: &str) -> ElbTag {
    ElbTag::builder().key(key).value(value).build()
}

pub async fn vpc_with_subnets(sdk: &Sdk, region: &str) -> (String, Vec<String>) {
    let vpc = sdk
        .ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("create vpc")
        .vpc
        .and_then(|v| v.vpc_id)
        .expect("vpc id");
    let mut subnets = Vec::new();
    for (i, zone) in ["a", "b"].iter().enumerate() {
        subnets.push(
            sdk.ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(format!("10.0.{i}.0/24"))
                .availability_zone(format!("{region}{zone}"))
                .send()
                .await
                .expect("create subnet")
                .subnet
                .and_then(|s| s.subnet_id)
                .expect("subnet id"),
        );
    }
    (vpc, subnets)
}

pub async fn security_group(sdk: &Sdk, vpc: &str, name: &str, stack: &str) -> String {
    sdk.ec2
        .create_security_group()
        .group_name(name)
        .description(format!("{name} group"))
        .vpc_id(vpc)
        .tag_specifications(ec2_tags(Ec2ResourceType::SecurityGroup, name, stack))
        .send()
        .await
        .expect("create security group")
        .group_id
        .expect("group id")
}

pub async fn target_group(sdk: &Sdk, vpc: &str, name: &str) -> String {
    sdk.elbv2
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id(vpc)
        .tags(elb_tag("stack", name))
        .send()
        .await
        .expect("create target group")
        .target_groups()[0]
        .target_group_arn()
        .expect("tg arn")
        .to_string()
}

pub async fn load_balancer(sdk: &Sdk, name: &str, subnets: &[String], sg: &str) -> String {
    sdk.elbv2
        .create_load_balancer()
        .name(name)
        .set_subnets(Some(subnets.to_vec()))
        .security_groups(sg)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .tags(elb_tag("stack", "web"))
        .send()
        .await
        .expect("create load balancer")
        .load_balancers()[0]
        .load_balancer_arn()
        .expect("lb arn")
        .to_string()
}

pub fn forward(groups: &[(&str, i32)]) -> ElbAction {
    let mut config = ForwardActionConfig::builder();
    for (arn, weight) in groups {
        config = config.target_groups(
            TargetGroupTuple::builder()
                .target_group_arn(*arn)
                .weight(*weight)
                .build(),
        );
    }
    ElbAction::builder()
        .r#type(ActionTypeEnum::Forward)
        .forward_config(config.build())
        .build()
}

pub fn forward_one(arn: &str) -> ElbAction {
    ElbAction::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(arn)
        .build()
}

pub fn path_condition(path: &str) -> RuleCondition {
    RuleCondition::builder()
        .field("path-pattern")
        .path_pattern_config(PathPatternConditionConfig::builder().values(path).build())
        .build()
}

pub async fn build_stack(sdk: &Sdk, region: &str) -> Stack {
    let (vpc, subnets) = vpc_with_subnets(sdk, region).await;

    // Security groups: the ALB's admits the world, the app's admits the ALB's, the
    // kept neighbour's admits the app's (a link that keeps the app group alive) and a
    // group of another account.
    let alb_sg = security_group(sdk, &vpc, "web-alb", "web").await;
    let app_sg = security_group(sdk, &vpc, "web-app", "web").await;
    let neighbour_sg = security_group(sdk, &vpc, "neighbour", "neighbour").await;
    // moto only accepts groups it knows: the "other account's" group is made here and
    // referenced with the other account's id, as a peered VPC's group would be.
    let foreign_sg = security_group(sdk, &vpc, "peer-account", "peer").await;
    sdk.ec2
        .authorize_security_group_ingress()
        .group_id(&alb_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(443)
                .to_port(443)
                .ip_ranges(
                    IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .description("https from anywhere")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("alb ingress");
    sdk.ec2
        .authorize_security_group_ingress()
        .group_id(&app_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(8080)
                .to_port(8080)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&alb_sg).build())
                .build(),
        )
        .send()
        .await
        .expect("app ingress");
    sdk.ec2
        .authorize_security_group_ingress()
        .group_id(&neighbour_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&app_sg).build())
                .user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id(&foreign_sg)
                        .user_id(FOREIGN_ACCOUNT)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("neighbour ingress");

    // Load balancer, blue/green target groups, listener and a path rule.
    let lb_name = "web".to_string();
    let lb_arn = load_balancer(sdk, &lb_name, &subnets, &alb_sg).await;
    sdk.elbv2
        .modify_load_balancer_attributes()
        .load_balancer_arn(&lb_arn)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .expect("deletion protection");
    let blue_tg = target_group(sdk, &vpc, "web-blue").await;
    let green_tg = target_group(sdk, &vpc, "web-green").await;
    let neighbour_tg = target_group(sdk, &vpc, "neighbour").await;
    let listener_arn = sdk
        .elbv2
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(forward(&[(&blue_tg, 100), (&green_tg, 0)]))
        .send()
        .await
        .expect("create listener")
        .listeners()[0]
        .listener_arn()
        .expect("listener arn")
        .to_string();
    let rule_arn = sdk
        .elbv2
        .create_rule()
        .listener_arn(&listener_arn)
        .priority(10)
        .conditions(path_condition("/api/*"))
        .actions(forward_one(&green_tg))
        .send()
        .await
        .expect("create rule")
        .rules()[0]
        .rule_arn()
        .expect("rule arn")
        .to_string();

    // IAM: role with a customer policy (two versions) and an inline policy, in an
    // instance profile; the policy is also attached to a user and a group.
    let role = "web-task".to_string();
    sdk.iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST_EC2)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("stack")
                .value("web")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("create role");
    let policy_arn = sdk
        .iam
        .create_policy()
        .policy_name("web-assets")
        .policy_document(POLICY_V1)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("stack")
                .value("web")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("create policy")
        .policy
        .and_then(|p| p.arn)
        .expect("policy arn");
    sdk.iam
        .create_policy_version()
        .policy_arn(&policy_arn)
        .policy_document(POLICY_V2)
        .set_as_default(true)
        .send()
        .await
        .expect("policy v2");
    sdk.iam
        .attach_role_policy()
        .role_name(&role)
        .policy_arn(&policy_arn)
        .send()
        .await
        .expect("attach");
    sdk.iam
        .attach_role_policy()
        .role_name(&role)
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .expect("attach aws managed");
    sdk.iam
        .put_role_policy()
        .role_name(&role)
        .policy_name("write-logs")
        .policy_document(INLINE)
        .send()
        .await
        .expect("inline");
    let user = "deployer".to_string();
    let group = "operators".to_string();
    sdk.iam
        .create_user()
        .user_name(&user)
        .send()
        .await
        .expect("user");
    sdk.iam
        .create_group()
        .group_name(&group)
        .send()
        .await
        .expect("group");
    sdk.iam
        .attach_user_policy()
        .user_name(&user)
        .policy_arn(&policy_arn)
        .send()
        .await
        .expect("attach user");
    sdk.iam
        .attach_group_policy()
        .group_name(&group)
        .policy_arn(&policy_arn)
        .send()
        .await
        .expect("attach group");
    let profile = "web-instance".to_string();
    sdk.iam
        .create_instance_profile()
        .instance_profile_name(&profile)
        .send()
        .await
        .expect("profile");
    sdk.iam
        .add_role_to_instance_profile()
        .instance_profile_name(&profile)
        .role_name(&role)
        .send()
        .await
        .expect("add role");
    let neighbour_role = "neighbour-task".to_string();
    sdk.iam
        .create_role()
        .role_name(&neighbour_role)
        .path("/service/")
        .assume_role_policy_document(TRUST_EC2)
        .send()
        .await
        .expect("neighbour role");

    // Two instances with the profile, in the app group; the first is protected. One
    // RunInstances each: moto gives the profile only to the first of a batch.
    let mut instances = Vec::new();
    for _ in 0..2 {
        let reservation = sdk
            .ec2
            .run_instances()
            .image_id("ami-12c6146b")
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnets[0])
            .security_group_ids(&app_sg)
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(&profile)
                    .build(),
            )
            .tag_specifications(ec2_tags(Ec2ResourceType::Instance, "web-task", "web"))
            .send()
            .await
            .expect("run instances");
        instances.extend(
            reservation
                .instances()
                .iter()
                .filter_map(|i| i.instance_id().map(str::to_string)),
        );
    }
    assert_eq!(instances.len(), 2);
    let protected_instance = instances[0].clone();
    sdk.ec2
        .modify_instance_attribute()
        .instance_id(&protected_instance)
        .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .expect("termination protection");
    sdk.elbv2
        .register_targets()
        .target_group_arn(&blue_tg)
        .set_targets(Some(
            instances
                .iter()
                .map(|id| TargetDescription::builder().id(id).port(8080).build())
                .collect(),
        ))
        .send()
        .await
        .expect("register targets");

    // moto creates no load balancer ENIs: make one the way AWS describes them.
    let lb_suffix = lb_arn
        .split_once(":loadbalancer/")
        .map(|(_, s)| s.to_string())
        .expect("lb arn suffix");
    let elb_eni = sdk
        .ec2
        .create_network_interface()
        .subnet_id(&subnets[1])
        .description(format!("ELB {lb_suffix}"))
        .groups(&alb_sg)
        .send()
        .await
        .expect("eni")
        .network_interface
        .and_then(|n| n.network_interface_id)
        .expect("eni id");

    // Log groups.
    let log_groups = vec!["/ecs/web".to_string(), "/ecs/web-migrations".to_string()];
    for (i, name) in log_groups.iter().enumerate() {
        sdk.logs
            .create_log_group()
            .log_group_name(name)
            .tags("stack", "web")
            .set_kms_key_id((i == 1).then(|| LOGS_KEY.to_string()))
            .send()
            .await
            .expect("log group");
    }
    sdk.logs
        .put_retention_policy()
        .log_group_name(&log_groups[0])
        .retention_in_days(30)
        .send()
        .await
        .expect("retention");
    let neighbour_log_group = "/ecs/neighbour".to_string();
    sdk.logs
        .create_log_group()
        .log_group_name(&neighbour_log_group)
        .send()
        .await
        .expect("neighbour log group");

    Stack {
        vpc,
        subnets,
        alb_sg,
        app_sg,
        neighbour_sg,
        foreign_sg,
        lb_arn,
        lb_name,
        listener_arn,
        rule_arn,
        blue_tg,
        green_tg,
        neighbour_tg,
        instances,
        protected_instance,
        elb_eni,
        role,
        policy_arn,
        profile,
        user,
        group,
        log_groups,
        neighbour_log_group,
        neighbour_role,
    }
}
