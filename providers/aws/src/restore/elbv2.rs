//! Restoring ELBv2: target groups (health check, attributes, tags), load balancers
//! (subnets, groups, attributes, tags), listeners and listener rules from the
//! archive, and a target group's targets. Each Create looks for the resource by its
//! name (port, priority) first: AWS answers a second CreateTargetGroup or
//! CreateLoadBalancer with the same settings by returning the existing one.

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, ForwardActionConfig,
    HttpHeaderConditionConfig, IpAddressType, LoadBalancerAttribute, LoadBalancerSchemeEnum,
    LoadBalancerTypeEnum, Matcher, ProtocolEnum, QueryStringConditionConfig,
    QueryStringKeyValuePair, RedirectActionConfig, RedirectActionStatusCodeEnum, RuleCondition,
    Tag, TargetDescription, TargetGroupAttribute, TargetGroupTuple, TargetTypeEnum,
};
use decom_provider::{
    Details, ErrorKind, ProviderError, RestoreAction, RestoreCall, Restored, Target,
};
use serde_json::Value;

use super::{archived_model, created, description_of, invalid, present, text, unsupported};
use crate::calls::api_error;

pub(super) async fn restore(
    client: &Client,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    use decom_provider::ResourceType as T;
    match (&call.action, call.target.ty) {
        (RestoreAction::Create { .. }, T::LbTargetGroup) => create_target_group(client, call).await,
        (RestoreAction::Create { .. }, T::Lb) => create_load_balancer(client, call).await,
        (RestoreAction::Create { .. }, T::LbListener) => create_listener(client, call).await,
        (RestoreAction::Create { .. }, T::LbListenerRule) => create_rule(client, call).await,
        (RestoreAction::RegisterTargets { targets }, T::LbTargetGroup) => {
            register(client, call, targets).await
        }
        _ => Err(unsupported(call)),
    }
}

fn tags(tags: &std::collections::BTreeMap<String, String>) -> Option<Vec<Tag>> {
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    })
}

/// ELBv2 answers a target group in a VPC that does not exist with a
/// `ValidationError` ("The VPC ID 'vpc-…' is not found"): a dependency that is gone,
/// with AWS's code kept.
fn vpc_gone(mut error: ProviderError) -> ProviderError {
    if error.code == "ValidationError"
        && error.message.contains("VPC ID")
        && error.message.contains("not found")
    {
        error.kind = ErrorKind::NotFound;
    }
    error
}

/// The `key: value` attributes of a description, as strings.
fn attributes(description: &Value) -> Vec<(String, String)> {
    description
        .get("attributes")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn string_at<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value.get(field).and_then(Value::as_str)
}

fn int_at(value: &Value, field: &str) -> Option<i32> {
    value
        .get(field)
        .and_then(Value::as_i64)
        .and_then(|n| i32::try_from(n).ok())
}

/// The ARN a describe by name answered with; `None` when nothing has that name
/// (ELBv2 answers a name it does not know with `…NotFound`).
fn existing(
    answer: Result<Option<String>, ProviderError>,
) -> Result<Option<String>, ProviderError> {
    match answer {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        other => other,
    }
}

async fn create_target_group(
    client: &Client,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    let region = Some(call.target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(&call.target, description)?;
    let Details::LbTargetGroup(group) = &model.details else {
        return Err(invalid(&call.target, "is not a target group"));
    };
    let found = client
        .describe_target_groups()
        .names(&model.name)
        .send()
        .await
        .map(|out| {
            out.target_groups()
                .first()
                .and_then(|g| g.target_group_arn())
                .map(str::to_string)
        })
        .map_err(|e| api_error("elasticloadbalancing:DescribeTargetGroups", region, e));
    if let Some(arn) = existing(found)? {
        return Ok(present(arn));
    }
    let mut notes = Vec::new();
    let mut request = client
        .create_target_group()
        .name(&model.name)
        .set_protocol(group.protocol.as_deref().map(ProtocolEnum::from))
        .set_port(group.port)
        .set_vpc_id(group.vpc_id.clone())
        .target_type(TargetTypeEnum::from(group.target_type.as_str()))
        .set_tags(tags(&model.tags));
    match description.get("health_check").filter(|h| h.is_object()) {
        Some(check) => {
            request = request
                .set_health_check_enabled(check.get("enabled").and_then(Value::as_bool))
                .set_health_check_protocol(string_at(check, "protocol").map(ProtocolEnum::from))
                .set_health_check_port(string_at(check, "port").map(str::to_string))
                .set_health_check_path(string_at(check, "path").map(str::to_string))
                .set_health_check_interval_seconds(int_at(check, "interval_seconds"))
                .set_health_check_timeout_seconds(int_at(check, "timeout_seconds"))
                .set_healthy_threshold_count(int_at(check, "healthy_threshold_count"))
                .set_unhealthy_threshold_count(int_at(check, "unhealthy_threshold_count"));
            if let Some(matcher) = check.get("matcher").filter(|m| m.is_object()) {
                request = request.matcher(
                    Matcher::builder()
                        .set_http_code(string_at(matcher, "http_code").map(str::to_string))
                        .set_grpc_code(string_at(matcher, "grpc_code").map(str::to_string))
                        .build(),
                );
            }
        }
        None => notes.push(
            "the archive does not hold the health check: AWS's defaults were used".to_string(),
        ),
    }
    let out = request.send().await.map_err(|e| {
        vpc_gone(api_error(
            "elasticloadbalancing:CreateTargetGroup",
            region,
            e,
        ))
    })?;
    let arn = out
        .target_groups()
        .first()
        .and_then(|g| g.target_group_arn())
        .ok_or_else(|| {
            crate::calls::malformed(
                "elasticloadbalancing:CreateTargetGroup",
                region,
                "`TargetGroupArn`",
            )
        })?
        .to_string();
    let attributes: Vec<TargetGroupAttribute> = attributes(description)
        .into_iter()
        .map(|(k, v)| TargetGroupAttribute::builder().key(k).value(v).build())
        .collect();
    if !attributes.is_empty() {
        client
            .modify_target_group_attributes()
            .target_group_arn(&arn)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| {
                api_error(
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    region,
                    e,
                )
            })?;
    }
    Ok(Restored {
        id: arn,
        present: false,
        notes,
        ..Restored::default()
    })
}

async fn create_load_balancer(
    client: &Client,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    let region = Some(call.target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(&call.target, description)?;
    let Details::Lb(lb) = &model.details else {
        return Err(invalid(&call.target, "is not a load balancer"));
    };
    let found = client
        .describe_load_balancers()
        .names(&model.name)
        .send()
        .await
        .map(|out| {
            out.load_balancers()
                .first()
                .and_then(|l| l.load_balancer_arn())
                .map(str::to_string)
        })
        .map_err(|e| api_error("elasticloadbalancing:DescribeLoadBalancers", region, e));
    if let Some(arn) = existing(found)? {
        return Ok(present(arn));
    }
    let subnets: Vec<String> = description
        .get("availability_zones")
        .and_then(Value::as_array)
        .map(|zones| {
            zones
                .iter()
                .filter_map(|z| string_at(z, "subnet_id").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if subnets.is_empty() {
        return Err(invalid(&call.target, "names no subnet"));
    }
    let out = client
        .create_load_balancer()
        .name(&model.name)
        .r#type(LoadBalancerTypeEnum::from(lb.lb_type.as_str()))
        .scheme(LoadBalancerSchemeEnum::from(lb.scheme.as_str()))
        .set_subnets(Some(subnets))
        .set_security_groups((!lb.security_groups.is_empty()).then(|| lb.security_groups.clone()))
        .set_ip_address_type(text(description, "ip_address_type").map(IpAddressType::from))
        .set_tags(tags(&model.tags))
        .send()
        .await
        .map_err(|e| api_error("elasticloadbalancing:CreateLoadBalancer", region, e))?;
    let created_lb = out.load_balancers().first().ok_or_else(|| {
        crate::calls::malformed(
            "elasticloadbalancing:CreateLoadBalancer",
            region,
            "`LoadBalancers`",
        )
    })?;
    let arn = created_lb
        .load_balancer_arn()
        .unwrap_or_default()
        .to_string();
    let dns_name = created_lb.dns_name().unwrap_or_default().to_string();
    let attributes: Vec<LoadBalancerAttribute> = attributes(description)
        .into_iter()
        .map(|(k, v)| LoadBalancerAttribute::builder().key(k).value(v).build())
        .collect();
    if !attributes.is_empty() {
        client
            .modify_load_balancer_attributes()
            .load_balancer_arn(&arn)
            .set_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| {
                api_error(
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    region,
                    e,
                )
            })?;
    }
    Ok(Restored {
        id: arn,
        present: false,
        notes: vec![format!(
            "new DNS name `{dns_name}` (it was `{}`): update what points at it",
            lb.dns_name
        )],
        renamed: decom_provider::dns_name_spellings(&lb.dns_name, &dns_name)
            .into_iter()
            .collect(),
    })
}

async fn create_listener(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let region = Some(call.target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(&call.target, description)?;
    let Details::LbListener(listener) = &model.details else {
        return Err(invalid(&call.target, "is not a listener"));
    };
    let existing = client
        .describe_listeners()
        .load_balancer_arn(&listener.load_balancer)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("elasticloadbalancing:DescribeListeners", region, e))?;
    if let Some(found) = existing.iter().find(|l| l.port() == listener.port) {
        return Ok(present(found.listener_arn().unwrap_or_default()));
    }
    let certificates: Vec<Certificate> = description
        .get("certificates")
        .and_then(Value::as_array)
        .map(|certs| {
            certs
                .iter()
                .filter_map(Value::as_str)
                .map(|arn| Certificate::builder().certificate_arn(arn).build())
                .collect()
        })
        .unwrap_or_default();
    let out = client
        .create_listener()
        .load_balancer_arn(&listener.load_balancer)
        .set_port(listener.port)
        .protocol(ProtocolEnum::from(listener.protocol.as_str()))
        .set_ssl_policy(text(description, "ssl_policy").map(str::to_string))
        .set_certificates((!certificates.is_empty()).then_some(certificates))
        .set_default_actions(Some(actions(call, description.get("default_actions"))?))
        .set_tags(tags(&model.tags))
        .send()
        .await
        .map_err(|e| api_error("elasticloadbalancing:CreateListener", region, e))?;
    let arn = out
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .unwrap_or_default();
    Ok(created(arn))
}

async fn create_rule(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let region = Some(call.target.region.as_str());
    let description = description_of(call)?;
    let model = archived_model(&call.target, description)?;
    let Details::LbListenerRule(rule) = &model.details else {
        return Err(invalid(&call.target, "is not a listener rule"));
    };
    let priority: i32 = rule.priority.parse().map_err(|_| {
        invalid(
            &call.target,
            format_args!("has priority `{}`", rule.priority),
        )
    })?;
    let existing = client
        .describe_rules()
        .listener_arn(&rule.listener)
        .send()
        .await
        .map_err(|e| api_error("elasticloadbalancing:DescribeRules", region, e))?;
    if let Some(found) = existing
        .rules()
        .iter()
        .find(|r| r.priority() == Some(rule.priority.as_str()))
    {
        return Ok(present(found.rule_arn().unwrap_or_default()));
    }
    let conditions = rule
        .conditions
        .iter()
        .map(|summary| {
            condition(summary).ok_or_else(|| {
                invalid(
                    &call.target,
                    format_args!("has condition `{summary}`, which decom cannot read back"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let archived_actions = description.get("rule").and_then(|r| r.get("actions"));
    let out = client
        .create_rule()
        .listener_arn(&rule.listener)
        .priority(priority)
        .set_conditions(Some(conditions))
        .set_actions(Some(actions(call, archived_actions)?))
        .set_tags(tags(&model.tags))
        .send()
        .await
        .map_err(|e| api_error("elasticloadbalancing:CreateRule", region, e))?;
    let arn = out
        .rules()
        .first()
        .and_then(|r| r.rule_arn())
        .unwrap_or_default();
    Ok(created(arn))
}

/// A rule condition from its archived summary (`condition_summary` in elbv2):
/// `path-pattern=/a,/b`, `http-header:X-Name=v1,v2`, `query-string=k=v,v2`. Values
/// holding a comma cannot be told apart from two values.
pub(super) fn condition(summary: &str) -> Option<RuleCondition> {
    let (head, values) = summary.split_once('=')?;
    let values: Vec<String> = values.split(',').map(str::to_string).collect();
    let builder = RuleCondition::builder();
    if let Some(("http-header", header)) = head.split_once(':') {
        return Some(
            builder
                .field("http-header")
                .http_header_config(
                    HttpHeaderConditionConfig::builder()
                        .http_header_name(header)
                        .set_values(Some(values))
                        .build(),
                )
                .build(),
        );
    }
    use aws_sdk_elasticloadbalancingv2::types::{
        HostHeaderConditionConfig, HttpRequestMethodConditionConfig, PathPatternConditionConfig,
        SourceIpConditionConfig,
    };
    let builder = builder.field(head);
    let condition = match head {
        "path-pattern" => builder.path_pattern_config(
            PathPatternConditionConfig::builder()
                .set_values(Some(values))
                .build(),
        ),
        "host-header" => builder.host_header_config(
            HostHeaderConditionConfig::builder()
                .set_values(Some(values))
                .build(),
        ),
        "http-request-method" => builder.http_request_method_config(
            HttpRequestMethodConditionConfig::builder()
                .set_values(Some(values))
                .build(),
        ),
        "source-ip" => builder.source_ip_config(
            SourceIpConditionConfig::builder()
                .set_values(Some(values))
                .build(),
        ),
        "query-string" => builder.query_string_config(
            QueryStringConditionConfig::builder()
                .set_values(Some(
                    values
                        .iter()
                        .map(|pair| match pair.split_once('=') {
                            Some((key, value)) => QueryStringKeyValuePair::builder()
                                .key(key)
                                .value(value)
                                .build(),
                            None => QueryStringKeyValuePair::builder().value(pair).build(),
                        })
                        .collect(),
                ))
                .build(),
        ),
        _ => return None,
    };
    Some(condition.build())
}

/// Actions from their archived JSON (`action_json` in elbv2's archive): forward,
/// redirect and fixed-response. Authentication actions are not archived in full.
fn actions(call: &RestoreCall, archived: Option<&Value>) -> Result<Vec<Action>, ProviderError> {
    let archived = archived
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| invalid(&call.target, "has no actions"))?;
    archived.iter().map(|a| action(call, a)).collect()
}

fn action(call: &RestoreCall, archived: &Value) -> Result<Action, ProviderError> {
    let kind = string_at(archived, "type").unwrap_or_default();
    let builder = Action::builder()
        .r#type(ActionTypeEnum::from(kind))
        .set_order(int_at(archived, "order"));
    let action = match kind {
        "forward" => {
            let weighted: Vec<TargetGroupTuple> = archived
                .get("forward_target_groups")
                .and_then(Value::as_array)
                .map(|groups| {
                    groups
                        .iter()
                        .filter_map(|g| {
                            Some(
                                TargetGroupTuple::builder()
                                    .target_group_arn(string_at(g, "arn")?)
                                    .set_weight(int_at(g, "weight"))
                                    .build(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            // One group: by its ARN (AWS refuses both forms naming different groups).
            match (string_at(archived, "target_group_arn"), weighted.len()) {
                (Some(arn), 0 | 1) => builder.target_group_arn(arn),
                (None, 1) => {
                    builder.set_target_group_arn(weighted[0].target_group_arn().map(str::to_string))
                }
                (_, 0) => return Err(invalid(&call.target, "forwards to no target group")),
                _ => builder.forward_config(
                    ForwardActionConfig::builder()
                        .set_target_groups(Some(weighted))
                        .build(),
                ),
            }
        }
        "redirect" => {
            let redirect = archived
                .get("redirect")
                .filter(|r| r.is_object())
                .ok_or_else(|| invalid(&call.target, "has a redirect without its target"))?;
            let config = RedirectActionConfig::builder()
                .set_protocol(string_at(redirect, "protocol").map(str::to_string))
                .set_host(string_at(redirect, "host").map(str::to_string))
                .set_port(string_at(redirect, "port").map(str::to_string))
                .set_path(string_at(redirect, "path").map(str::to_string))
                .set_query(string_at(redirect, "query").map(str::to_string))
                .set_status_code(
                    string_at(redirect, "status_code").map(RedirectActionStatusCodeEnum::from),
                )
                .build();
            builder.redirect_config(config)
        }
        "fixed-response" => {
            let fixed = archived
                .get("fixed_response")
                .filter(|r| r.is_object())
                .ok_or_else(|| invalid(&call.target, "has a fixed response without its content"))?;
            builder.fixed_response_config(
                FixedResponseActionConfig::builder()
                    .set_status_code(string_at(fixed, "status_code").map(str::to_string))
                    .set_content_type(string_at(fixed, "content_type").map(str::to_string))
                    .set_message_body(string_at(fixed, "message_body").map(str::to_string))
                    .build(),
            )
        }
        other => {
            return Err(invalid(
                &call.target,
                format_args!("has a `{other}` action, which the archive does not hold in full"),
            ));
        }
    };
    Ok(action.build())
}

async fn register(
    client: &Client,
    call: &RestoreCall,
    targets: &[Target],
) -> Result<Restored, ProviderError> {
    let region = Some(call.target.region.as_str());
    let arn = call.target.id.as_str();
    if !targets.is_empty() {
        client
            .register_targets()
            .target_group_arn(arn)
            .set_targets(Some(
                targets
                    .iter()
                    .map(|t| {
                        TargetDescription::builder()
                            .id(&t.id)
                            .set_port(t.port)
                            .build()
                    })
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| api_error("elasticloadbalancing:RegisterTargets", region, e))?;
    }
    Ok(created(arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_read_back_from_their_summaries() {
        let path = condition("path-pattern=/api/*,/v2/*").unwrap();
        assert_eq!(path.field(), Some("path-pattern"));
        assert_eq!(
            path.path_pattern_config().unwrap().values(),
            ["/api/*", "/v2/*"]
        );
        let header = condition("http-header:X-Env=blue,green").unwrap();
        let config = header.http_header_config().unwrap();
        assert_eq!(config.http_header_name(), Some("X-Env"));
        assert_eq!(config.values(), ["blue", "green"]);
        let query = condition("query-string=version=2,beta").unwrap();
        let pairs = query.query_string_config().unwrap().values();
        assert_eq!(pairs[0].key(), Some("version"));
        assert_eq!(pairs[0].value(), Some("2"));
        assert_eq!(pairs[1].key(), None);
        assert_eq!(pairs[1].value(), Some("beta"));
        assert_eq!(
            condition("source-ip=10.0.0.0/8")
                .unwrap()
                .source_ip_config()
                .unwrap()
                .values(),
            ["10.0.0.0/8"]
        );
        assert!(condition("no-such-field=x").is_none());
        assert!(condition("garbage").is_none());
    }
}
