//! EC2 at the edge: security groups (with their rules), network interfaces and
//! instances, from SDK shapes into decom's model; the EC2 calls that delete them and
//! prepare their deletion; their archive descriptions. Launch templates and EBS are
//! in their own modules, reached from here.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, Instance as SdkInstance, InstanceAttributeName,
    InstanceStateName, Tag,
};
use decom_provider::{
    Action, Details, EniAttachment, ErrorKind, GroupReference, Instance, InstanceState,
    NetworkInterface, Operation, ProviderError, Resource, ResourceKey, ResourceType, RuleDirection,
    SecurityGroup, SecurityGroupRule,
};

use crate::calls::{api_error, both, bounded};
use crate::discover::{Denials, Found, Known};
use crate::text::{arn_name, name_tag, tag_map, timestamp};

/// A filter on `name` (`group-id`, `instance-id`, …) to the ids of `only`, if given.
/// A filter, not the calls' id lists: an id AWS no longer knows is then absent from
/// the answer instead of failing the whole call (`InvalidGroup.NotFound`, …), which a
/// batch of resources being deleted must expect.
fn id_filter(name: &str, only: Option<&[String]>) -> Option<Vec<Filter>> {
    only.map(|ids| {
        vec![
            Filter::builder()
                .name(name)
                .set_values(Some(ids.to_vec()))
                .build(),
        ]
    })
}

/// DescribeInstanceAttribute calls in flight per region.
const ATTRIBUTE_CONCURRENCY: usize = 8;

fn tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tag_map(tags.iter().map(|t| (t.key(), t.value())))
}

pub(crate) async fn discover(
    client: &Client,
    region: &str,
    account_id: &str,
    types: &BTreeSet<ResourceType>,
    denials: &Denials,
    facts: bool,
) -> Result<Found, ProviderError> {
    let mut found = Found::default();
    if types.contains(&ResourceType::SecurityGroup) {
        let groups = security_groups(client, region, Some(account_id), None).await;
        found
            .resources
            .extend(denials.unless_denied(groups)?.unwrap_or_default());
    }
    if types.contains(&ResourceType::NetworkInterface) {
        let interfaces = network_interfaces(client, region, None).await;
        found
            .resources
            .extend(denials.unless_denied(interfaces)?.unwrap_or_default());
    }
    // Volume id -> DeleteOnTermination, as the instances' block devices say.
    let mut on_termination: BTreeMap<String, bool> = BTreeMap::new();
    if types.contains(&ResourceType::Instance) {
        let instances = async {
            let live = live_instances(client, region, None).await?;
            on_termination = delete_on_termination(&live);
            instance_resources(client, region, &live, &Known::new(), facts).await
        }
        .await;
        found
            .resources
            .extend(denials.unless_denied(instances)?.unwrap_or_default());
    }
    if types.contains(&ResourceType::LaunchTemplate) {
        let templates = crate::launch_templates::launch_templates(client, region, None).await;
        found
            .resources
            .extend(denials.unless_denied(templates)?.unwrap_or_default());
    }
    if types.contains(&ResourceType::EbsVolume) {
        let mut volumes = denials
            .unless_denied(crate::ebs::volumes(client, region, None).await)?
            .unwrap_or_default();
        crate::ebs::complete_attachments(&mut volumes, &on_termination);
        found.resources.extend(volumes);
    }
    if types.contains(&ResourceType::EbsSnapshot) {
        let snapshots = crate::ebs::snapshots(client, region, None).await;
        found
            .resources
            .extend(denials.unless_denied(snapshots)?.unwrap_or_default());
    }
    Ok(found)
}

/// Security groups with their rules; `only` restricts both calls to these groups. A
/// rule's referenced group is another account's when its owner is not `account_id`
/// (without it: not the owner of the rule's own group).
async fn security_groups(
    client: &Client,
    region: &str,
    account_id: Option<&str>,
    only: Option<&[String]>,
) -> Result<Vec<Resource>, ProviderError> {
    // Both at once: neither needs the other's answer, and when both are refused
    // the error names both permissions.
    let (groups, rules) = tokio::join!(
        async {
            client
                .describe_security_groups()
                .set_filters(id_filter("group-id", only))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| api_error("ec2:DescribeSecurityGroups", Some(region), e))
        },
        async {
            client
                .describe_security_group_rules()
                .set_filters(id_filter("group-id", only))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| api_error("ec2:DescribeSecurityGroupRules", Some(region), e))
        }
    );
    let (groups, rules) = both(groups, rules)?;

    let owners: BTreeMap<&str, &str> = groups
        .iter()
        .filter_map(|g| Some((g.group_id()?, g.owner_id()?)))
        .collect();
    let mut rules_by_group: BTreeMap<String, Vec<SecurityGroupRule>> = BTreeMap::new();
    for rule in rules {
        let account_id = account_id.or_else(|| owners.get(rule.group_id()?).copied());
        let referenced_group = rule.referenced_group_info().and_then(|g| {
            Some(GroupReference {
                group_id: g.group_id()?.to_string(),
                account_id: g
                    .user_id()
                    .filter(|owner| Some(*owner) != account_id)
                    .map(str::to_string),
            })
        });
        rules_by_group
            .entry(rule.group_id().unwrap_or_default().to_string())
            .or_default()
            .push(SecurityGroupRule {
                rule_id: rule
                    .security_group_rule_id()
                    .unwrap_or_default()
                    .to_string(),
                direction: if rule.is_egress().unwrap_or(false) {
                    RuleDirection::Egress
                } else {
                    RuleDirection::Ingress
                },
                protocol: rule.ip_protocol().unwrap_or("-1").to_string(),
                from_port: rule.from_port(),
                to_port: rule.to_port(),
                cidr_ipv4: rule.cidr_ipv4().map(str::to_string),
                cidr_ipv6: rule.cidr_ipv6().map(str::to_string),
                prefix_list_id: rule.prefix_list_id().map(str::to_string),
                referenced_group,
                description: rule.description().map(str::to_string),
            });
    }

    Ok(groups
        .into_iter()
        .map(|group| {
            let id = group.group_id().unwrap_or_default().to_string();
            let mut rules = rules_by_group.remove(&id).unwrap_or_default();
            rules.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
            Resource {
                name: group.group_name().unwrap_or_default().to_string(),
                region: region.to_string(),
                tags: tags(group.tags()),
                details: Details::SecurityGroup(SecurityGroup {
                    vpc_id: group.vpc_id().map(str::to_string),
                    description: group.description().unwrap_or_default().to_string(),
                    is_default: group.group_name() == Some("default"),
                    rules,
                }),
                id,
            }
        })
        .collect())
}

async fn network_interfaces(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
) -> Result<Vec<Resource>, ProviderError> {
    let interfaces = client
        .describe_network_interfaces()
        .set_filters(id_filter("network-interface-id", only))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ec2:DescribeNetworkInterfaces", Some(region), e))?;
    Ok(interfaces
        .into_iter()
        .map(|eni| {
            let tags = tags(eni.tag_set());
            Resource {
                id: eni.network_interface_id().unwrap_or_default().to_string(),
                name: name_tag(&tags),
                region: region.to_string(),
                tags,
                details: Details::NetworkInterface(NetworkInterface {
                    vpc_id: eni.vpc_id().map(str::to_string),
                    subnet_id: eni.subnet_id().map(str::to_string),
                    description: eni.description().unwrap_or_default().to_string(),
                    interface_type: eni
                        .interface_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    status: eni
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    requester_managed: eni.requester_managed().unwrap_or(false),
                    requester_id: eni.requester_id().map(str::to_string),
                    security_groups: eni
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_string))
                        .collect(),
                    attachment: eni.attachment().map(|a| EniAttachment {
                        instance_id: a.instance_id().map(str::to_string),
                        device_index: a.device_index(),
                        delete_on_termination: a.delete_on_termination().unwrap_or(false),
                    }),
                    // Filled in by discovery once the region's load balancers are known.
                    managed_by: None,
                }),
            }
        })
        .collect())
}

fn instance_state(name: Option<&InstanceStateName>) -> InstanceState {
    match name {
        Some(InstanceStateName::Pending) => InstanceState::Pending,
        Some(InstanceStateName::Stopping) => InstanceState::Stopping,
        Some(InstanceStateName::Stopped) => InstanceState::Stopped,
        Some(InstanceStateName::ShuttingDown) => InstanceState::ShuttingDown,
        Some(InstanceStateName::Terminated) => InstanceState::Terminated,
        _ => InstanceState::Running,
    }
}

/// Instances that are not terminated, as EC2 describes them.
async fn live_instances(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
) -> Result<Vec<SdkInstance>, ProviderError> {
    let reservations = client
        .describe_instances()
        .set_filters(id_filter("instance-id", only))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ec2:DescribeInstances", Some(region), e))?;
    Ok(reservations
        .into_iter()
        .flat_map(|r| r.instances.unwrap_or_default())
        .filter(|i| i.state().and_then(|s| s.name()) != Some(&InstanceStateName::Terminated))
        .collect())
}

/// The instances in decom's model; with `protection`, their termination protection
/// from `known` where it has them, else one DescribeInstanceAttribute each (without,
/// it is left unread: `false`).
async fn instance_resources(
    client: &Client,
    region: &str,
    live: &[SdkInstance],
    known: &Known<'_>,
    protection: bool,
) -> Result<Vec<Resource>, ProviderError> {
    let mut resources: Vec<Resource> = live
        .iter()
        .map(|i| {
            let tags = tags(i.tags());
            Resource {
                id: i.instance_id().unwrap_or_default().to_string(),
                name: name_tag(&tags),
                region: region.to_string(),
                tags,
                details: Details::Instance(Instance {
                    state: instance_state(i.state().and_then(|s| s.name())),
                    instance_type: i
                        .instance_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    vpc_id: i.vpc_id().map(str::to_string),
                    security_groups: i
                        .security_groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_string))
                        .collect(),
                    instance_profile: i
                        .iam_instance_profile()
                        .and_then(|p| p.arn())
                        .map(|arn| arn_name(arn).to_string()),
                    termination_protection: false,
                    launch_time: i.launch_time().map(timestamp),
                }),
            }
        })
        .collect();

    let known_protection = |id: &str| match known.get(id).map(|r| &r.details) {
        Some(Details::Instance(instance)) => Some(instance.termination_protection),
        _ => None,
    };
    let unknown: Vec<String> = resources
        .iter()
        .filter(|r| protection && known_protection(&r.id).is_none())
        .map(|r| r.id.clone())
        .collect();
    let fetched = bounded(unknown.clone(), ATTRIBUTE_CONCURRENCY, |id| {
        let client = client.clone();
        let region = region.to_string();
        async move { termination_protection(&client, &region, &id).await }
    })
    .await?;
    let fetched: BTreeMap<String, bool> = unknown.into_iter().zip(fetched).collect();
    for resource in &mut resources {
        let protected =
            known_protection(&resource.id).or_else(|| fetched.get(&resource.id).copied());
        if let Details::Instance(instance) = &mut resource.details {
            instance.termination_protection = protected.unwrap_or(false);
        }
    }
    Ok(resources)
}

/// `DeleteOnTermination` of each EBS volume attached to the instances.
fn delete_on_termination(instances: &[SdkInstance]) -> BTreeMap<String, bool> {
    instances
        .iter()
        .flat_map(|i| i.block_device_mappings())
        .filter_map(|b| {
            let ebs = b.ebs()?;
            Some((
                ebs.volume_id()?.to_string(),
                ebs.delete_on_termination().unwrap_or(false),
            ))
        })
        .collect()
}

/// The archive's view of an instance: the model and what a rebuild would need.
fn instance_json(model: Resource, instance: &SdkInstance) -> serde_json::Value {
    serde_json::json!({
        "model": model,
        "image_id": instance.image_id(),
        "subnet_id": instance.subnet_id(),
        "availability_zone": instance.placement().and_then(|p| p.availability_zone()),
        "private_ip": instance.private_ip_address(),
        "public_ip": instance.public_ip_address(),
        "key_name": instance.key_name(),
        "architecture": instance.architecture().map(|a| a.as_str()),
        "block_devices": instance.block_device_mappings().iter().map(|b| serde_json::json!({
            "device": b.device_name(),
            "volume_id": b.ebs().and_then(|e| e.volume_id()),
            "delete_on_termination": b.ebs().and_then(|e| e.delete_on_termination()),
        })).collect::<Vec<_>>(),
        "network_interfaces": instance
            .network_interfaces()
            .iter()
            .filter_map(|n| n.network_interface_id())
            .collect::<Vec<_>>(),
    })
}

pub(crate) async fn termination_protection(
    client: &Client,
    region: &str,
    instance_id: &str,
) -> Result<bool, ProviderError> {
    let out = client
        .describe_instance_attribute()
        .instance_id(instance_id)
        .attribute(InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .map_err(|e| api_error("ec2:DescribeInstanceAttribute", Some(region), e))?;
    Ok(out
        .disable_api_termination()
        .and_then(|v| v.value())
        .unwrap_or(false))
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    let region = Some(op.target.region.as_str());
    let id = op.target.id.as_str();
    match (&op.action, op.target.ty) {
        (Action::AwaitDeletion, _) => Ok(()),
        (Action::Delete, ResourceType::SecurityGroup) => client
            .delete_security_group()
            .group_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:DeleteSecurityGroup", region, e)),
        (Action::Delete, ResourceType::NetworkInterface) => client
            .delete_network_interface()
            .network_interface_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:DeleteNetworkInterface", region, e)),
        (Action::Delete, ResourceType::Instance) => client
            .terminate_instances()
            .instance_ids(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:TerminateInstances", region, e)),
        (Action::DisableTerminationProtection, ResourceType::Instance) => client
            .modify_instance_attribute()
            .instance_id(id)
            .disable_api_termination(AttributeBooleanValue::builder().value(false).build())
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:ModifyInstanceAttribute", region, e)),
        (Action::RevokeRule { rule_id }, ResourceType::SecurityGroup) => {
            revoke_rule(client, op.target.region.as_str(), id, rule_id).await
        }
        (_, ResourceType::EbsVolume | ResourceType::EbsSnapshot) => {
            crate::ebs::execute(client, op).await
        }
        (_, ResourceType::LaunchTemplate) => crate::launch_templates::execute(client, op).await,
        _ => Err(crate::unsupported(op)),
    }
}

/// Revokes one rule by id. The rule's direction decides the call, so it is looked up
/// first; a rule that is gone is reported as NotFound.
async fn revoke_rule(
    client: &Client,
    region: &str,
    group_id: &str,
    rule_id: &str,
) -> Result<(), ProviderError> {
    let rules = client
        .describe_security_group_rules()
        .filters(Filter::builder().name("group-id").values(group_id).build())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ec2:DescribeSecurityGroupRules", Some(region), e))?;
    let Some(rule) = rules
        .iter()
        .find(|r| r.security_group_rule_id() == Some(rule_id))
    else {
        return Err(ProviderError::new(
            "ec2:DescribeSecurityGroupRules",
            Some(region),
            "InvalidSecurityGroupRuleId.NotFound",
            format!("rule `{rule_id}` of `{group_id}` does not exist"),
        ));
    };
    if rule.is_egress().unwrap_or(false) {
        client
            .revoke_security_group_egress()
            .group_id(group_id)
            .security_group_rule_ids(rule_id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:RevokeSecurityGroupEgress", Some(region), e))
    } else {
        client
            .revoke_security_group_ingress()
            .group_id(group_id)
            .security_group_rule_ids(rule_id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:RevokeSecurityGroupIngress", Some(region), e))
    }
}

/// Whether each of `ids` is terminated (or unknown to AWS, long gone): the polls
/// of terminating instances, one DescribeInstances per 200 ids.
pub(crate) async fn instances_terminated(
    client: &Client,
    region: &str,
    ids: &[String],
) -> Result<Vec<bool>, ProviderError> {
    let mut live = BTreeSet::new();
    for chunk in ids.chunks(DESCRIBE_BATCH) {
        for instance in live_instances(client, region, Some(chunk)).await? {
            live.extend(instance.instance_id);
        }
    }
    Ok(ids.iter().map(|id| !live.contains(id)).collect())
}

/// Ids per call when describing several resources: EC2 takes up to 200 values in
/// a filter.
const DESCRIBE_BATCH: usize = 200;

/// Describes one resource for the archive; `None` if it is gone.
pub(crate) async fn describe(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<serde_json::Value>, ProviderError> {
    let only = std::slice::from_ref(&target.id);
    match describe_batch(client, &target.region, target.ty, only, &Known::new()).await {
        Ok(mut found) => Ok(found.pop().flatten()),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Describes resources of one type in one region, in the order of `ids` (`None`:
/// gone), with the calls of one describe per 200 resources (an instance's
/// termination protection takes a call of its own, unless `known` has it). Any
/// failure fails the batch; a gone resource named by id fails it with `NotFound`.
pub(crate) async fn describe_batch(
    client: &Client,
    region: &str,
    ty: ResourceType,
    ids: &[String],
    known: &Known<'_>,
) -> Result<Vec<Option<serde_json::Value>>, ProviderError> {
    let mut found = BTreeMap::new();
    for chunk in ids.chunks(DESCRIBE_BATCH) {
        // The groups' own owner is the account being described: it tells other
        // accounts' groups apart in the rules.
        let models = match ty {
            ResourceType::SecurityGroup => {
                security_groups(client, region, None, Some(chunk)).await?
            }
            ResourceType::NetworkInterface => {
                network_interfaces(client, region, Some(chunk)).await?
            }
            ResourceType::Instance => {
                let live = live_instances(client, region, Some(chunk)).await?;
                let models = instance_resources(client, region, &live, known, true).await?;
                for (model, instance) in models.into_iter().zip(&live) {
                    found.insert(model.id.clone(), instance_json(model, instance));
                }
                continue;
            }
            ResourceType::LaunchTemplate => {
                crate::launch_templates::launch_templates(client, region, Some(chunk)).await?
            }
            ResourceType::EbsVolume | ResourceType::EbsSnapshot => {
                crate::ebs::models(client, region, ty, chunk).await?
            }
            _ => {
                return Err(crate::unsupported_describe(&ResourceKey::new(
                    ty,
                    region,
                    chunk.first().map_or("", String::as_str),
                )));
            }
        };
        for model in models {
            found.insert(model.id.clone(), serde_json::json!({ "model": model }));
        }
    }
    Ok(ids.iter().map(|id| found.remove(id)).collect())
}
