//! IAM's archive descriptions: each role, customer managed policy and instance
//! profile as the snapshot models it, plus what the model leaves out (description,
//! session duration, boundary, attachments), one resource at a time or, for many,
//! from the account-wide listings.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::Client;
use aws_sdk_iam::types::ManagedPolicyDetail;
use decom_provider::{
    Details, ErrorKind, GLOBAL_REGION, InlinePolicy, Policy, ProviderError, Resource, ResourceKey,
    ResourceType, Role,
};
use serde_json::{Value, json};

use super::{
    CONCURRENCY, IAM_PAGE, REGION, account_details, instance_profiles, policies_tags,
    policy_versions, profile_resource, role_from_detail,
};
use crate::calls::{api_error, bounded};
use crate::discover::Known;
use crate::text::{policy_document, tag_map, timestamp};

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
    let id = target.id.as_str();
    match target.ty {
        ResourceType::IamRole => match describe_role(client, id).await {
            Ok(v) => Ok(Some(v)),
            Err(e) => gone(e),
        },
        ResourceType::IamPolicy => match describe_policy(client, id).await {
            Ok(v) => Ok(Some(v)),
            Err(e) => gone(e),
        },
        ResourceType::IamInstanceProfile => {
            let out = match client
                .get_instance_profile()
                .instance_profile_name(id)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => return gone(api_error("iam:GetInstanceProfile", REGION, e)),
            };
            Ok(out
                .instance_profile()
                .map(|p| json!({ "model": profile_resource(p) })))
        }
        _ => Err(crate::unsupported_describe(target)),
    }
}

/// From this many resources of one type on, describing them reads the account-wide
/// listings (a page per 1 000 entities, whatever the number of targets) instead of
/// 3–5 calls per resource.
const ACCOUNT_LISTING_FROM: usize = 10;

/// Describes resources of one type, in the order of `ids` (`None`: gone), as
/// [`describe`] does: from [`ACCOUNT_LISTING_FROM`] resources on through the
/// account-wide listings (GetAccountAuthorizationDetails and ListRoles for roles,
/// with ListPolicyTags per policy; ListInstanceProfiles), below that one resource
/// after another. Any failure fails the batch.
pub(crate) async fn describe_batch(
    client: &Client,
    ty: ResourceType,
    ids: &[String],
    known: &Known<'_>,
) -> Result<Vec<Option<Value>>, ProviderError> {
    if ids.len() < ACCOUNT_LISTING_FROM {
        return bounded(ids.to_vec(), CONCURRENCY, |id| {
            let client = client.clone();
            async move { describe(&client, &ResourceKey::new(ty, GLOBAL_REGION, id)).await }
        })
        .await;
    }
    let mut found: BTreeMap<String, Value> = BTreeMap::new();
    match ty {
        ResourceType::IamRole => {
            let details = account_details(client, true, false).await?;
            let listed = client
                .list_roles()
                .max_items(IAM_PAGE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| api_error("iam:ListRoles", REGION, e))?;
            let listed: BTreeMap<&str, &aws_sdk_iam::types::Role> =
                listed.iter().map(|r| (r.role_name(), r)).collect();
            for role in details.roles() {
                let name = role.role_name().unwrap_or_default();
                // A role created between the two listings is described on its own.
                let Some(listed) = listed.get(name) else {
                    continue;
                };
                let description = json!({
                    "model": role_from_detail(role),
                    "description": listed.description(),
                    "max_session_duration": listed.max_session_duration(),
                    "permissions_boundary": role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
                    "instance_profiles": role.instance_profile_list().iter().map(|p| p.instance_profile_name()).collect::<Vec<_>>(),
                });
                found.insert(name.to_string(), description);
            }
        }
        ResourceType::IamPolicy => {
            // Roles too: the archive names the roles a policy is attached to.
            let details = account_details(client, true, true).await?;
            let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
            let policies: Vec<&ManagedPolicyDetail> = details
                .policies()
                .filter(|p| p.arn().is_some_and(|arn| wanted.contains(arn)))
                .collect();
            let arns: Vec<String> = policies
                .iter()
                .filter_map(|p| p.arn())
                .map(str::to_string)
                .collect();
            let tags = policies_tags(client, arns, known).await?;
            for (policy, tags) in policies.into_iter().zip(tags) {
                let mut model = details.policy_resource(policy);
                model.tags = tags;
                let attached_roles = details.roles_of.get(&model.id).cloned().unwrap_or_default();
                let arn = model.id.clone();
                let description = json!({
                    "model": model,
                    "description": policy.description().filter(|d| !d.is_empty()),
                    "attached_roles": attached_roles,
                });
                found.insert(arn, description);
            }
        }
        ResourceType::IamInstanceProfile => {
            for profile in instance_profiles(client).await? {
                let description = json!({ "model": profile_resource(&profile) });
                found.insert(profile.instance_profile_name().to_string(), description);
            }
        }
        _ => {
            let first = ids.first().map_or("", String::as_str);
            return Err(crate::unsupported_describe(&ResourceKey::new(
                ty,
                GLOBAL_REGION,
                first,
            )));
        }
    }
    let mut described = Vec::with_capacity(ids.len());
    for id in ids {
        described.push(match found.remove(id) {
            Some(description) => Some(description),
            // Not in the listings: gone, unless it was created after them.
            None => describe(client, &ResourceKey::new(ty, GLOBAL_REGION, id.as_str())).await?,
        });
    }
    Ok(described)
}

async fn describe_role(client: &Client, name: &str) -> Result<Value, ProviderError> {
    let out = client
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| api_error("iam:GetRole", REGION, e))?;
    let role = out
        .role()
        .ok_or_else(|| crate::calls::malformed("iam:GetRole", REGION, "`Role`"))?;
    let inline_names = client
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("iam:ListRolePolicies", REGION, e))?;
    let mut inline_policies = Vec::new();
    for policy_name in inline_names {
        let doc = client
            .get_role_policy()
            .role_name(name)
            .policy_name(&policy_name)
            .send()
            .await
            .map_err(|e| api_error("iam:GetRolePolicy", REGION, e))?;
        inline_policies.push(InlinePolicy {
            document: Some(policy_document(doc.policy_document())),
            name: policy_name,
        });
    }
    inline_policies.sort_by(|a, b| a.name.cmp(&b.name));
    let attached = client
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("iam:ListAttachedRolePolicies", REGION, e))?;
    let profiles = client
        .list_instance_profiles_for_role()
        .role_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("iam:ListInstanceProfilesForRole", REGION, e))?;
    let mut attached_policies: Vec<String> = attached
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    attached_policies.sort();
    let model = Resource {
        id: name.to_string(),
        name: name.to_string(),
        region: GLOBAL_REGION.to_string(),
        tags: tag_map(role.tags().iter().map(|t| (Some(t.key()), Some(t.value())))),
        details: Details::IamRole(Role {
            arn: role.arn().to_string(),
            path: role.path().to_string(),
            trust_policy: role.assume_role_policy_document().map(policy_document),
            attached_policies,
            inline_policies,
            last_used: role
                .role_last_used()
                .and_then(|u| u.last_used_date())
                .map(timestamp),
            created: Some(timestamp(role.create_date())),
            service_linked: role.path().starts_with("/aws-service-role/"),
        }),
    };
    Ok(json!({
        "model": model,
        "description": role.description(),
        "max_session_duration": role.max_session_duration(),
        "permissions_boundary": role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
        "instance_profiles": profiles.iter().map(|p| p.instance_profile_name()).collect::<Vec<_>>(),
    }))
}

async fn describe_policy(client: &Client, arn: &str) -> Result<Value, ProviderError> {
    let out = client
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| api_error("iam:GetPolicy", REGION, e))?;
    let policy = out
        .policy()
        .ok_or_else(|| crate::calls::malformed("iam:GetPolicy", REGION, "`Policy`"))?;
    let default_version = policy.default_version_id().unwrap_or_default();
    let document = client
        .get_policy_version()
        .policy_arn(arn)
        .version_id(default_version)
        .send()
        .await
        .map_err(|e| api_error("iam:GetPolicyVersion", REGION, e))?
        .policy_version()
        .and_then(|v| v.document())
        .map(policy_document);
    let versions = client
        .list_policy_versions()
        .policy_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("iam:ListPolicyVersions", REGION, e))?;
    let entities = client
        .list_entities_for_policy()
        .policy_arn(arn)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("iam:ListEntitiesForPolicy", REGION, e))?;
    let mut roles: Vec<&str> = entities
        .iter()
        .flat_map(|p| p.policy_roles())
        .filter_map(|r| r.role_name())
        .collect();
    let mut attached_users: Vec<String> = entities
        .iter()
        .flat_map(|p| p.policy_users())
        .filter_map(|u| u.user_name().map(str::to_string))
        .collect();
    let mut attached_groups: Vec<String> = entities
        .iter()
        .flat_map(|p| p.policy_groups())
        .filter_map(|g| g.group_name().map(str::to_string))
        .collect();
    roles.sort();
    attached_users.sort();
    attached_groups.sort();
    let versions = policy_versions(&versions);
    let model = Resource {
        id: arn.to_string(),
        name: policy.policy_name().unwrap_or_default().to_string(),
        region: GLOBAL_REGION.to_string(),
        tags: tag_map(
            policy
                .tags()
                .iter()
                .map(|t| (Some(t.key()), Some(t.value()))),
        ),
        details: Details::IamPolicy(Policy {
            path: policy.path().unwrap_or("/").to_string(),
            default_version_id: default_version.to_string(),
            versions,
            attachment_count: policy.attachment_count().unwrap_or(0).max(0) as u32,
            attached_users,
            attached_groups,
            document,
            created: policy.create_date().map(timestamp),
        }),
    };
    Ok(json!({
        "model": model,
        "description": policy.description().filter(|d| !d.is_empty()),
        "attached_roles": roles,
    }))
}
