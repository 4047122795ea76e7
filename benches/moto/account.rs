//! The synthetic account made real: every resource of a `decom_sim::synth` snapshot
//! created on an AWS-compatible endpoint through the SDK (same names, tags and
//! shape; the endpoint assigns the ids), and a census of what the account holds.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::types::{
    Filter, IamInstanceProfileSpecification, InstanceNetworkInterfaceSpecification, IpPermission,
    IpRange, ResourceType as Ec2ResourceType, Tag as Ec2Tag, TagSpecification, UserIdGroupPair,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action as ElbAction, ActionTypeEnum, Certificate, ForwardActionConfig, ProtocolEnum,
    RuleCondition, Tag as ElbTag, TargetDescription, TargetGroupTuple,
};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use decom_provider::{Details, Inventory, Resource, RuleDirection};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// SDK clients for one account and region of the endpoint.
#[derive(Clone)]
pub struct Sdk {
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl Sdk {
    pub async fn new(endpoint: &str, region: &str, key: &str, secret: &str) -> Sdk {
        let config: SdkConfig = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                key, secret, None, None, "bench",
            )))
            .load()
            .await;
        Sdk {
            ec2: aws_sdk_ec2::Client::new(&config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
        }
    }
}

/// Runs `f` on every item, at most `limit` at once; results in input order.
async fn each<T, R, F, Fut>(items: Vec<T>, limit: usize, f: F) -> Vec<R>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(T) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let mut tasks = JoinSet::new();
    let count = items.len();
    for (i, item) in items.into_iter().enumerate() {
        let future = f(item);
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("open semaphore");
            (i, future.await)
        });
    }
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (i, r) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        results[i] = Some(r);
    }
    results.into_iter().map(|r| r.expect("ran")).collect()
}

/// Synthetic id → the id the endpoint assigned, for the resources referred to by id.
#[derive(Debug, Default)]
pub struct Created {
    pub groups: BTreeMap<String, String>,
    pub policies: BTreeMap<String, String>,
    pub instances: BTreeMap<String, String>,
    pub target_groups: BTreeMap<String, String>,
    pub load_balancers: BTreeMap<String, String>,
    pub listeners: BTreeMap<String, String>,
    pub calls: usize,
}

fn of(inventory: &Inventory, pick: fn(&Resource) -> bool) -> Vec<&Resource> {
    inventory.resources.iter().filter(|r| pick(r)).collect()
}

fn ec2_tags(kind: Ec2ResourceType, resource: &Resource) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(kind);
    for (k, v) in &resource.tags {
        spec = spec.tags(Ec2Tag::builder().key(k).value(v).build());
    }
    spec.build()
}

fn elb_tags(resource: &Resource) -> Option<Vec<ElbTag>> {
    Some(
        resource
            .tags
            .iter()
            .map(|(k, v)| ElbTag::builder().key(k).value(v).build())
            .collect(),
    )
}

fn iam_tags(resource: &Resource) -> Option<Vec<aws_sdk_iam::types::Tag>> {
    Some(
        resource
            .tags
            .iter()
            .map(|(k, v)| {
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .expect("tag")
            })
            .collect(),
    )
}

fn forward(target_groups: &[String], created: &BTreeMap<String, String>) -> ElbAction {
    let arns: Vec<&String> = target_groups.iter().map(|tg| &created[tg]).collect();
    let action = ElbAction::builder().r#type(ActionTypeEnum::Forward);
    if let [single] = arns.as_slice() {
        return action.target_group_arn(single.as_str()).build();
    }
    let mut config = ForwardActionConfig::builder();
    for arn in arns {
        config = config.target_groups(TargetGroupTuple::builder().target_group_arn(arn).build());
    }
    action.forward_config(config.build()).build()
}

/// Creates every resource of `inventory` but its VPC's default security group and
/// the load balancers' network interfaces (moto makes none; instances get their
/// primary interface by being launched), in the endpoint's default VPC, with at most
/// `concurrency` calls in flight; HTTPS listeners get the ACM `certificate`. Panics
/// on any failure: a benchmark fixture.
pub async fn create(
    sdk: &Sdk,
    inventory: &Inventory,
    concurrency: usize,
    certificate: &str,
) -> Created {
    let mut created = Created::default();
    let vpc = sdk
        .ec2
        .describe_vpcs()
        .filters(Filter::builder().name("is-default").values("true").build())
        .send()
        .await
        .expect("describe vpcs")
        .vpcs()[0]
        .vpc_id()
        .expect("default vpc")
        .to_string();
    let mut subnets: Vec<(String, String)> = sdk
        .ec2
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .send()
        .await
        .expect("describe subnets")
        .subnets()
        .iter()
        .map(|s| {
            (
                s.availability_zone().unwrap_or_default().to_string(),
                s.subnet_id().expect("subnet id").to_string(),
            )
        })
        .collect();
    subnets.sort();
    let subnets: Vec<String> = subnets.into_iter().map(|(_, id)| id).take(2).collect();
    assert_eq!(subnets.len(), 2, "the default VPC has two subnets");
    created.calls += 2;

    // 1. Security groups, customer policies and log groups: they refer to nothing.
    let groups = of(
        inventory,
        |r| matches!(&r.details, Details::SecurityGroup(g) if !g.is_default),
    );
    let policies = of(inventory, |r| matches!(r.details, Details::IamPolicy(_)));
    let log_groups = of(inventory, |r| {
        matches!(r.details, Details::CloudwatchLogGroup(_))
    });
    let made_groups = each(
        groups.iter().map(|r| (*r).clone()).collect(),
        concurrency,
        |r: Resource| {
            let (sdk, vpc) = (sdk.clone(), vpc.clone());
            async move {
                let Details::SecurityGroup(g) = &r.details else {
                    unreachable!()
                };
                let id = sdk
                    .ec2
                    .create_security_group()
                    .group_name(&r.name)
                    .description(&g.description)
                    .vpc_id(&vpc)
                    .tag_specifications(ec2_tags(Ec2ResourceType::SecurityGroup, &r))
                    .send()
                    .await
                    .expect("create security group")
                    .group_id
                    .expect("group id");
                (r.id.clone(), id)
            }
        },
    );
    let made_policies = each(
        policies.iter().map(|r| (*r).clone()).collect(),
        concurrency,
        |r: Resource| {
            let sdk = sdk.clone();
            async move {
                let Details::IamPolicy(p) = &r.details else {
                    unreachable!()
                };
                let arn = sdk
                    .iam
                    .create_policy()
                    .policy_name(&r.name)
                    .path(&p.path)
                    .policy_document(p.document.as_ref().expect("document").to_string())
                    .set_tags(iam_tags(&r))
                    .send()
                    .await
                    .expect("create policy")
                    .policy
                    .and_then(|p| p.arn)
                    .expect("policy arn");
                (r.id.clone(), arn)
            }
        },
    );
    let made_logs = each(
        log_groups.iter().map(|r| (*r).clone()).collect(),
        concurrency,
        |r: Resource| {
            let sdk = sdk.clone();
            async move {
                let Details::CloudwatchLogGroup(g) = &r.details else {
                    unreachable!()
                };
                sdk.logs
                    .create_log_group()
                    .log_group_name(&r.name)
                    .set_tags(Some(r.tags.clone().into_iter().collect()))
                    .send()
                    .await
                    .expect("create log group");
                if let Some(days) = g.retention_days {
                    sdk.logs
                        .put_retention_policy()
                        .log_group_name(&r.name)
                        .retention_in_days(days)
                        .send()
                        .await
                        .expect("put retention policy");
                    return 2;
                }
                1
            }
        },
    );
    let (made_groups, made_policies, made_logs) =
        tokio::join!(made_groups, made_policies, made_logs);
    created.calls += made_groups.len() + made_policies.len() + made_logs.iter().sum::<usize>();
    created.groups = made_groups.into_iter().collect();
    created.policies = made_policies.into_iter().collect();

    // 2. Ingress rules (egress: the default all-traffic rule AWS adds) and roles.
    let mut rules = Vec::new();
    for r in &groups {
        let Details::SecurityGroup(g) = &r.details else {
            unreachable!()
        };
        for rule in g
            .rules
            .iter()
            .filter(|rule| rule.direction == RuleDirection::Ingress)
        {
            let mut permission = IpPermission::builder()
                .ip_protocol(&rule.protocol)
                .set_from_port(rule.from_port)
                .set_to_port(rule.to_port);
            if let Some(cidr) = &rule.cidr_ipv4 {
                permission = permission.ip_ranges(
                    IpRange::builder()
                        .cidr_ip(cidr)
                        .set_description(rule.description.clone())
                        .build(),
                );
            }
            if let Some(reference) = &rule.referenced_group {
                permission = permission.user_id_group_pairs(
                    UserIdGroupPair::builder()
                        .group_id(&created.groups[&reference.group_id])
                        .set_description(rule.description.clone())
                        .build(),
                );
            }
            rules.push((created.groups[&r.id].clone(), permission.build()));
        }
    }
    let roles: Vec<Resource> = of(inventory, |r| matches!(r.details, Details::IamRole(_)))
        .into_iter()
        .cloned()
        .collect();
    let rule_calls = each(rules, concurrency, |(group, permission)| {
        let sdk = sdk.clone();
        async move {
            sdk.ec2
                .authorize_security_group_ingress()
                .group_id(group)
                .ip_permissions(permission)
                .send()
                .await
                .expect("authorize ingress");
            1
        }
    });
    let policy_arns = Arc::new(created.policies.clone());
    let role_calls = each(roles, concurrency, |r: Resource| {
        let (sdk, policy_arns) = (sdk.clone(), policy_arns.clone());
        async move {
            let Details::IamRole(role) = &r.details else {
                unreachable!()
            };
            sdk.iam
                .create_role()
                .role_name(&r.name)
                .path(&role.path)
                .assume_role_policy_document(
                    role.trust_policy
                        .as_ref()
                        .expect("trust policy")
                        .to_string(),
                )
                .set_tags(iam_tags(&r))
                .send()
                .await
                .expect("create role");
            for arn in &role.attached_policies {
                // A customer policy of the snapshot, or an AWS managed one as is.
                let arn = policy_arns.get(arn).unwrap_or(arn);
                sdk.iam
                    .attach_role_policy()
                    .role_name(&r.name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .expect("attach role policy");
            }
            for inline in &role.inline_policies {
                sdk.iam
                    .put_role_policy()
                    .role_name(&r.name)
                    .policy_name(&inline.name)
                    .policy_document(inline.document.as_ref().expect("document").to_string())
                    .send()
                    .await
                    .expect("put role policy");
            }
            1 + role.attached_policies.len() + role.inline_policies.len()
        }
    });
    let (rule_calls, role_calls) = tokio::join!(rule_calls, role_calls);
    created.calls += rule_calls.iter().sum::<usize>() + role_calls.iter().sum::<usize>();

    // 3. Instance profiles holding their roles.
    let profiles: Vec<Resource> = of(inventory, |r| {
        matches!(r.details, Details::IamInstanceProfile(_))
    })
    .into_iter()
    .cloned()
    .collect();
    let profile_calls = each(profiles, concurrency, |r: Resource| {
        let sdk = sdk.clone();
        async move {
            let Details::IamInstanceProfile(p) = &r.details else {
                unreachable!()
            };
            sdk.iam
                .create_instance_profile()
                .instance_profile_name(&r.name)
                .path(&p.path)
                .set_tags(iam_tags(&r))
                .send()
                .await
                .expect("create instance profile");
            for role in &p.roles {
                sdk.iam
                    .add_role_to_instance_profile()
                    .instance_profile_name(&r.name)
                    .role_name(role)
                    .send()
                    .await
                    .expect("add role to instance profile");
            }
            1 + p.roles.len()
        }
    })
    .await;
    created.calls += profile_calls.iter().sum::<usize>();

    // 4. Instances (one RunInstances each: moto gives a profile to the first instance
    // of a batch only), target groups, load balancers.
    let groups_map = Arc::new(created.groups.clone());
    let instances: Vec<Resource> = of(inventory, |r| matches!(r.details, Details::Instance(_)))
        .into_iter()
        .cloned()
        .collect();
    let made_instances = each(instances, concurrency, |r: Resource| {
        let (sdk, groups, subnet) = (sdk.clone(), groups_map.clone(), subnets[0].clone());
        async move {
            let Details::Instance(i) = &r.details else {
                unreachable!()
            };
            // As AWS does for an instance launched into a subnet, the primary
            // interface goes with the instance (moto's default keeps it).
            let mut interface = InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .subnet_id(subnet)
                .delete_on_termination(true);
            for group in &i.security_groups {
                interface = interface.groups(&groups[group]);
            }
            let out = sdk
                .ec2
                .run_instances()
                .image_id("ami-12c6146b")
                .instance_type(i.instance_type.as_str().into())
                .min_count(1)
                .max_count(1)
                .network_interfaces(interface.build())
                .set_iam_instance_profile(i.instance_profile.as_ref().map(|name| {
                    IamInstanceProfileSpecification::builder()
                        .name(name)
                        .build()
                }))
                .tag_specifications(ec2_tags(Ec2ResourceType::Instance, &r))
                .send()
                .await
                .expect("run instances");
            let id = out.instances()[0].instance_id().expect("id").to_string();
            (r.id.clone(), id)
        }
    });
    let target_groups: Vec<Resource> = of(inventory, |r| {
        matches!(r.details, Details::LbTargetGroup(_))
    })
    .into_iter()
    .cloned()
    .collect();
    let made_tgs = each(target_groups.clone(), concurrency, |r: Resource| {
        let (sdk, vpc) = (sdk.clone(), vpc.clone());
        async move {
            let Details::LbTargetGroup(tg) = &r.details else {
                unreachable!()
            };
            let arn = sdk
                .elbv2
                .create_target_group()
                .name(&r.name)
                .set_protocol(tg.protocol.as_deref().map(ProtocolEnum::from))
                .set_port(tg.port)
                .vpc_id(&vpc)
                .set_tags(elb_tags(&r))
                .send()
                .await
                .expect("create target group")
                .target_groups()[0]
                .target_group_arn()
                .expect("arn")
                .to_string();
            (r.id.clone(), arn)
        }
    });
    let lbs: Vec<Resource> = of(inventory, |r| matches!(r.details, Details::Lb(_)))
        .into_iter()
        .cloned()
        .collect();
    let made_lbs = each(lbs, concurrency, |r: Resource| {
        let (sdk, groups, subnets) = (sdk.clone(), groups_map.clone(), subnets.clone());
        async move {
            let Details::Lb(lb) = &r.details else {
                unreachable!()
            };
            let arn = sdk
                .elbv2
                .create_load_balancer()
                .name(&r.name)
                .set_subnets(Some(subnets))
                .set_security_groups(Some(
                    lb.security_groups
                        .iter()
                        .map(|g| groups[g].clone())
                        .collect(),
                ))
                .r#type(lb.lb_type.as_str().into())
                .set_tags(elb_tags(&r))
                .send()
                .await
                .expect("create load balancer")
                .load_balancers()[0]
                .load_balancer_arn()
                .expect("arn")
                .to_string();
            (r.id.clone(), arn)
        }
    });
    let (made_instances, made_tgs, made_lbs) = tokio::join!(made_instances, made_tgs, made_lbs);
    created.calls += made_instances.len() + made_tgs.len() + made_lbs.len();
    created.instances = made_instances.into_iter().collect();
    created.target_groups = made_tgs.into_iter().collect();
    created.load_balancers = made_lbs.into_iter().collect();

    // 5. Targets registered, listeners.
    let instance_ids = Arc::new(created.instances.clone());
    let tg_arns = Arc::new(created.target_groups.clone());
    let registrations = each(target_groups, concurrency, |r: Resource| {
        let (sdk, instances, tgs) = (sdk.clone(), instance_ids.clone(), tg_arns.clone());
        async move {
            let Details::LbTargetGroup(tg) = &r.details else {
                unreachable!()
            };
            if tg.targets.is_empty() {
                return 0;
            }
            sdk.elbv2
                .register_targets()
                .target_group_arn(&tgs[&r.id])
                .set_targets(Some(
                    tg.targets
                        .iter()
                        .map(|t| {
                            TargetDescription::builder()
                                .id(&instances[&t.id])
                                .set_port(t.port)
                                .build()
                        })
                        .collect(),
                ))
                .send()
                .await
                .expect("register targets");
            1
        }
    });
    let listeners: Vec<Resource> = of(inventory, |r| matches!(r.details, Details::LbListener(_)))
        .into_iter()
        .cloned()
        .collect();
    let lb_arns = Arc::new(created.load_balancers.clone());
    let made_listeners = each(listeners, concurrency, |r: Resource| {
        let (sdk, lbs, tgs) = (sdk.clone(), lb_arns.clone(), tg_arns.clone());
        let certificate = certificate.to_string();
        async move {
            let Details::LbListener(l) = &r.details else {
                unreachable!()
            };
            let arn = sdk
                .elbv2
                .create_listener()
                .load_balancer_arn(&lbs[&l.load_balancer])
                .protocol(l.protocol.as_str().into())
                .set_port(l.port)
                .set_certificates(
                    (l.protocol == "HTTPS")
                        .then(|| vec![Certificate::builder().certificate_arn(certificate).build()]),
                )
                .default_actions(forward(&l.forward_target_groups, &tgs))
                .send()
                .await
                .expect("create listener")
                .listeners()[0]
                .listener_arn()
                .expect("arn")
                .to_string();
            (r.id.clone(), arn)
        }
    });
    let (registrations, made_listeners) = tokio::join!(registrations, made_listeners);
    created.calls += registrations.iter().sum::<usize>() + made_listeners.len();
    created.listeners = made_listeners.into_iter().collect();

    // 6. Listener rules.
    let rules: Vec<Resource> = of(inventory, |r| {
        matches!(r.details, Details::LbListenerRule(_))
    })
    .into_iter()
    .cloned()
    .collect();
    let listener_arns = Arc::new(created.listeners.clone());
    let made_rules = each(rules, concurrency, |r: Resource| {
        let (sdk, listeners, tgs) = (sdk.clone(), listener_arns.clone(), tg_arns.clone());
        async move {
            let Details::LbListenerRule(rule) = &r.details else {
                unreachable!()
            };
            let mut request = sdk
                .elbv2
                .create_rule()
                .listener_arn(&listeners[&rule.listener])
                .priority(rule.priority.parse().expect("numeric priority"))
                .actions(forward(&rule.forward_target_groups, &tgs));
            for condition in &rule.conditions {
                // `path-pattern=/api/*,/v2/*`, as decom summarizes a condition.
                let (field, values) = condition.split_once('=').expect("field=values");
                request = request.conditions(
                    RuleCondition::builder()
                        .field(field)
                        .set_values(Some(values.split(',').map(str::to_string).collect()))
                        .build(),
                );
            }
            request.send().await.expect("create rule");
        }
    })
    .await;
    created.calls += made_rules.len();
    created
}

/// A resource as the census names it: its Terraform type and the endpoint's id.
pub type Key = (&'static str, String);

/// Every resource of the types decom models in the account's region, read through
/// the SDK with every page: terminated instances and default security groups do not
/// count (decom never plans them).
pub async fn census(sdk: &Sdk) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    let groups: Vec<_> = sdk
        .ec2
        .describe_security_groups()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("describe security groups");
    for g in groups {
        if g.group_name() != Some("default") {
            keys.insert(("aws_security_group", g.group_id().expect("id").to_string()));
        }
    }
    let reservations: Vec<_> = sdk
        .ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .values("shutting-down")
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("describe instances");
    for i in reservations.iter().flat_map(|r| r.instances()) {
        keys.insert(("aws_instance", i.instance_id().expect("id").to_string()));
    }
    let interfaces: Vec<_> = sdk
        .ec2
        .describe_network_interfaces()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("describe network interfaces");
    for eni in interfaces {
        keys.insert((
            "aws_network_interface",
            eni.network_interface_id().expect("id").to_string(),
        ));
    }
    let lbs: Vec<_> = sdk
        .elbv2
        .describe_load_balancers()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("describe load balancers");
    for lb in lbs {
        let arn = lb.load_balancer_arn().expect("arn").to_string();
        let listeners: Vec<_> = sdk
            .elbv2
            .describe_listeners()
            .load_balancer_arn(&arn)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .expect("describe listeners");
        for listener in listeners {
            let listener_arn = listener.listener_arn().expect("arn").to_string();
            let rules: Vec<_> = sdk
                .elbv2
                .describe_rules()
                .listener_arn(&listener_arn)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .expect("describe rules");
            for rule in rules {
                if rule.is_default() != Some(true) {
                    keys.insert((
                        "aws_lb_listener_rule",
                        rule.rule_arn().expect("arn").to_string(),
                    ));
                }
            }
            keys.insert(("aws_lb_listener", listener_arn));
        }
        keys.insert(("aws_lb", arn));
    }
    let tgs: Vec<_> = sdk
        .elbv2
        .describe_target_groups()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("describe target groups");
    for tg in tgs {
        keys.insert((
            "aws_lb_target_group",
            tg.target_group_arn().expect("arn").to_string(),
        ));
    }
    let roles: Vec<_> = sdk
        .iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("list roles");
    for role in roles {
        keys.insert(("aws_iam_role", role.role_name().to_string()));
    }
    let policies: Vec<_> = sdk
        .iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("list policies");
    for policy in policies {
        keys.insert(("aws_iam_policy", policy.arn().expect("arn").to_string()));
    }
    let profiles: Vec<_> = sdk
        .iam
        .list_instance_profiles()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("list instance profiles");
    for profile in profiles {
        keys.insert((
            "aws_iam_instance_profile",
            profile.instance_profile_name().to_string(),
        ));
    }
    let log_groups: Vec<_> = sdk
        .logs
        .describe_log_groups()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .expect("describe log groups");
    for group in log_groups {
        keys.insert((
            "aws_cloudwatch_log_group",
            group.log_group_name().expect("name").to_string(),
        ));
    }
    keys
}

/// What "kept intact" means for the shared resources beyond existing: the
/// monitoring group's ingress rules and the execution role's attached policies.
pub async fn shared_details(sdk: &Sdk) -> Vec<String> {
    let mut details = Vec::new();
    let groups = sdk
        .ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values("shared-monitoring-sg")
                .build(),
        )
        .send()
        .await
        .expect("describe the monitoring group");
    for group in groups.security_groups() {
        for permission in group.ip_permissions() {
            for range in permission.ip_ranges() {
                details.push(format!(
                    "monitoring ingress {:?} from {:?}",
                    permission.from_port(),
                    range.cidr_ip()
                ));
            }
        }
    }
    let attached = sdk
        .iam
        .list_attached_role_policies()
        .role_name("shared-ecs-execution-role")
        .send()
        .await
        .expect("list the execution role's policies");
    for policy in attached.attached_policies() {
        details.push(format!("execution role attached {:?}", policy.policy_arn()));
    }
    details.sort();
    details
}
