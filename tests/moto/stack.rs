//! Fixtures built with the SDK on moto: an ECS-style `web` stack (ALB, listener, a
//! path rule, blue/green target groups, an app security group admitting the ALB's,
//! two instances with an instance profile whose role has an attached and an inline
//! policy, log groups), tagged `stack = web`, beside a `neighbour` stack that the
//! specs keep; and a census of what lives in the account.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{
    Filter, IamInstanceProfileSpecification, InstanceNetworkInterfaceSpecification, IpPermission,
    IpRange, ResourceType as Ec2ResourceType, Tag as Ec2Tag, TagSpecification, UserIdGroupPair,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as ElbAction, ActionTypeEnum, ForwardActionConfig, PathPatternConditionConfig,
    ProtocolEnum, RuleCondition, Tag as ElbTag, TargetDescription, TargetGroupTuple,
};

use super::harness::{REGION, Sdk};

const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const INLINE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}"#;

/// What the `web` stack (to be decommissioned) and its neighbour (kept) are made of.
#[derive(Debug, Clone)]
pub struct Stacks {
    pub subnets: Vec<String>,
    pub web: App,
    pub neighbour: App,
    pub listener_arn: String,
    pub rule_arn: String,
    pub green_tg: String,
}

/// One application: a security group, instances with a profile, a role, a policy,
/// a target group with the instances registered, log groups; the web app also has
/// the ALB, its security group and a second target group.
#[derive(Debug, Clone)]
pub struct App {
    pub app_sg: String,
    pub lb_sg: Option<String>,
    pub lb_arn: Option<String>,
    pub target_group: String,
    pub instances: Vec<String>,
    pub role: String,
    pub policy_arn: String,
    pub profile: String,
    pub log_groups: Vec<String>,
}

fn ec2_tags(kind: Ec2ResourceType, name: &str, stack: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Ec2Tag::builder().key("Name").value(name).build())
        .tags(Ec2Tag::builder().key("stack").value(stack).build())
        .build()
}

fn iam_tag(stack: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key("stack")
        .value(stack)
        .build()
        .expect("tag")
}

async fn security_group(sdk: &Sdk, vpc: &str, name: &str, stack: &str) -> String {
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

async fn ingress(sdk: &Sdk, group: &str, port: i32, from: Result<&str, &str>) {
    let permission = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port);
    let permission = match from {
        Ok(group) => {
            permission.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).build())
        }
        Err(cidr) => permission.ip_ranges(IpRange::builder().cidr_ip(cidr).build()),
    };
    sdk.ec2
        .authorize_security_group_ingress()
        .group_id(group)
        .ip_permissions(permission.build())
        .send()
        .await
        .expect("authorize ingress");
}

async fn target_group(sdk: &Sdk, vpc: &str, name: &str, stack: &str) -> String {
    sdk.elbv2
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(8080)
        .vpc_id(vpc)
        .tags(ElbTag::builder().key("stack").value(stack).build())
        .send()
        .await
        .expect("create target group")
        .target_groups()[0]
        .target_group_arn()
        .expect("tg arn")
        .to_string()
}

/// Role with an attached customer policy and an inline policy, in an instance
/// profile; everything tagged `stack`.
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
        .policy_document(POLICY)
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

/// `count` instances with the profile in `group`, one RunInstances each (moto gives
/// the profile only to the first instance of a batch), registered in `target_group`.
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
            // As AWS does for an instance launched into a subnet, the primary
            // interface goes with the instance; moto's default for `SubnetId` keeps it.
            .network_interfaces(
                InstanceNetworkInterfaceSpecification::builder()
                    .device_index(0)
                    .subnet_id(subnet)
                    .groups(group)
                    .delete_on_termination(true)
                    .build(),
            )
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(profile)
                    .build(),
            )
            .tag_specifications(ec2_tags(Ec2ResourceType::Instance, stack, stack))
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

async fn log_groups(sdk: &Sdk, names: &[&str], stack: &str) -> Vec<String> {
    for name in names {
        sdk.logs
            .create_log_group()
            .log_group_name(*name)
            .tags("stack", stack)
            .send()
            .await
            .expect("create log group");
    }
    names.iter().map(|n| n.to_string()).collect()
}

fn forward_weighted(groups: &[(&str, i32)]) -> ElbAction {
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

pub async fn build(sdk: &Sdk) -> Stacks {
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
                .availability_zone(format!("{REGION}{zone}"))
                .send()
                .await
                .expect("create subnet")
                .subnet
                .and_then(|s| s.subnet_id)
                .expect("subnet id"),
        );
    }

    // web: the ALB's group admits the world, the app's admits the ALB's.
    let lb_sg = security_group(sdk, &vpc, "web-alb", "web").await;
    let app_sg = security_group(sdk, &vpc, "web-app", "web").await;
    ingress(sdk, &lb_sg, 443, Err("0.0.0.0/0")).await;
    ingress(sdk, &app_sg, 8080, Ok(&lb_sg)).await;
    let lb_arn = sdk
        .elbv2
        .create_load_balancer()
        .name("web")
        .set_subnets(Some(subnets.clone()))
        .security_groups(&lb_sg)
        .tags(ElbTag::builder().key("stack").value("web").build())
        .send()
        .await
        .expect("create load balancer")
        .load_balancers()[0]
        .load_balancer_arn()
        .expect("lb arn")
        .to_string();
    let blue_tg = target_group(sdk, &vpc, "web-blue", "web").await;
    let green_tg = target_group(sdk, &vpc, "web-green", "web").await;
    let listener_arn = sdk
        .elbv2
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(forward_weighted(&[(&blue_tg, 100), (&green_tg, 0)]))
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
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .path_pattern_config(
                    PathPatternConditionConfig::builder()
                        .values("/api/*")
                        .build(),
                )
                .build(),
        )
        .actions(
            ElbAction::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&green_tg)
                .build(),
        )
        .send()
        .await
        .expect("create rule")
        .rules()[0]
        .rule_arn()
        .expect("rule arn")
        .to_string();
    let (role, policy_arn, profile) = iam(sdk, "web", "web").await;
    let web_instances = instances(sdk, 2, &subnets[0], &app_sg, &profile, "web", &blue_tg).await;
    let web_logs = log_groups(sdk, &["/ecs/web", "/ecs/web-migrations"], "web").await;
    let web = App {
        app_sg,
        lb_sg: Some(lb_sg),
        lb_arn: Some(lb_arn),
        target_group: blue_tg,
        instances: web_instances,
        role,
        policy_arn,
        profile,
        log_groups: web_logs,
    };

    // neighbour: same VPC and shapes, tagged `stack = neighbour`; its log group's
    // name also matches the spec's `/ecs/web` prefix, so only `keep` saves it.
    let neighbour_sg = security_group(sdk, &vpc, "neighbour-app", "neighbour").await;
    ingress(sdk, &neighbour_sg, 5432, Err("10.0.0.0/16")).await;
    let neighbour_tg = target_group(sdk, &vpc, "neighbour", "neighbour").await;
    let (role, policy_arn, profile) = iam(sdk, "neighbour", "neighbour").await;
    let neighbour_instances = instances(
        sdk,
        1,
        &subnets[1],
        &neighbour_sg,
        &profile,
        "neighbour",
        &neighbour_tg,
    )
    .await;
    let neighbour_logs = log_groups(sdk, &["/ecs/web-shared", "/ecs/neighbour"], "neighbour").await;
    let neighbour = App {
        app_sg: neighbour_sg,
        lb_sg: None,
        lb_arn: None,
        target_group: neighbour_tg,
        instances: neighbour_instances,
        role,
        policy_arn,
        profile,
        log_groups: neighbour_logs,
    };

    Stacks {
        subnets,
        web,
        neighbour,
        listener_arn,
        rule_arn,
        green_tg,
    }
}

/// A resource as the census names it: its Terraform type and decom's id.
pub type Key = (String, String);

fn key(kind: &str, id: &str) -> Key {
    (kind.to_string(), id.to_string())
}

impl Stacks {
    /// Every resource of the web stack, as decom identifies them.
    pub fn web_keys(&self) -> BTreeSet<Key> {
        let w = &self.web;
        let mut keys = app_keys(w);
        keys.insert(key(
            "aws_security_group",
            w.lb_sg.as_deref().expect("web lb sg"),
        ));
        keys.insert(key("aws_lb", w.lb_arn.as_deref().expect("web lb")));
        keys.insert(key("aws_lb_listener", &self.listener_arn));
        keys.insert(key("aws_lb_listener_rule", &self.rule_arn));
        keys.insert(key("aws_lb_target_group", &self.green_tg));
        keys
    }

    pub fn neighbour_keys(&self) -> BTreeSet<Key> {
        app_keys(&self.neighbour)
    }
}

fn app_keys(app: &App) -> BTreeSet<Key> {
    let mut keys = BTreeSet::from([
        key("aws_security_group", &app.app_sg),
        key("aws_lb_target_group", &app.target_group),
        key("aws_iam_role", &app.role),
        key("aws_iam_policy", &app.policy_arn),
        key("aws_iam_instance_profile", &app.profile),
    ]);
    for id in &app.instances {
        keys.insert(key("aws_instance", id));
    }
    for name in &app.log_groups {
        keys.insert(key("aws_cloudwatch_log_group", name));
    }
    keys
}

/// Every resource of the types decom models that exists in the account's region,
/// read through the SDK (terminated instances do not count; default security groups
/// do not either: decom never plans them).
pub async fn census(sdk: &Sdk) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    for group in sdk
        .ec2
        .describe_security_groups()
        .send()
        .await
        .expect("describe security groups")
        .security_groups()
    {
        if group.group_name() != Some("default") {
            keys.insert(key("aws_security_group", group.group_id().expect("id")));
        }
    }
    for reservation in sdk
        .ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .build(),
        )
        .send()
        .await
        .expect("describe instances")
        .reservations()
    {
        for instance in reservation.instances() {
            keys.insert(key("aws_instance", instance.instance_id().expect("id")));
        }
    }
    for eni in sdk
        .ec2
        .describe_network_interfaces()
        .send()
        .await
        .expect("describe network interfaces")
        .network_interfaces()
    {
        keys.insert(key(
            "aws_network_interface",
            eni.network_interface_id().expect("id"),
        ));
    }
    for lb in sdk
        .elbv2
        .describe_load_balancers()
        .send()
        .await
        .expect("describe load balancers")
        .load_balancers()
    {
        let arn = lb.load_balancer_arn().expect("arn");
        keys.insert(key("aws_lb", arn));
        for listener in sdk
            .elbv2
            .describe_listeners()
            .load_balancer_arn(arn)
            .send()
            .await
            .expect("describe listeners")
            .listeners()
        {
            let listener_arn = listener.listener_arn().expect("arn");
            keys.insert(key("aws_lb_listener", listener_arn));
            for rule in sdk
                .elbv2
                .describe_rules()
                .listener_arn(listener_arn)
                .send()
                .await
                .expect("describe rules")
                .rules()
            {
                if rule.is_default() != Some(true) {
                    keys.insert(key("aws_lb_listener_rule", rule.rule_arn().expect("arn")));
                }
            }
        }
    }
    for tg in sdk
        .elbv2
        .describe_target_groups()
        .send()
        .await
        .expect("describe target groups")
        .target_groups()
    {
        keys.insert(key(
            "aws_lb_target_group",
            tg.target_group_arn().expect("arn"),
        ));
    }
    for role in sdk
        .iam
        .list_roles()
        .send()
        .await
        .expect("list roles")
        .roles()
    {
        keys.insert(key("aws_iam_role", role.role_name()));
    }
    for policy in sdk
        .iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .expect("list policies")
        .policies()
    {
        keys.insert(key("aws_iam_policy", policy.arn().expect("arn")));
    }
    for profile in sdk
        .iam
        .list_instance_profiles()
        .send()
        .await
        .expect("list instance profiles")
        .instance_profiles()
    {
        keys.insert(key(
            "aws_iam_instance_profile",
            profile.instance_profile_name(),
        ));
    }
    for group in sdk
        .logs
        .describe_log_groups()
        .send()
        .await
        .expect("describe log groups")
        .log_groups()
    {
        keys.insert(key(
            "aws_cloudwatch_log_group",
            group.log_group_name().expect("name"),
        ));
    }
    keys
}

/// What "intact" means for the neighbour beyond existing: its rule, its role's
/// policies, its profile's role, its registered target, its running instance.
pub async fn neighbour_details(sdk: &Sdk, app: &App) -> Vec<String> {
    let mut details = Vec::new();
    let groups = sdk
        .ec2
        .describe_security_groups()
        .group_ids(&app.app_sg)
        .send()
        .await
        .expect("describe neighbour group");
    for permission in groups.security_groups()[0].ip_permissions() {
        for range in permission.ip_ranges() {
            details.push(format!(
                "ingress {:?} from {:?}",
                permission.from_port(),
                range.cidr_ip()
            ));
        }
    }
    for policy in sdk
        .iam
        .list_attached_role_policies()
        .role_name(&app.role)
        .send()
        .await
        .expect("list attached role policies")
        .attached_policies()
    {
        details.push(format!("attached {:?}", policy.policy_arn()));
    }
    for name in sdk
        .iam
        .list_role_policies()
        .role_name(&app.role)
        .send()
        .await
        .expect("list role policies")
        .policy_names()
    {
        details.push(format!("inline {name}"));
    }
    let profile = sdk
        .iam
        .get_instance_profile()
        .instance_profile_name(&app.profile)
        .send()
        .await
        .expect("get instance profile");
    for role in profile.instance_profile().expect("profile").roles() {
        details.push(format!("profile role {}", role.role_name()));
    }
    for target in sdk
        .elbv2
        .describe_target_health()
        .target_group_arn(&app.target_group)
        .send()
        .await
        .expect("describe target health")
        .target_health_descriptions()
    {
        details.push(format!("target {:?}", target.target().and_then(|t| t.id())));
    }
    for reservation in sdk
        .ec2
        .describe_instances()
        .set_instance_ids(Some(app.instances.clone()))
        .send()
        .await
        .expect("describe neighbour instances")
        .reservations()
    {
        for instance in reservation.instances() {
            details.push(format!(
                "instance {:?} {:?} profile {:?}",
                instance.instance_id(),
                instance.state().and_then(|s| s.name()),
                instance.iam_instance_profile().and_then(|p| p.arn())
            ));
        }
    }
    details.sort();
    details
}
