//! ELBv2 at the edge: load balancers (with their deletion protection), listeners,
//! listener rules and target groups (with target health and tags), from SDK shapes
//! into decom's model; the ELBv2 calls that delete them; their archive descriptions
//! (`archive`).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    Action as ElbAction, ActionTypeEnum, Listener as SdkListener, LoadBalancer as SdkLb,
    LoadBalancerAttribute, Rule, RuleCondition, TargetGroup as SdkTargetGroup,
};
use decom_provider::{
    Action, Details, Listener, ListenerRule, LoadBalancer, Operation, ProviderError, Resource,
    ResourceType, Target, TargetGroup,
};

use crate::calls::{api_error, bounded};
use crate::discover::{Denials, Found, Known};
use crate::text::{tag_map, timestamp};

mod archive;
mod facts;

pub(crate) use archive::{describe, describe_batch};
pub(crate) use facts::read_facts;

/// Per-resource ELBv2 calls in flight per region.
const CONCURRENCY: usize = 8;
/// DescribeTags takes at most 20 ARNs.
const TAGS_PER_CALL: usize = 20;

pub(crate) async fn discover(
    client: &Client,
    region: &str,
    types: &BTreeSet<ResourceType>,
    denials: &Denials,
    facts: bool,
) -> Result<Found, ProviderError> {
    let wants = |ty| types.contains(&ty);
    let mut found = Found::default();
    let lbs = denials
        .unless_denied(load_balancers(client, region, None).await)?
        .unwrap_or_default();
    found.lb_arns = lbs
        .iter()
        .filter_map(|lb| lb.load_balancer_arn().map(str::to_string))
        .collect();
    if !facts {
        // The listings: balancers and target groups as listed; their attributes,
        // listeners, rules, target health and tags are facts read later (`facts`).
        if wants(ResourceType::Lb) {
            found
                .resources
                .extend(lbs.iter().map(|lb| lb_resource(region, lb, &[])));
        }
        if wants(ResourceType::LbTargetGroup) {
            let groups = target_groups(client, region, None, &Known::new(), false).await;
            found
                .resources
                .extend(denials.unless_denied(groups)?.unwrap_or_default());
        }
        return Ok(found);
    }

    let mut resources = Vec::new();
    if wants(ResourceType::Lb) {
        let protections = bounded(found.lb_arns.clone(), CONCURRENCY, |arn| {
            let (client, region) = (client.clone(), region.to_string());
            async move { lb_attributes(&client, &region, &arn).await }
        })
        .await;
        if let Some(protections) = denials.unless_denied(protections)? {
            for (lb, attributes) in lbs.iter().zip(protections) {
                resources.push(lb_resource(region, lb, &attributes));
            }
        }
    }
    if wants(ResourceType::LbListener) || wants(ResourceType::LbListenerRule) {
        let listeners = bounded(found.lb_arns.clone(), CONCURRENCY, |arn| {
            let (client, region) = (client.clone(), region.to_string());
            async move { listeners(&client, &region, Some(&arn), None).await }
        })
        .await;
        let listeners: Vec<SdkListener> = denials
            .unless_denied(listeners)?
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect();
        if wants(ResourceType::LbListenerRule) {
            let arns: Vec<String> = listeners
                .iter()
                .filter_map(|l| l.listener_arn().map(str::to_string))
                .collect();
            let rules = bounded(arns, CONCURRENCY, |arn| {
                let (client, region) = (client.clone(), region.to_string());
                async move {
                    let rules = rules(&client, &region, Some(&arn), None).await?;
                    Ok((arn, rules))
                }
            })
            .await;
            for (listener_arn, rules) in denials.unless_denied(rules)?.unwrap_or_default() {
                resources.extend(
                    rules
                        .iter()
                        .filter(|r| !r.is_default().unwrap_or(false))
                        .map(|r| rule_resource(region, &listener_arn, r)),
                );
            }
        }
        if wants(ResourceType::LbListener) {
            resources.extend(listeners.iter().map(|l| listener_resource(region, l)));
        }
    }
    if wants(ResourceType::LbTargetGroup) {
        let groups = target_groups(client, region, None, &Known::new(), true).await;
        resources.extend(denials.unless_denied(groups)?.unwrap_or_default());
    }

    let arns: Vec<String> = resources.iter().map(|r| r.id.clone()).collect();
    if let Some(tags) = denials.unless_denied(tags(client, region, arns).await)? {
        for resource in &mut resources {
            if let Some(tags) = tags.get(&resource.id) {
                resource.tags = tags.clone();
            }
        }
    }
    found.resources = resources;
    Ok(found)
}

async fn load_balancers(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
) -> Result<Vec<SdkLb>, ProviderError> {
    client
        .describe_load_balancers()
        .set_load_balancer_arns(only.map(<[String]>::to_vec))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            api_error(
                "elasticloadbalancing:DescribeLoadBalancers",
                Some(region),
                e,
            )
        })
}

async fn lb_attributes(
    client: &Client,
    region: &str,
    arn: &str,
) -> Result<Vec<LoadBalancerAttribute>, ProviderError> {
    let out = client
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
        .map_err(|e| {
            api_error(
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                Some(region),
                e,
            )
        })?;
    Ok(out.attributes().to_vec())
}

fn lb_resource(region: &str, lb: &SdkLb, attributes: &[LoadBalancerAttribute]) -> Resource {
    let deletion_protection = attributes
        .iter()
        .any(|a| a.key() == Some("deletion_protection.enabled") && a.value() == Some("true"));
    Resource {
        id: lb.load_balancer_arn().unwrap_or_default().to_string(),
        name: lb.load_balancer_name().unwrap_or_default().to_string(),
        region: region.to_string(),
        tags: BTreeMap::new(),
        details: Details::Lb(LoadBalancer {
            lb_type: lb
                .r#type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            scheme: lb
                .scheme()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            dns_name: lb.dns_name().unwrap_or_default().to_string(),
            vpc_id: lb.vpc_id().map(str::to_string),
            security_groups: lb.security_groups().to_vec(),
            deletion_protection,
            state: lb
                .state()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            created: lb.created_time().map(timestamp),
        }),
    }
}

async fn listeners(
    client: &Client,
    region: &str,
    lb_arn: Option<&str>,
    only: Option<&[String]>,
) -> Result<Vec<SdkListener>, ProviderError> {
    client
        .describe_listeners()
        .set_load_balancer_arn(lb_arn.map(str::to_string))
        .set_listener_arns(only.map(<[String]>::to_vec))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("elasticloadbalancing:DescribeListeners", Some(region), e))
}

async fn rules(
    client: &Client,
    region: &str,
    listener_arn: Option<&str>,
    only: Option<&[String]>,
) -> Result<Vec<Rule>, ProviderError> {
    client
        .describe_rules()
        .set_listener_arn(listener_arn.map(str::to_string))
        .set_rule_arns(only.map(<[String]>::to_vec))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("elasticloadbalancing:DescribeRules", Some(region), e))
}

/// Target groups an action forwards to: the single `TargetGroupArn` and every group
/// of a weighted `ForwardConfig`, once each.
fn forward_target_groups(actions: &[ElbAction]) -> Vec<String> {
    let mut groups = Vec::new();
    for action in actions {
        if action.r#type() != Some(&ActionTypeEnum::Forward) {
            continue;
        }
        let single = action.target_group_arn().into_iter();
        let weighted = action
            .forward_config()
            .map(|f| f.target_groups())
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.target_group_arn());
        for arn in single.chain(weighted) {
            if !groups.iter().any(|g| g == arn) {
                groups.push(arn.to_string());
            }
        }
    }
    groups
}

fn listener_resource(region: &str, listener: &SdkListener) -> Resource {
    let protocol = listener
        .protocol()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    Resource {
        id: listener.listener_arn().unwrap_or_default().to_string(),
        name: match listener.port() {
            Some(port) => format!("{protocol}:{port}"),
            None => protocol.clone(),
        },
        region: region.to_string(),
        tags: BTreeMap::new(),
        details: Details::LbListener(Listener {
            load_balancer: listener.load_balancer_arn().unwrap_or_default().to_string(),
            port: listener.port(),
            protocol,
            forward_target_groups: forward_target_groups(listener.default_actions()),
        }),
    }
}

/// `path-pattern=/api/*,/v2/*`, `http-header:X-Env=blue`, `query-string=a=1`.
fn condition_summary(condition: &RuleCondition) -> String {
    let field = condition.field().unwrap_or_default();
    let values: Vec<String> = if let Some(c) = condition.path_pattern_config() {
        c.values().to_vec()
    } else if let Some(c) = condition.host_header_config() {
        c.values().to_vec()
    } else if let Some(c) = condition.http_request_method_config() {
        c.values().to_vec()
    } else if let Some(c) = condition.source_ip_config() {
        c.values().to_vec()
    } else if let Some(c) = condition.http_header_config() {
        return format!(
            "{field}:{}={}",
            c.http_header_name().unwrap_or_default(),
            c.values().join(",")
        );
    } else if let Some(c) = condition.query_string_config() {
        c.values()
            .iter()
            .map(|kv| match kv.key() {
                Some(key) => format!("{key}={}", kv.value().unwrap_or_default()),
                None => kv.value().unwrap_or_default().to_string(),
            })
            .collect()
    } else {
        condition.values().to_vec()
    };
    format!("{field}={}", values.join(","))
}

fn rule_resource(region: &str, listener_arn: &str, rule: &Rule) -> Resource {
    let priority = rule.priority().unwrap_or_default().to_string();
    Resource {
        id: rule.rule_arn().unwrap_or_default().to_string(),
        name: format!("priority {priority}"),
        region: region.to_string(),
        tags: BTreeMap::new(),
        details: Details::LbListenerRule(ListenerRule {
            listener: listener_arn.to_string(),
            priority,
            conditions: rule.conditions().iter().map(condition_summary).collect(),
            forward_target_groups: forward_target_groups(rule.actions()),
        }),
    }
}

/// Target groups; with `health`, their targets' health (one DescribeTargetHealth per
/// group, unless `known` has the group's targets).
async fn target_groups(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
    known: &Known<'_>,
    health: bool,
) -> Result<Vec<Resource>, ProviderError> {
    let groups = target_groups_as_listed(client, region, only, known, health).await?;
    Ok(groups.into_iter().map(|(model, _)| model).collect())
}

/// [`target_groups`], each with AWS's own answer (for what the model leaves out).
async fn target_groups_as_listed(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
    known: &Known<'_>,
    health: bool,
) -> Result<Vec<(Resource, SdkTargetGroup)>, ProviderError> {
    let groups: Vec<SdkTargetGroup> = client
        .describe_target_groups()
        .set_target_group_arns(only.map(<[String]>::to_vec))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("elasticloadbalancing:DescribeTargetGroups", Some(region), e))?;
    let arns: Vec<String> = groups
        .iter()
        .map(|g| g.target_group_arn().unwrap_or_default().to_string())
        .collect();
    let targets = bounded(arns, CONCURRENCY, |arn| {
        let (client, region) = (client.clone(), region.to_string());
        let known = match known.get(arn.as_str()).map(|r| &r.details) {
            Some(Details::LbTargetGroup(group)) => Some(group.targets.clone()),
            _ => None,
        };
        async move {
            match known {
                Some(targets) => Ok(targets),
                None if !health => Ok(Vec::new()),
                None => target_health(&client, &region, &arn).await,
            }
        }
    })
    .await?;
    Ok(groups
        .into_iter()
        .zip(targets)
        .map(|(group, targets)| {
            (
                Resource {
                    id: group.target_group_arn().unwrap_or_default().to_string(),
                    name: group.target_group_name().unwrap_or_default().to_string(),
                    region: region.to_string(),
                    tags: BTreeMap::new(),
                    details: Details::LbTargetGroup(TargetGroup {
                        target_type: group
                            .target_type()
                            .map(|t| t.as_str().to_string())
                            .unwrap_or_else(|| "instance".to_string()),
                        protocol: group.protocol().map(|p| p.as_str().to_string()),
                        port: group.port(),
                        vpc_id: group.vpc_id().map(str::to_string),
                        load_balancers: {
                            // Sorted and once each (moto repeats a balancer per forwarding
                            // action).
                            let mut arns = group.load_balancer_arns().to_vec();
                            arns.sort();
                            arns.dedup();
                            arns
                        },
                        targets,
                    }),
                },
                group,
            )
        })
        .collect())
}

async fn target_health(
    client: &Client,
    region: &str,
    arn: &str,
) -> Result<Vec<Target>, ProviderError> {
    let out = client
        .describe_target_health()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| api_error("elasticloadbalancing:DescribeTargetHealth", Some(region), e))?;
    let mut targets: Vec<Target> = out
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            let target = d.target()?;
            Some(Target {
                id: target.id().unwrap_or_default().to_string(),
                port: target.port(),
                health: d
                    .target_health()
                    .and_then(|h| h.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
        })
        .collect();
    targets.sort_by(|a, b| (&a.id, a.port).cmp(&(&b.id, b.port)));
    Ok(targets)
}

/// Tags of any ELBv2 resources, in batches of [`TAGS_PER_CALL`] ARNs.
async fn tags(
    client: &Client,
    region: &str,
    arns: Vec<String>,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ProviderError> {
    let batches: Vec<Vec<String>> = arns.chunks(TAGS_PER_CALL).map(<[String]>::to_vec).collect();
    let answers = bounded(batches, CONCURRENCY, |batch| {
        let (client, region) = (client.clone(), region.to_string());
        async move {
            client
                .describe_tags()
                .set_resource_arns(Some(batch))
                .send()
                .await
                .map_err(|e| api_error("elasticloadbalancing:DescribeTags", Some(&region), e))
        }
    })
    .await?;
    Ok(answers
        .iter()
        .flat_map(|a| a.tag_descriptions())
        .filter_map(|d| {
            Some((
                d.resource_arn()?.to_string(),
                tag_map(d.tags().iter().map(|t| (t.key(), t.value()))),
            ))
        })
        .collect())
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    let region = Some(op.target.region.as_str());
    let arn = op.target.id.as_str();
    match (&op.action, op.target.ty) {
        (Action::AwaitDeletion, _) => Ok(()),
        (Action::Delete, ResourceType::Lb) => client
            .delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("elasticloadbalancing:DeleteLoadBalancer", region, e)),
        (Action::Delete, ResourceType::LbListener) => client
            .delete_listener()
            .listener_arn(arn)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("elasticloadbalancing:DeleteListener", region, e)),
        (Action::Delete, ResourceType::LbListenerRule) => client
            .delete_rule()
            .rule_arn(arn)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("elasticloadbalancing:DeleteRule", region, e)),
        (Action::Delete, ResourceType::LbTargetGroup) => client
            .delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("elasticloadbalancing:DeleteTargetGroup", region, e)),
        (Action::DisableDeletionProtection, ResourceType::Lb) => client
            .modify_load_balancer_attributes()
            .load_balancer_arn(arn)
            .attributes(
                LoadBalancerAttribute::builder()
                    .key("deletion_protection.enabled")
                    .value("false")
                    .build(),
            )
            .send()
            .await
            .map(drop)
            .map_err(|e| {
                api_error(
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    region,
                    e,
                )
            }),
        _ => Err(crate::unsupported(op)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        ForwardActionConfig, HttpHeaderConditionConfig, PathPatternConditionConfig,
        QueryStringConditionConfig, QueryStringKeyValuePair, TargetGroupTuple,
    };

    #[test]
    fn summarises_conditions() {
        let path = RuleCondition::builder()
            .field("path-pattern")
            .path_pattern_config(
                PathPatternConditionConfig::builder()
                    .values("/api/*")
                    .values("/v2/*")
                    .build(),
            )
            .build();
        let header = RuleCondition::builder()
            .field("http-header")
            .http_header_config(
                HttpHeaderConditionConfig::builder()
                    .http_header_name("X-Env")
                    .values("blue")
                    .build(),
            )
            .build();
        let query = RuleCondition::builder()
            .field("query-string")
            .query_string_config(
                QueryStringConditionConfig::builder()
                    .values(
                        QueryStringKeyValuePair::builder()
                            .key("v")
                            .value("2")
                            .build(),
                    )
                    .values(QueryStringKeyValuePair::builder().value("debug").build())
                    .build(),
            )
            .build();
        let legacy = RuleCondition::builder()
            .field("host-header")
            .values("example.com")
            .build();
        let summaries: Vec<String> = [path, header, query, legacy]
            .iter()
            .map(condition_summary)
            .collect();
        assert_eq!(
            summaries,
            vec![
                "path-pattern=/api/*,/v2/*",
                "http-header:X-Env=blue",
                "query-string=v=2,debug",
                "host-header=example.com",
            ]
        );
    }

    #[test]
    fn forward_targets_come_from_both_forms_once_each() {
        let weighted = ElbAction::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn("tg-a")
            .forward_config(
                ForwardActionConfig::builder()
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-a").build())
                    .target_groups(TargetGroupTuple::builder().target_group_arn("tg-b").build())
                    .build(),
            )
            .build();
        let redirect = ElbAction::builder()
            .r#type(ActionTypeEnum::Redirect)
            .target_group_arn("tg-c")
            .build();
        assert_eq!(
            forward_target_groups(&[weighted, redirect]),
            vec!["tg-a".to_string(), "tg-b".to_string()]
        );
    }
}
