//! What only the provider's tests need on top of the two stacks: every variety
//! discovery must read and every action must undo. `decom` could not delete these on
//! moto as AWS would (moto never deletes a load balancer's interface), and the CLI
//! tests' neighbour must not be touched (a kept group referencing the web app's).

use aws_sdk_ec2::types::AttributeBooleanValue;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute;

use super::{POLICY_V2, Source, Stacks, TRUST_EC2, build, ingress, security_group};
use crate::sdk::Sdk;

/// The account of a group that a rule of [`Varieties::referencing_sg`] references.
pub const FOREIGN_ACCOUNT: &str = "999988887777";

/// What [`build_varied`] adds.
#[derive(Debug, Clone)]
pub struct Varieties {
    /// The first web instance, protected from termination (the load balancer is
    /// protected from deletion too).
    pub protected_instance: String,
    /// An interface described as the load balancer's, as AWS makes them.
    pub lb_interface: String,
    /// `neighbour-db`, kept: admits the web app's group and a group of
    /// [`FOREIGN_ACCOUNT`] on 5432.
    pub referencing_sg: String,
    /// The group referenced as the other account's (moto only accepts groups it
    /// knows, so it is made here, as a peered VPC's group would be).
    pub foreign_sg: String,
    /// `neighbour-ops`, with the path `/service/` and nothing attached.
    pub service_role: String,
    /// The IAM user and group the web policy is also attached to.
    pub user: String,
    pub group: String,
}

/// The two stacks of [`build`], plus: deletion protection on the load balancer and
/// termination protection on the first web instance, an interface of the load
/// balancer, a kept group referencing the web app's group and another account's, a
/// second (default) version [`POLICY_V2`] of the web policy, which is also attached
/// to a user and a group, the AWS managed `ReadOnlyAccess` on the web role, and a
/// service role.
pub async fn build_varied(sdk: &Sdk) -> (Stacks, Varieties) {
    let stacks = build(sdk).await;
    let (web, alb) = (&stacks.web, &stacks.alb);

    sdk.elbv2
        .modify_load_balancer_attributes()
        .load_balancer_arn(&alb.arn)
        .attributes(
            LoadBalancerAttribute::builder()
                .key("deletion_protection.enabled")
                .value("true")
                .build(),
        )
        .send()
        .await
        .expect("deletion protection");
    let protected_instance = web.instances[0].clone();
    sdk.ec2
        .modify_instance_attribute()
        .instance_id(&protected_instance)
        .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .expect("termination protection");

    // moto creates no load balancer interfaces: make one the way AWS describes them.
    let lb_suffix = alb
        .arn
        .split_once(":loadbalancer/")
        .map(|(_, s)| s.to_string())
        .expect("lb arn suffix");
    let lb_interface = sdk
        .ec2
        .create_network_interface()
        .subnet_id(&stacks.subnets[1])
        .description(format!("ELB {lb_suffix}"))
        .groups(&alb.security_group)
        .send()
        .await
        .expect("eni")
        .network_interface
        .and_then(|n| n.network_interface_id)
        .expect("eni id");

    let referencing_sg = security_group(sdk, &stacks.vpc, "neighbour-db", "neighbour").await;
    let foreign_sg = security_group(sdk, &stacks.vpc, "peer-account", "peer").await;
    ingress(sdk, &referencing_sg, 5432, Source::Group(&web.app_sg)).await;
    ingress(
        sdk,
        &referencing_sg,
        5432,
        Source::ForeignGroup(&foreign_sg, FOREIGN_ACCOUNT),
    )
    .await;

    sdk.iam
        .create_policy_version()
        .policy_arn(&web.policy_arn)
        .policy_document(POLICY_V2)
        .set_as_default(true)
        .send()
        .await
        .expect("policy v2");
    sdk.iam
        .attach_role_policy()
        .role_name(&web.role)
        .policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess")
        .send()
        .await
        .expect("attach aws managed");
    let (user, group) = ("deployer".to_string(), "operators".to_string());
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
        .policy_arn(&web.policy_arn)
        .send()
        .await
        .expect("attach user");
    sdk.iam
        .attach_group_policy()
        .group_name(&group)
        .policy_arn(&web.policy_arn)
        .send()
        .await
        .expect("attach group");
    let service_role = "neighbour-ops".to_string();
    sdk.iam
        .create_role()
        .role_name(&service_role)
        .path("/service/")
        .assume_role_policy_document(TRUST_EC2)
        .send()
        .await
        .expect("service role");

    let varieties = Varieties {
        protected_instance,
        lb_interface,
        referencing_sg,
        foreign_sg,
        service_role,
        user,
        group,
    };
    (stacks, varieties)
}
