//! ELBv2's archive descriptions: each balancer, listener, rule and target group as
//! the snapshot models it, plus what the model leaves out (attributes, zones,
//! certificates, full actions), read in batches where ELBv2 has them.

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{Action as ElbAction, Listener as SdkListener, Rule};
use decom_provider::{ErrorKind, ProviderError, ResourceKey, ResourceType};
use serde_json::{Value, json};

use super::{
    CONCURRENCY, TAGS_PER_CALL, condition_summary, lb_attributes, lb_resource, listener_resource,
    listeners, load_balancers, rule_resource, rules, tags, target_groups_as_listed,
};
use crate::calls::{api_error, bounded};
use crate::discover::Known;

fn attribute_map<'a>(pairs: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>) -> Value {
    Value::Object(
        pairs
            .filter_map(|(k, v)| Some((k?.to_string(), Value::from(v.unwrap_or_default()))))
            .collect(),
    )
}

fn action_json(action: &ElbAction) -> Value {
    json!({
        "type": action.r#type().map(|t| t.as_str()),
        "order": action.order(),
        "target_group_arn": action.target_group_arn(),
        "forward_target_groups": action
            .forward_config()
            .map(|f| f.target_groups())
            .unwrap_or_default()
            .iter()
            .map(|t| json!({"arn": t.target_group_arn(), "weight": t.weight()}))
            .collect::<Vec<_>>(),
        "redirect": action.redirect_config().map(|r| json!({
            "protocol": r.protocol(), "host": r.host(), "port": r.port(),
            "path": r.path(), "query": r.query(),
            "status_code": r.status_code().map(|s| s.as_str()),
        })),
        "fixed_response": action.fixed_response_config().map(|f| json!({
            "status_code": f.status_code(), "content_type": f.content_type(),
            "message_body": f.message_body(),
        })),
    })
}

/// A target group's health check, which the model leaves out.
fn health_check_json(group: &aws_sdk_elasticloadbalancingv2::types::TargetGroup) -> Value {
    json!({
        "enabled": group.health_check_enabled(),
        "protocol": group.health_check_protocol().map(|p| p.as_str()),
        "port": group.health_check_port(),
        "path": group.health_check_path(),
        "interval_seconds": group.health_check_interval_seconds(),
        "timeout_seconds": group.health_check_timeout_seconds(),
        "healthy_threshold_count": group.healthy_threshold_count(),
        "unhealthy_threshold_count": group.unhealthy_threshold_count(),
        "matcher": group.matcher().map(|m| json!({"http_code": m.http_code(), "grpc_code": m.grpc_code()})),
    })
}

fn rule_json(rule: &Rule) -> Value {
    json!({
        "arn": rule.rule_arn(),
        "priority": rule.priority(),
        "is_default": rule.is_default(),
        "conditions": rule.conditions().iter().map(condition_summary).collect::<Vec<_>>(),
        "actions": rule.actions().iter().map(action_json).collect::<Vec<_>>(),
    })
}

async fn listener_json(
    client: &Client,
    region: &str,
    listener: &SdkListener,
) -> Result<Value, ProviderError> {
    let arn = listener.listener_arn().unwrap_or_default();
    let rules = rules(client, region, Some(arn), None).await?;
    Ok(json!({
        "model": listener_resource(region, listener),
        "ssl_policy": listener.ssl_policy(),
        "certificates": listener.certificates().iter().map(|c| c.certificate_arn()).collect::<Vec<_>>(),
        "default_actions": listener.default_actions().iter().map(action_json).collect::<Vec<_>>(),
        "rules": rules.iter().map(rule_json).collect::<Vec<_>>(),
    }))
}

fn gone(e: ProviderError) -> Result<Option<Value>, ProviderError> {
    if e.kind == ErrorKind::NotFound {
        Ok(None)
    } else {
        Err(e)
    }
}

/// Describes one resource for the archive; `None` if it is gone.
pub(crate) async fn describe(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<Value>, ProviderError> {
    let only = std::slice::from_ref(&target.id);
    match describe_batch(client, &target.region, target.ty, only, &Known::new()).await {
        Ok(mut found) => Ok(found.pop().flatten()),
        Err(e) => gone(e),
    }
}

/// Describes resources of one type in one region, in the order of `arns` (`None`:
/// gone): one describe and one DescribeTags per 20 resources, and per resource only
/// the calls ELBv2 has no batch form of (a balancer's attributes and listeners, a
/// listener's rules, a target group's attributes, and its health unless `known` has
/// it). Any failure fails the batch; a gone resource named by ARN fails it with
/// `NotFound`.
pub(crate) async fn describe_batch(
    client: &Client,
    region: &str,
    ty: ResourceType,
    arns: &[String],
    known: &Known<'_>,
) -> Result<Vec<Option<Value>>, ProviderError> {
    let mut found: BTreeMap<String, Value> = BTreeMap::new();
    for chunk in arns.chunks(TAGS_PER_CALL) {
        match ty {
            ResourceType::Lb => {
                let lbs = load_balancers(client, region, Some(chunk)).await?;
                let lb_arns: Vec<String> = lbs
                    .iter()
                    .filter_map(|lb| lb.load_balancer_arn().map(str::to_string))
                    .collect();
                let mut tags = tags(client, region, lb_arns.clone()).await?;
                let parts = bounded(lb_arns.clone(), CONCURRENCY, |arn| {
                    let (client, region) = (client.clone(), region.to_string());
                    async move {
                        let attributes = lb_attributes(&client, &region, &arn).await?;
                        let mut listener_docs = Vec::new();
                        for listener in listeners(&client, &region, Some(&arn), None).await? {
                            listener_docs.push(listener_json(&client, &region, &listener).await?);
                        }
                        Ok((attributes, listener_docs))
                    }
                })
                .await?;
                for ((lb, arn), (attributes, listener_docs)) in lbs.iter().zip(lb_arns).zip(parts) {
                    let mut model = lb_resource(region, lb, &attributes);
                    model.tags = tags.remove(&arn).unwrap_or_default();
                    let description = json!({
                        "model": model,
                        "availability_zones": lb.availability_zones().iter().map(|z| json!({
                            "zone": z.zone_name(), "subnet_id": z.subnet_id(),
                        })).collect::<Vec<_>>(),
                        "ip_address_type": lb.ip_address_type().map(|t| t.as_str()),
                        "attributes": attribute_map(attributes.iter().map(|a| (a.key(), a.value()))),
                        "listeners": listener_docs,
                    });
                    found.insert(arn, description);
                }
            }
            ResourceType::LbListener => {
                let listeners = listeners(client, region, None, Some(chunk)).await?;
                let docs = bounded(listeners, CONCURRENCY, |listener| {
                    let (client, region) = (client.clone(), region.to_string());
                    async move {
                        let arn = listener.listener_arn().unwrap_or_default().to_string();
                        Ok((arn, listener_json(&client, &region, &listener).await?))
                    }
                })
                .await?;
                found.extend(docs);
            }
            ResourceType::LbListenerRule => {
                for rule in rules(client, region, None, Some(chunk)).await? {
                    let arn = rule.rule_arn().unwrap_or_default();
                    // The listener is the rule's ARN with `listener-rule` -> `listener`
                    // and the rule's own id dropped.
                    let listener_arn = arn
                        .replacen(":listener-rule/", ":listener/", 1)
                        .rsplit_once('/')
                        .map(|(listener, _)| listener.to_string())
                        .unwrap_or_default();
                    let description = json!({
                        "model": rule_resource(region, &listener_arn, &rule),
                        "rule": rule_json(&rule),
                    });
                    found.insert(arn.to_string(), description);
                }
            }
            ResourceType::LbTargetGroup => {
                let groups =
                    target_groups_as_listed(client, region, Some(chunk), known, true).await?;
                let group_arns: Vec<String> = groups.iter().map(|(g, _)| g.id.clone()).collect();
                let mut tags = tags(client, region, group_arns.clone()).await?;
                let attributes = bounded(group_arns, CONCURRENCY, |arn| {
                    let (client, region) = (client.clone(), region.to_string());
                    async move {
                        client
                            .describe_target_group_attributes()
                            .target_group_arn(arn)
                            .send()
                            .await
                            .map_err(|e| {
                                api_error(
                                    "elasticloadbalancing:DescribeTargetGroupAttributes",
                                    Some(&region),
                                    e,
                                )
                            })
                    }
                })
                .await?;
                for ((mut model, group), attributes) in groups.into_iter().zip(attributes) {
                    model.tags = tags.remove(&model.id).unwrap_or_default();
                    let arn = model.id.clone();
                    let description = json!({
                        "model": model,
                        "attributes": attribute_map(attributes.attributes().iter().map(|a| (a.key(), a.value()))),
                        "health_check": health_check_json(&group),
                    });
                    found.insert(arn, description);
                }
            }
            _ => {
                let first = chunk.first().map_or("", String::as_str);
                return Err(crate::unsupported_describe(&ResourceKey::new(
                    ty, region, first,
                )));
            }
        }
    }
    Ok(arns.iter().map(|arn| found.remove(arn)).collect())
}
