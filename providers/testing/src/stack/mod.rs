//! The account the moto tests work on, built with the SDK: an ECS-style `web` stack
//! (an ALB with a listener and a path rule, blue/green target groups, an app
//! security group admitting the ALB's, two instances with an instance profile whose
//! role has an attached and an inline policy, log groups), tagged `stack = web`,
//! beside a `neighbour` of the same shape, tagged `stack = neighbour`, that the
//! specs keep. [`build_varied`] adds what only discovery and the provider's actions
//! need (see [`Varieties`]).
//!
//! The building blocks are public for tests that make resources by the hundred.

mod census;
pub mod dns;
pub mod ecs;
mod fleet;
mod varieties;

pub use census::{Key, census, neighbour_details};
pub use dns::{Dns, build_dns, dns_census};
pub use fleet::{Fleet, build_fleet, fleet_census};
pub use varieties::{FOREIGN_ACCOUNT, Varieties, build_varied};

use aws_sdk_ec2::types::{
    IamInstanceProfileSpecification, InstanceNetworkInterfaceSpecification, IpPermission, IpRange,
    ResourceType as Ec2ResourceType, Tag as Ec2Tag, TagSpecification, UserIdGroupPair,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as ElbAction, ActionTypeEnum, ForwardActionConfig, LoadBalancerSchemeEnum,
    PathPatternConditionConfig, ProtocolEnum, RuleCondition, Tag as ElbTag, TargetDescription,
    TargetGroupTuple,
};

use crate::sdk::Sdk;

pub const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// Each application's customer policy, as created.
pub const POLICY_V1: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::web-assets/*"}]}"#;
/// The web policy's second version (made default by [`build_varied`]).
pub const POLICY_V2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}"#;
/// Each application's role's inline policy, `write-logs`.
pub const INLINE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}"#;
/// The key the web migrations log group is encrypted with.
pub const LOGS_KEY: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";

/// The `web` stack (to be decommissioned) and its `neighbour` (kept), in one VPC.
#[derive(Debug, Clone)]
pub struct Stacks {
    pub vpc: String,
    /// One per availability zone `a` and `b`.
    pub subnets: Vec<String>,
    /// The web application; its target group is the blue one.
    pub web: App,
    /// The web application's load balancer side.
    pub alb: Alb,
    pub neighbour: App,
}

/// One application: a security group, instances with an instance profile registered
/// in a target group, the profile's role with an attached customer policy and the
/// inline policy `write-logs`, log groups.
#[derive(Debug, Clone)]
pub struct App {
    pub app_sg: String,
    pub target_group: String,
    pub instances: Vec<String>,
    pub role: String,
    pub policy_arn: String,
    pub profile: String,
    pub log_groups: Vec<String>,
}

/// The web ALB `web`: its security group (admitting the world on 443), an HTTP:80
/// listener forwarding to blue (weight 100) and green (0), and a rule `/api/*` to
/// green.
#[derive(Debug, Clone)]
pub struct Alb {
    pub security_group: String,
    pub arn: String,
    pub name: String,
    pub listener: String,
    pub rule: String,
    pub green_target_group: String,
}

/// Builds both stacks in the SDK's region.
///
/// `/ecs/web` keeps events 30 days and `/ecs/web-migrations` is encrypted with
/// [`LOGS_KEY`]; the neighbour's `/ecs/web-shared` matches a `/ecs/web` name prefix
/// too, so only a `keep` saves it.
pub async fn build(sdk: &Sdk) -> Stacks {
    let (vpc, subnets) = vpc_with_subnets(sdk).await;

    // web: the ALB's group admits the world, the app's admits the ALB's.
    let lb_sg = security_group(sdk, &vpc, "web-alb", "web").await;
    let app_sg = security_group(sdk, &vpc, "web-app", "web").await;
    ingress(
        sdk,
        &lb_sg,
        443,
        Source::Cidr("0.0.0.0/0", "https from anywhere"),
    )
    .await;
    ingress(sdk, &app_sg, 8080, Source::Group(&lb_sg)).await;
    let name = "web".to_string();
    let lb_arn = load_balancer(sdk, &name, &subnets, &lb_sg, "web").await;
    let blue = target_group(sdk, &vpc, "web-blue", "web").await;
    let green = target_group(sdk, &vpc, "web-green", "web").await;
    let listener = sdk
        .elbv2
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(forward(&[(&blue, 100), (&green, 0)]))
        .send()
        .await
        .expect("create listener")
        .listeners()[0]
        .listener_arn()
        .expect("listener arn")
        .to_string();
    let rule = sdk
        .elbv2
        .create_rule()
        .listener_arn(&listener)
        .priority(10)
        .conditions(path_condition("/api/*"))
        .actions(forward_one(&green))
        .send()
        .await
        .expect("create rule")
        .rules()[0]
        .rule_arn()
        .expect("rule arn")
        .to_string();
    let (role, policy_arn, profile) = iam(sdk, "web", "web").await;
    let web_instances = instances(sdk, 2, &subnets[0], &app_sg, &profile, "web", &blue).await;
    let web_logs = log_groups(sdk, &["/ecs/web", "/ecs/web-migrations"], "web").await;
    sdk.logs
        .put_retention_policy()
        .log_group_name(&web_logs[0])
        .retention_in_days(30)
        .send()
        .await
        .expect("retention");
    let web = App {
        app_sg,
        target_group: blue,
        instances: web_instances,
        role,
        policy_arn,
        profile,
        log_groups: web_logs,
    };
    let alb = Alb {
        security_group: lb_sg,
        arn: lb_arn,
        name,
        listener,
        rule,
        green_target_group: green,
    };

    // neighbour: same VPC and shapes, its group admitting the VPC.
    let app_sg = security_group(sdk, &vpc, "neighbour-app", "neighbour").await;
    ingress(
        sdk,
        &app_sg,
        5432,
        Source::Cidr("10.0.0.0/16", "postgres from the VPC"),
    )
    .await;
    let neighbour_tg = target_group(sdk, &vpc, "neighbour", "neighbour").await;
    let (role, policy_arn, profile) = iam(sdk, "neighbour", "neighbour").await;
    let neighbour_instances = instances(
        sdk,
        1,
        &subnets[1],
        &app_sg,
        &profile,
        "neighbour",
        &neighbour_tg,
    )
    .await;
    let neighbour_logs = log_groups(sdk, &["/ecs/web-shared", "/ecs/neighbour"], "neighbour").await;
    let neighbour = App {
        app_sg,
        target_group: neighbour_tg,
        instances: neighbour_instances,
        role,
        policy_arn,
        profile,
        log_groups: neighbour_logs,
    };

    Stacks {
        vpc,
        subnets,
        web,
        alb,
        neighbour,
    }
}

fn ec2_tags(kind: Ec2ResourceType, name: &str, stack: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Ec2Tag::builder().key("Name").value(name).build())
        .tags(Ec2Tag::builder().key("stack").value(stack).build())
        .build()
}

fn elb_tag(stack: &str) -> ElbTag {
    ElbTag::builder().key("stack").value(stack).build()
}

fn iam_tag(stack: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key("stack")
        .value(stack)
        .build()
        .expect("tag")
}

/// A VPC `10.0.0.0/16` with a subnet in each of the SDK region's zones `a` and `b`.
pub async fn vpc_with_subnets(sdk: &Sdk) -> (String, Vec<String>) {
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
                .availability_zone(format!("{}{zone}", sdk.region))
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

/// A security group named `name`, tagged `Name = name` and `stack`.
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

/// Where an ingress rule admits traffic from.
pub enum Source<'a> {
    /// A CIDR block, with the rule's description.
    Cidr(&'a str, &'a str),
    /// Another group of the account.
    Group(&'a str),
    /// A group of another account (a peered VPC's): (group id, account id).
    ForeignGroup(&'a str, &'a str),
}

/// A TCP ingress rule on `port` of `group`.
pub async fn ingress(sdk: &Sdk, group: &str, port: i32, from: Source<'_>) {
    let permission = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port);
    let permission = match from {
        Source::Cidr(cidr, description) => permission.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .description(description)
                .build(),
        ),
        Source::Group(group) => {
            permission.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build())
        }
        Source::ForeignGroup(group, account) => permission.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(group)
                .user_id(account)
                .build(),
        ),
    };
    sdk.ec2
        .authorize_security_group_ingress()
        .group_id(group)
        .ip_permissions(permission.build())
        .send()
        .await
        .expect("authorize ingress");
}

/// An HTTP:8080 target group of instances, tagged `stack`.
pub async fn target_group(sdk: &Sdk, vpc: &str, name: &str, stack: &str) -> String {
    sdk.elbv2
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id(vpc)
        .tags(elb_tag(stack))
        .send()
        .await
        .expect("create target group")
        .target_groups()[0]
        .target_group_arn()
        .expect("tg arn")
        .to_string()
}

/// An internet-facing application load balancer, tagged `stack`.
pub async fn load_balancer(
    sdk: &Sdk,
    name: &str,
    subnets: &[String],
    group: &str,
    stack: &str,
) -> String {
    sdk.elbv2
        .create_load_balancer()
        .name(name)
        .set_subnets(Some(subnets.to_vec()))
        .security_groups(group)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .tags(elb_tag(stack))
        .send()
        .await
        .expect("create load balancer")
        .load_balancers()[0]
        .load_balancer_arn()
        .expect("lb arn")
        .to_string()
}

/// Forwards to several target groups with weights.
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

/// Role `<prefix>-task` with the attached customer policy `<prefix>-assets` and the
/// inline policy `write-logs`, in the instance profile `<prefix>-instance`; all
/// tagged `stack`. Returns (role, policy ARN, profile).
async fn iam(sdk: &Sdk, prefix: &str, stack: &str) -> (String, String, String) {
    let role = format!("{prefix}-task");
    sdk.iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(TRUST_EC2)
        .tags(iam_tag(stack))
        .send()
        .await
        .expect("create role");
    let policy_arn = sdk
        .iam
        .create_policy()
        .policy_name(format!("{prefix}-assets"))
        .policy_document(POLICY_V1)
        .tags(iam_tag(stack))
        .send()
        .await
        .expect("create policy")
        .policy
        .and_then(|p| p.arn)
        .expect("policy arn");
    sdk.iam
        .attach_role_policy()
        .role_name(&role)
        .policy_arn(&policy_arn)
        .send()
        .await
        .expect("attach role policy");
    sdk.iam
        .put_role_policy()
        .role_name(&role)
        .policy_name("write-logs")
        .policy_document(INLINE)
        .send()
        .await
        .expect("put inline policy");
    let profile = format!("{prefix}-instance");
    sdk.iam
        .create_instance_profile()
        .instance_profile_name(&profile)
        .tags(iam_tag(stack))
        .send()
        .await
        .expect("create instance profile");
    sdk.iam
        .add_role_to_instance_profile()
        .instance_profile_name(&profile)
        .role_name(&role)
        .send()
        .await
        .expect("add role to profile");
    (role, policy_arn, profile)
}

/// `count` instances named `<stack>-task` with the profile in `group`, one
/// RunInstances each (moto gives the profile only to the first instance of a batch),
/// registered in `target_group` on 8080.
async fn instances(
    sdk: &Sdk,
    count: usize,
    subnet: &str,
    group: &str,
    profile: &str,
    stack: &str,
    target_group: &str,
) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let reservation = sdk
            .ec2
            .run_instances()
            .image_id("ami-12c6146b")
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            // AWS deletes the primary interface with the instance and reports the
            // interface's groups as the instance's. moto does the first only when the
            // interface's spec asks, the second only for instance-level groups, so
            // both are given here (AWS would refuse the pair; moto then behaves as
            // AWS does with either).
            .security_group_ids(group)
            .network_interfaces(
                InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .subnet_id(subnet)
                    .delete_on_termination(true)
                    .build(),
            )
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(profile)
                    .build(),
            )
            .tag_specifications(ec2_tags(
                Ec2ResourceType::Instance,
                &format!("{stack}-task"),
                stack,
            ))
            .send()
            .await
            .expect("run instances");
        ids.extend(
            reservation
                .instances()
                .iter()
                .filter_map(|i| i.instance_id().map(str::to_string)),
        );
    }
    assert_eq!(ids.len(), count, "moto started {count} instance(s)");
    sdk.elbv2
        .register_targets()
        .target_group_arn(target_group)
        .set_targets(Some(
            ids.iter()
                .map(|id| TargetDescription::builder().id(id).port(8080).build())
                .collect(),
        ))
        .send()
        .await
        .expect("register targets");
    ids
}

/// Log groups tagged `stack`; a `-migrations` group is encrypted with [`LOGS_KEY`].
async fn log_groups(sdk: &Sdk, names: &[&str], stack: &str) -> Vec<String> {
    for name in names {
        sdk.logs
            .create_log_group()
            .log_group_name(*name)
            .tags("stack", stack)
            .set_kms_key_id(name.ends_with("-migrations").then(|| LOGS_KEY.to_string()))
            .send()
            .await
            .expect("create log group");
    }
    names.iter().map(|n| n.to_string()).collect()
}
