//! Restoring security groups: CreateSecurityGroup from the archived group (without
//! its rules, which follow one AuthorizeRule call each), and each rule's Authorize
//! call.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType as Ec2ResourceType, Tag,
    TagSpecification, UserIdGroupPair,
};
use decom_provider::{
    Details, ProviderError, RestoreAction, RestoreCall, Restored, RuleDirection, SecurityGroupRule,
};

use super::{archived_model, created, description_of, invalid, is_code, present, unsupported};
use crate::calls::api_error;

const ALL_IPV4: &str = "0.0.0.0/0";

pub(super) async fn restore(
    client: &Client,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    match &call.action {
        RestoreAction::Create { .. } => create_group(client, call).await,
        RestoreAction::AuthorizeRule { rule } => authorize(client, call, rule).await,
        _ => Err(unsupported(call)),
    }
}

async fn create_group(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let region = Some(call.target.region.as_str());
    let model = archived_model(&call.target, description_of(call)?)?;
    let Details::SecurityGroup(group) = &model.details else {
        return Err(invalid(&call.target, "is not a security group"));
    };
    let tags = (!model.tags.is_empty()).then(|| {
        vec![
            TagSpecification::builder()
                .resource_type(Ec2ResourceType::SecurityGroup)
                .set_tags(Some(
                    model
                        .tags
                        .iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .build(),
        ]
    });
    let answer = client
        .create_security_group()
        .group_name(&model.name)
        .description(&group.description)
        .set_vpc_id(group.vpc_id.clone())
        .set_tag_specifications(tags)
        .send()
        .await;
    let group_id = match answer {
        Ok(out) => out.group_id().unwrap_or_default().to_string(),
        Err(e) => {
            let error = api_error("ec2:CreateSecurityGroup", region, e);
            if !is_code(&error, &["InvalidGroup.Duplicate"]) {
                return Err(error);
            }
            return match group_by_name(client, region, &model.name, group.vpc_id.as_deref()).await?
            {
                Some(id) => Ok(present(id)),
                None => Err(error),
            };
        }
    };
    // AWS gives a new VPC group an allow-all egress rule; the archived group keeps
    // it only if it had it.
    let had_allow_all = group.rules.iter().any(is_allow_all_egress);
    if group.vpc_id.is_some() && !had_allow_all {
        client
            .revoke_security_group_egress()
            .group_id(&group_id)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("-1")
                    .ip_ranges(IpRange::builder().cidr_ip(ALL_IPV4).build())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| api_error("ec2:RevokeSecurityGroupEgress", region, e))?;
    }
    Ok(created(group_id))
}

fn is_allow_all_egress(rule: &SecurityGroupRule) -> bool {
    rule.direction == RuleDirection::Egress
        && rule.protocol == "-1"
        && rule.cidr_ipv4.as_deref() == Some(ALL_IPV4)
}

/// The id of the group named `name` in `vpc`.
async fn group_by_name(
    client: &Client,
    region: Option<&str>,
    name: &str,
    vpc: Option<&str>,
) -> Result<Option<String>, ProviderError> {
    let mut filters = vec![Filter::builder().name("group-name").values(name).build()];
    if let Some(vpc) = vpc {
        filters.push(Filter::builder().name("vpc-id").values(vpc).build());
    }
    let out = client
        .describe_security_groups()
        .set_filters(Some(filters))
        .send()
        .await
        .map_err(|e| api_error("ec2:DescribeSecurityGroups", region, e))?;
    Ok(out
        .security_groups()
        .first()
        .and_then(|g| g.group_id())
        .map(str::to_string))
}

/// The permission AWS's Authorize calls take for one archived rule.
fn permission(rule: &SecurityGroupRule) -> IpPermission {
    let description = rule.description.clone();
    let mut permission = IpPermission::builder()
        .ip_protocol(&rule.protocol)
        .set_from_port(rule.from_port)
        .set_to_port(rule.to_port);
    if let Some(cidr) = &rule.cidr_ipv4 {
        permission = permission.ip_ranges(
            IpRange::builder()
                .cidr_ip(cidr)
                .set_description(description.clone())
                .build(),
        );
    }
    if let Some(cidr) = &rule.cidr_ipv6 {
        permission = permission.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(cidr)
                .set_description(description.clone())
                .build(),
        );
    }
    if let Some(prefix_list) = &rule.prefix_list_id {
        permission = permission.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(prefix_list)
                .set_description(description.clone())
                .build(),
        );
    }
    if let Some(group) = &rule.referenced_group {
        permission = permission.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(&group.group_id)
                .set_user_id(group.account_id.clone())
                .set_description(description)
                .build(),
        );
    }
    permission.build()
}

async fn authorize(
    client: &Client,
    call: &RestoreCall,
    rule: &SecurityGroupRule,
) -> Result<Restored, ProviderError> {
    let region = Some(call.target.region.as_str());
    let group_id = call.target.id.as_str();
    let answer = match rule.direction {
        RuleDirection::Ingress => client
            .authorize_security_group_ingress()
            .group_id(group_id)
            .ip_permissions(permission(rule))
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:AuthorizeSecurityGroupIngress", region, e)),
        RuleDirection::Egress => client
            .authorize_security_group_egress()
            .group_id(group_id)
            .ip_permissions(permission(rule))
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:AuthorizeSecurityGroupEgress", region, e)),
    };
    match answer {
        Ok(()) => Ok(created(group_id)),
        Err(e) if is_code(&e, &["InvalidPermission.Duplicate"]) => Ok(present(group_id)),
        Err(e) => Err(e),
    }
}
