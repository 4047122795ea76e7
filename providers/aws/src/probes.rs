//! `decom doctor`'s permission checks. Each read action decom calls is called once,
//! in each region for the regional ones, with the smallest page or with an id that
//! names nothing (AWS checks the permission before it looks the resource up, so
//! "not found" means allowed; EC2 calls go as dry runs). The actions `apply` changes
//! the account with are never called: IAM's policy simulator answers for them, where
//! the caller may use it. No call changes anything.

use std::fmt;

use aws_sdk_ec2::types::InstanceAttributeName;
use aws_sdk_iam::types::{EntityType, PolicyEvaluationDecisionType};
use decom_provider::{CallerIdentity, ErrorKind, ProviderError};
use futures_util::StreamExt;

use crate::AwsProvider;
use crate::calls::api_error;
use crate::permissions::{PERMISSIONS, Permission, SIMULATOR};

/// Probes in flight at once.
const PROBES_IN_FLIGHT: usize = 8;

/// The name the probes give the resources that do not exist.
const NOBODY: &str = "decom-doctor-probe";
/// A hosted zone id no account has: Route53 answers `NoSuchHostedZone` once the
/// permission is checked.
const NO_ZONE: &str = "Z00000000000000000000";

/// What a check found out about one permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused: the call's error, or `None` when the simulator said so.
    Denied(Option<ProviderError>),
    /// The call failed for another reason (an unreachable endpoint, a disabled
    /// region, throttling), so the permission could not be told.
    Unknown(ProviderError),
    /// Not checked, and why.
    NotChecked(String),
}

impl Verdict {
    fn of(answer: Result<(), ProviderError>) -> Verdict {
        match answer {
            Ok(()) => Verdict::Allowed,
            // The permission was granted; the resource does not exist, or the dry run
            // stopped short of doing anything.
            Err(e) if e.kind == ErrorKind::NotFound || e.code == "DryRunOperation" => {
                Verdict::Allowed
            }
            // ECS names a missing task definition with its generic client error,
            // after the permission was checked.
            Err(e) if e.operation.starts_with("ecs:") && e.code == "ClientException" => {
                Verdict::Allowed
            }
            Err(e) if e.kind == ErrorKind::AccessDenied => Verdict::Denied(Some(e)),
            Err(e) => Verdict::Unknown(e),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Allowed => f.write_str("allowed"),
            Verdict::Denied(Some(e)) => write!(f, "denied ({})", e.code),
            Verdict::Denied(None) => f.write_str("denied (simulated)"),
            Verdict::Unknown(e) => write!(f, "unknown ({})", e.code),
            Verdict::NotChecked(_) => f.write_str("not checked"),
        }
    }
}

/// One permission, checked in one region (`None`: a global action, or one the
/// simulator answered for every region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionCheck {
    pub permission: &'static Permission,
    pub region: Option<String>,
    pub verdict: Verdict,
}

impl AwsProvider {
    /// Checks every permission decom needs (docs/aws.md): the read actions by
    /// calling each once per region, the apply actions with the policy simulator.
    /// `identity` is the caller's, as `caller_identity` gave it. The checks come in
    /// the order of [`PERMISSIONS`], each action's regions in the order given.
    pub async fn check_permissions(
        &self,
        identity: &CallerIdentity,
        regions: &[String],
    ) -> Vec<PermissionCheck> {
        let ids = ProbeIds::new(identity);
        let mut probes = Vec::new();
        for permission in PERMISSIONS.iter().filter(|p| !p.need.changes_the_account()) {
            if permission.regional {
                for region in regions {
                    probes.push((permission, Some(region.clone())));
                }
            } else {
                probes.push((permission, None));
            }
        }
        let ids = &ids;
        let mut checks: Vec<PermissionCheck> = futures_util::stream::iter(probes)
            .map(|(permission, region)| async move {
                let answer = self.probe(permission.action, region.as_deref(), ids).await;
                PermissionCheck {
                    permission,
                    region,
                    verdict: Verdict::of(answer),
                }
            })
            .buffered(PROBES_IN_FLIGHT)
            .collect()
            .await;
        checks.extend(self.simulate_changes(identity, &ids.partition).await);
        checks
    }

    /// Calls `action` once, harmlessly.
    async fn probe(
        &self,
        action: &str,
        region: Option<&str>,
        ids: &ProbeIds,
    ) -> Result<(), ProviderError> {
        let r = region.unwrap_or_default();
        let iam = self.iam();
        let clients = || self.region_clients(r);
        macro_rules! call {
            ($request:expr) => {
                $request
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| api_error(action, region, e))
            };
        }
        let (lb, listener, group, policy, log_group) = (
            ids.arn(
                "elasticloadbalancing",
                r,
                "loadbalancer/app/decom-doctor-probe/0000000000000000",
            ),
            ids.arn(
                "elasticloadbalancing",
                r,
                "listener/app/decom-doctor-probe/0000000000000000/0000000000000000",
            ),
            ids.arn(
                "elasticloadbalancing",
                r,
                "targetgroup/decom-doctor-probe/0000000000000000",
            ),
            ids.arn("iam", "", &format!("policy/{NOBODY}")),
            format!("/decom/{NOBODY}"),
        );
        match action {
            // Answered already: the doctor's first call.
            "sts:GetCallerIdentity" => Ok(()),
            "ec2:DescribeSecurityGroups" => {
                call!(clients().ec2.describe_security_groups().dry_run(true))
            }
            "ec2:DescribeSecurityGroupRules" => {
                call!(clients().ec2.describe_security_group_rules().dry_run(true))
            }
            "ec2:DescribeNetworkInterfaces" => {
                call!(clients().ec2.describe_network_interfaces().dry_run(true))
            }
            "ec2:DescribeInstances" => call!(clients().ec2.describe_instances().dry_run(true)),
            "ec2:DescribeInstanceAttribute" => call!(
                clients()
                    .ec2
                    .describe_instance_attribute()
                    .instance_id("i-00000000000000000")
                    .attribute(InstanceAttributeName::DisableApiTermination)
                    .dry_run(true)
            ),
            "elasticloadbalancing:DescribeLoadBalancers" => {
                call!(clients().elbv2.describe_load_balancers().page_size(1))
            }
            "elasticloadbalancing:DescribeLoadBalancerAttributes" => call!(
                clients()
                    .elbv2
                    .describe_load_balancer_attributes()
                    .load_balancer_arn(lb)
            ),
            "elasticloadbalancing:DescribeListeners" => {
                call!(clients().elbv2.describe_listeners().load_balancer_arn(lb))
            }
            "elasticloadbalancing:DescribeRules" => {
                call!(clients().elbv2.describe_rules().listener_arn(listener))
            }
            "elasticloadbalancing:DescribeTargetGroups" => {
                call!(clients().elbv2.describe_target_groups().page_size(1))
            }
            "elasticloadbalancing:DescribeTargetGroupAttributes" => call!(
                clients()
                    .elbv2
                    .describe_target_group_attributes()
                    .target_group_arn(group)
            ),
            "elasticloadbalancing:DescribeTargetHealth" => call!(
                clients()
                    .elbv2
                    .describe_target_health()
                    .target_group_arn(group)
            ),
            "elasticloadbalancing:DescribeTags" => {
                call!(clients().elbv2.describe_tags().resource_arns(lb))
            }
            "iam:GetAccountAuthorizationDetails" => call!(
                iam.get_account_authorization_details()
                    .filter(EntityType::Role)
                    .max_items(1)
            ),
            "iam:ListInstanceProfiles" => call!(iam.list_instance_profiles().max_items(1)),
            "iam:ListPolicyTags" => call!(iam.list_policy_tags().policy_arn(policy)),
            "iam:ListRoles" => call!(iam.list_roles().max_items(1)),
            "iam:GetRole" => call!(iam.get_role().role_name(NOBODY)),
            "iam:ListRolePolicies" => call!(iam.list_role_policies().role_name(NOBODY)),
            "iam:GetRolePolicy" => {
                call!(iam.get_role_policy().role_name(NOBODY).policy_name(NOBODY))
            }
            "iam:ListAttachedRolePolicies" => {
                call!(iam.list_attached_role_policies().role_name(NOBODY))
            }
            "iam:ListInstanceProfilesForRole" => {
                call!(iam.list_instance_profiles_for_role().role_name(NOBODY))
            }
            "iam:GetPolicy" => call!(iam.get_policy().policy_arn(policy)),
            "iam:GetPolicyVersion" => {
                call!(iam.get_policy_version().policy_arn(policy).version_id("v1"))
            }
            "iam:ListPolicyVersions" => call!(iam.list_policy_versions().policy_arn(policy)),
            "iam:ListEntitiesForPolicy" => {
                call!(iam.list_entities_for_policy().policy_arn(policy))
            }
            "iam:GetInstanceProfile" => {
                call!(iam.get_instance_profile().instance_profile_name(NOBODY))
            }
            "ec2:DescribeLaunchTemplates" => {
                call!(clients().ec2.describe_launch_templates().dry_run(true))
            }
            "ec2:DescribeLaunchTemplateVersions" => call!(
                clients()
                    .ec2
                    .describe_launch_template_versions()
                    .versions("$Default")
                    .dry_run(true)
            ),
            "ec2:DescribeVolumes" => call!(clients().ec2.describe_volumes().dry_run(true)),
            "ec2:DescribeSnapshots" => call!(
                clients()
                    .ec2
                    .describe_snapshots()
                    .owner_ids("self")
                    .dry_run(true)
            ),
            "ec2:DescribeImages" => {
                call!(clients().ec2.describe_images().owners("self").dry_run(true))
            }
            "autoscaling:DescribeAutoScalingGroups" => call!(
                clients()
                    .autoscaling
                    .describe_auto_scaling_groups()
                    .max_records(1)
            ),
            "autoscaling:DescribeLaunchConfigurations" => call!(
                clients()
                    .autoscaling
                    .describe_launch_configurations()
                    .max_records(1)
            ),
            "route53:ListHostedZones" => call!(self.route53().list_hosted_zones().max_items(1)),
            "route53:ListResourceRecordSets" => call!(
                self.route53()
                    .list_resource_record_sets()
                    .hosted_zone_id(NO_ZONE)
                    .max_items(1)
            ),
            "route53:GetHostedZone" => call!(self.route53().get_hosted_zone().id(NO_ZONE)),
            "logs:DescribeLogGroups" => call!(clients().logs.describe_log_groups().limit(1)),
            "cloudwatch:DescribeAlarms" => {
                call!(clients().cloudwatch.describe_alarms().max_records(1))
            }
            "cloudwatch:ListTagsForResource" => call!(
                clients()
                    .cloudwatch
                    .list_tags_for_resource()
                    .resource_arn(ids.arn("cloudwatch", r, "alarm:decom-doctor-probe"))
            ),
            "ecr:DescribeRepositories" => {
                call!(clients().ecr.describe_repositories().max_results(1))
            }
            "ecr:DescribeImages" => call!(
                clients()
                    .ecr
                    .describe_images()
                    .repository_name("decom-doctor-probe")
                    .max_results(1)
            ),
            "ecr:ListTagsForResource" => {
                call!(clients().ecr.list_tags_for_resource().resource_arn(ids.arn(
                    "ecr",
                    r,
                    "repository/decom-doctor-probe"
                )))
            }
            "logs:ListTagsForResource" => call!(
                clients()
                    .logs
                    .list_tags_for_resource()
                    .resource_arn(ids.arn("logs", r, &format!("log-group:{log_group}")))
            ),
            "logs:DescribeMetricFilters" => {
                call!(clients().logs.describe_metric_filters().limit(1))
            }
            "logs:DescribeSubscriptionFilters" => call!(
                clients()
                    .logs
                    .describe_subscription_filters()
                    .log_group_name(&log_group)
            ),
            "logs:FilterLogEvents" => call!(
                clients()
                    .logs
                    .filter_log_events()
                    .log_group_name(&log_group)
                    .limit(1)
            ),
            "ecs:ListClusters" => call!(clients().ecs.list_clusters().max_results(1)),
            "ecs:DescribeClusters" => call!(clients().ecs.describe_clusters().clusters(NOBODY)),
            "ecs:ListServices" => call!(clients().ecs.list_services().cluster(NOBODY)),
            "ecs:DescribeServices" => call!(
                clients()
                    .ecs
                    .describe_services()
                    .cluster(NOBODY)
                    .services(NOBODY)
            ),
            "ecs:ListTasks" => call!(clients().ecs.list_tasks().cluster(NOBODY)),
            "ecs:DescribeTasks" => {
                call!(clients().ecs.describe_tasks().cluster(NOBODY).tasks(NOBODY))
            }
            "ecs:ListContainerInstances" => {
                call!(clients().ecs.list_container_instances().cluster(NOBODY))
            }
            "ecs:DescribeContainerInstances" => call!(
                clients()
                    .ecs
                    .describe_container_instances()
                    .cluster(NOBODY)
                    .container_instances(NOBODY)
            ),
            "ecs:ListTaskDefinitions" => {
                call!(clients().ecs.list_task_definitions().max_results(1))
            }
            "ecs:DescribeTaskDefinition" => call!(
                clients()
                    .ecs
                    .describe_task_definition()
                    .task_definition(format!("{NOBODY}:1"))
            ),
            _ => Err(ProviderError::new(
                action,
                region,
                "NoProbe",
                "decom has no harmless call for this action",
            )),
        }
    }

    /// The apply actions, answered by IAM's policy simulator for the caller's user
    /// or role; not checked when the simulator may not be used.
    async fn simulate_changes(
        &self,
        identity: &CallerIdentity,
        partition: &str,
    ) -> Vec<PermissionCheck> {
        let changes: Vec<&'static Permission> = PERMISSIONS
            .iter()
            .filter(|p| p.need.changes_the_account())
            .collect();
        let answered = |verdict: &dyn Fn(&Permission) -> Verdict| {
            changes
                .iter()
                .map(|&permission| PermissionCheck {
                    permission,
                    region: None,
                    verdict: verdict(permission),
                })
                .collect::<Vec<_>>()
        };
        let principal = match self.principal_arn(identity, partition).await {
            Ok(principal) => principal,
            Err(why) => return answered(&|_| Verdict::NotChecked(why.clone())),
        };
        let Some(principal) = principal else {
            return answered(&|_| Verdict::Allowed);
        };
        let pages = self
            .iam()
            .simulate_principal_policy()
            .policy_source_arn(&principal)
            .set_action_names(Some(changes.iter().map(|p| p.action.to_string()).collect()))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error(SIMULATOR, None, e));
        let pages = match pages {
            Ok(pages) => pages,
            Err(e) => {
                let why = if e.kind == ErrorKind::AccessDenied {
                    format!(
                        "checking them needs `{SIMULATOR}` (and `iam:GetRole` for a role), which the credentials lack"
                    )
                } else {
                    format!("the policy simulator failed: {e}")
                };
                return answered(&|_| Verdict::NotChecked(why.clone()));
            }
        };
        let decisions: Vec<(String, bool)> = pages
            .iter()
            .flat_map(|page| page.evaluation_results())
            .map(|r| {
                (
                    r.eval_action_name().to_string(),
                    *r.eval_decision() == PolicyEvaluationDecisionType::Allowed,
                )
            })
            .collect();
        answered(&|permission| match decisions
            .iter()
            .find(|(action, _)| action.eq_ignore_ascii_case(permission.action))
        {
            Some((_, true)) => Verdict::Allowed,
            Some((_, false)) => Verdict::Denied(None),
            None => Verdict::NotChecked("the policy simulator did not answer".to_string()),
        })
    }

    /// The ARN the simulator takes for the caller: a user's as STS gives it, a role's
    /// as IAM gives it (with its path, which the assumed-role ARN leaves out);
    /// `None` for the account's root user, who may do everything.
    async fn principal_arn(
        &self,
        identity: &CallerIdentity,
        partition: &str,
    ) -> Result<Option<String>, String> {
        let arn = &identity.arn;
        if arn.ends_with(":root") {
            return Ok(None);
        }
        if arn.contains(":user/") {
            return Ok(Some(arn.clone()));
        }
        let Some(role) = arn
            .split_once(":assumed-role/")
            .and_then(|(_, rest)| rest.split('/').next())
        else {
            return Err(format!(
                "the policy simulator takes IAM users and roles, and the caller is `{arn}`"
            ));
        };
        match self.iam().get_role().role_name(role).send().await {
            Ok(out) => Ok(out.role().map(|r| r.arn().to_string())),
            Err(_) => Ok(Some(format!(
                "arn:{partition}:iam::{}:role/{role}",
                identity.account_id
            ))),
        }
    }
}

/// Names for resources that do not exist, in the caller's account and partition.
struct ProbeIds {
    partition: String,
    account: String,
}

impl ProbeIds {
    fn new(identity: &CallerIdentity) -> ProbeIds {
        ProbeIds {
            partition: identity
                .arn
                .split(':')
                .nth(1)
                .filter(|p| !p.is_empty())
                .unwrap_or("aws")
                .to_string(),
            account: identity.account_id.clone(),
        }
    }

    fn arn(&self, service: &str, region: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{region}:{}:{resource}",
            self.partition, self.account
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_and_dry_runs_mean_allowed() {
        let e = |code: &str| ProviderError::new("x:Y", None, code, "m");
        assert_eq!(Verdict::of(Ok(())), Verdict::Allowed);
        assert_eq!(Verdict::of(Err(e("NoSuchEntity"))), Verdict::Allowed);
        assert_eq!(Verdict::of(Err(e("DryRunOperation"))), Verdict::Allowed);
        assert_eq!(
            Verdict::of(Err(e("AccessDenied"))),
            Verdict::Denied(Some(e("AccessDenied")))
        );
        assert_eq!(
            Verdict::of(Err(e("OptInRequired"))).to_string(),
            "unknown (OptInRequired)"
        );
    }

    #[test]
    fn every_read_action_has_a_probe_and_no_change_has_one() {
        // The probe's match lists every read action of the catalog by name.
        let source = include_str!("probes.rs");
        for p in PERMISSIONS {
            let arm = format!("\"{}\" =>", p.action);
            assert_eq!(
                source.contains(&arm),
                !p.need.changes_the_account(),
                "{}: a probe exactly for the read actions",
                p.action
            );
        }
    }

    #[test]
    fn probe_ids_are_in_the_callers_partition_and_account() {
        let ids = ProbeIds::new(&CallerIdentity {
            account_id: "123456789012".into(),
            arn: "arn:aws-cn:iam::123456789012:user/x".into(),
        });
        assert_eq!(
            ids.arn("logs", "cn-north-1", "log-group:/x"),
            "arn:aws-cn:logs:cn-north-1:123456789012:log-group:/x"
        );
    }
}
