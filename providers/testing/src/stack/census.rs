//! What an account holds, read through the SDK: a census of every resource of the
//! types decom models, the resources of each stack as the census names them, and
//! what "intact" means for the neighbour beyond existing.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::Filter;

use super::{App, Stacks};
use crate::sdk::Sdk;

/// A resource as the census names it: its Terraform type and decom's id.
pub type Key = (String, String);

fn key(kind: &str, id: &str) -> Key {
    (kind.to_string(), id.to_string())
}

impl Stacks {
    /// Every resource of the web stack, as decom identifies them.
    pub fn web_keys(&self) -> BTreeSet<Key> {
        let alb = &self.alb;
        let mut keys = app_keys(&self.web);
        keys.insert(key("aws_security_group", &alb.security_group));
        keys.insert(key("aws_lb", &alb.arn));
        keys.insert(key("aws_lb_listener", &alb.listener));
        keys.insert(key("aws_lb_listener_rule", &alb.rule));
        keys.insert(key("aws_lb_target_group", &alb.green_target_group));
        keys
    }

    /// Every resource of the neighbour.
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
