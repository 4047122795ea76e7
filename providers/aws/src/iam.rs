//! IAM at the edge: roles, customer managed policies and instance profiles, from SDK
//! shapes into decom's model (mostly from GetAccountAuthorizationDetails, a few pages
//! for the whole account); the IAM calls that delete them and prepare their deletion;
//! their archive descriptions.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::Client;
use aws_sdk_iam::types::{EntityType, InstanceProfile as SdkProfile, RoleDetail};
use decom_provider::{
    Action, Details, ErrorKind, GLOBAL_REGION, InlinePolicy, InstanceProfile, Operation, Policy,
    PolicyVersion, ProviderError, Resource, ResourceKey, ResourceType, Role,
};
use serde_json::{Value, json};

use crate::calls::{api_error, bounded};
use crate::discover::Found;
use crate::text::{arn_name, policy_document, tag_map, timestamp};

/// Per-policy IAM calls in flight (IAM's rate limits are account-wide and low).
const CONCURRENCY: usize = 4;

const REGION: Option<&str> = None;

/// `MaxItems` of the account-wide listings: IAM's largest page.
const IAM_PAGE: i32 = 1000;

pub(crate) async fn discover(
    client: &Client,
    types: &BTreeSet<ResourceType>,
) -> Result<Found, ProviderError> {
    let wants_roles = types.contains(&ResourceType::IamRole);
    let wants_policies = types.contains(&ResourceType::IamPolicy);
    let mut found = Found::default();
    if wants_roles || wants_policies {
        let mut request = client.get_account_authorization_details();
        if wants_roles {
            request = request.filter(EntityType::Role);
        }
        if wants_policies {
            // Users and groups only to tell whom a customer policy is attached to.
            request = request
                .filter(EntityType::LocalManagedPolicy)
                .filter(EntityType::User)
                .filter(EntityType::Group);
        }
        // The largest page IAM gives (its default is 100 entities).
        let pages = request
            .max_items(IAM_PAGE)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("iam:GetAccountAuthorizationDetails", REGION, e))?;

        let mut users_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut groups_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for page in &pages {
            for user in page.user_detail_list() {
                for policy in user.attached_managed_policies() {
                    if let (Some(arn), Some(name)) = (policy.policy_arn(), user.user_name()) {
                        users_of
                            .entry(arn.to_string())
                            .or_default()
                            .push(name.to_string());
                    }
                }
            }
            for group in page.group_detail_list() {
                for policy in group.attached_managed_policies() {
                    if let (Some(arn), Some(name)) = (policy.policy_arn(), group.group_name()) {
                        groups_of
                            .entry(arn.to_string())
                            .or_default()
                            .push(name.to_string());
                    }
                }
            }
        }
        if wants_roles {
            found.resources.extend(
                pages
                    .iter()
                    .flat_map(|p| p.role_detail_list())
                    .map(role_from_detail),
            );
        }
        if wants_policies {
            let mut policies: Vec<Resource> = pages
                .iter()
                .flat_map(|p| p.policies())
                .map(|p| {
                    let arn = p.arn().unwrap_or_default().to_string();
                    let default_version = p.default_version_id().unwrap_or_default();
                    let mut versions: Vec<PolicyVersion> = p
                        .policy_version_list()
                        .iter()
                        .map(|v| PolicyVersion {
                            version_id: v.version_id().unwrap_or_default().to_string(),
                            is_default: v.is_default_version(),
                            created: v.create_date().map(timestamp),
                        })
                        .collect();
                    versions.sort_by(|a, b| a.version_id.cmp(&b.version_id));
                    let document = p
                        .policy_version_list()
                        .iter()
                        .find(|v| v.version_id() == Some(default_version))
                        .and_then(|v| v.document())
                        .map(policy_document);
                    let mut attached_users = users_of.remove(&arn).unwrap_or_default();
                    let mut attached_groups = groups_of.remove(&arn).unwrap_or_default();
                    attached_users.sort();
                    attached_groups.sort();
                    Resource {
                        // The name is the ARN's last segment (moto omits PolicyName).
                        name: p.policy_name().unwrap_or(arn_name(&arn)).to_string(),
                        region: GLOBAL_REGION.to_string(),
                        tags: BTreeMap::new(),
                        details: Details::IamPolicy(Policy {
                            path: p.path().unwrap_or("/").to_string(),
                            default_version_id: default_version.to_string(),
                            versions,
                            attachment_count: p.attachment_count().unwrap_or(0).max(0) as u32,
                            attached_users,
                            attached_groups,
                            document,
                            created: p.create_date().map(timestamp),
                        }),
                        id: arn,
                    }
                })
                .collect();
            // Tags are not in the account details: one ListPolicyTags per policy.
            let arns: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
            let tags = bounded(arns, CONCURRENCY, |arn| {
                let client = client.clone();
                async move { policy_tags(&client, &arn).await }
            })
            .await?;
            for (policy, tags) in policies.iter_mut().zip(tags) {
                policy.tags = tags;
            }
            found.resources.extend(policies);
        }
    }
    if types.contains(&ResourceType::IamInstanceProfile) {
        // ListInstanceProfiles also finds the profiles that hold no role, which the
        // roles' own profile lists cannot show.
        let profiles = client
            .list_instance_profiles()
            .max_items(IAM_PAGE)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| api_error("iam:ListInstanceProfiles", REGION, e))?;
        found
            .resources
            .extend(profiles.iter().map(profile_resource));
    }
    Ok(found)
}

async fn policy_tags(
    client: &Client,
    arn: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let tags = client
        .list_policy_tags()
        .policy_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("iam:ListPolicyTags", REGION, e))?;
    Ok(tag_map(
        tags.iter().map(|t| (Some(t.key()), Some(t.value()))),
    ))
}

fn role_from_detail(role: &RoleDetail) -> Resource {
    let name = role.role_name().unwrap_or_default().to_string();
    let path = role.path().unwrap_or("/").to_string();
    let mut inline_policies: Vec<InlinePolicy> = role
        .role_policy_list()
        .iter()
        .map(|p| InlinePolicy {
            name: p.policy_name().unwrap_or_default().to_string(),
            document: p.policy_document().map(policy_document),
        })
        .collect();
    inline_policies.sort_by(|a, b| a.name.cmp(&b.name));
    let mut attached_policies: Vec<String> = role
        .attached_managed_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect();
    attached_policies.sort();
    Resource {
        id: name.clone(),
        name,
        region: GLOBAL_REGION.to_string(),
        tags: tag_map(role.tags().iter().map(|t| (Some(t.key()), Some(t.value())))),
        details: Details::IamRole(Role {
            arn: role.arn().unwrap_or_default().to_string(),
            service_linked: path.starts_with("/aws-service-role/"),
            path,
            trust_policy: role.assume_role_policy_document().map(policy_document),
            attached_policies,
            inline_policies,
            last_used: role
                .role_last_used()
                .and_then(|u| u.last_used_date())
                .map(timestamp),
            created: role.create_date().map(timestamp),
        }),
    }
}

fn profile_resource(profile: &SdkProfile) -> Resource {
    let mut roles: Vec<String> = profile
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .collect();
    roles.sort();
    Resource {
        id: profile.instance_profile_name().to_string(),
        name: profile.instance_profile_name().to_string(),
        region: GLOBAL_REGION.to_string(),
        tags: tag_map(
            profile
                .tags()
                .iter()
                .map(|t| (Some(t.key()), Some(t.value()))),
        ),
        details: Details::IamInstanceProfile(InstanceProfile {
            arn: profile.arn().to_string(),
            path: profile.path().to_string(),
            roles,
            created: Some(timestamp(profile.create_date())),
        }),
    }
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    let id = op.target.id.as_str();
    match (&op.action, op.target.ty) {
        (Action::AwaitDeletion, _) => Ok(()),
        (Action::Delete, ResourceType::IamRole) => client
            .delete_role()
            .role_name(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:DeleteRole", REGION, e)),
        (Action::Delete, ResourceType::IamPolicy) => client
            .delete_policy()
            .policy_arn(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:DeletePolicy", REGION, e)),
        (Action::Delete, ResourceType::IamInstanceProfile) => client
            .delete_instance_profile()
            .instance_profile_name(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:DeleteInstanceProfile", REGION, e)),
        (Action::DetachRolePolicy { policy_arn }, ResourceType::IamRole) => client
            .detach_role_policy()
            .role_name(id)
            .policy_arn(policy_arn)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:DetachRolePolicy", REGION, e)),
        (Action::DeleteInlinePolicy { policy_name }, ResourceType::IamRole) => client
            .delete_role_policy()
            .role_name(id)
            .policy_name(policy_name)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:DeleteRolePolicy", REGION, e)),
        (Action::DetachUserPolicy { user }, ResourceType::IamPolicy) => client
            .detach_user_policy()
            .user_name(user)
            .policy_arn(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:DetachUserPolicy", REGION, e)),
        (Action::DetachGroupPolicy { group }, ResourceType::IamPolicy) => client
            .detach_group_policy()
            .group_name(group)
            .policy_arn(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:DetachGroupPolicy", REGION, e)),
        (Action::DeletePolicyVersion { version_id }, ResourceType::IamPolicy) => client
            .delete_policy_version()
            .policy_arn(id)
            .version_id(version_id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:DeletePolicyVersion", REGION, e)),
        (Action::RemoveRoleFromProfile { role }, ResourceType::IamInstanceProfile) => client
            .remove_role_from_instance_profile()
            .instance_profile_name(id)
            .role_name(role)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("iam:RemoveRoleFromInstanceProfile", REGION, e)),
        _ => Err(crate::unsupported(op)),
    }
}

fn gone(e: ProviderError) -> Result<Option<Value>, ProviderError> {
    if e.kind == ErrorKind::NotFound {
        Ok(None)
    } else {
        Err(e)
    }
}

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
    let mut versions: Vec<PolicyVersion> = versions
        .iter()
        .map(|v| PolicyVersion {
            version_id: v.version_id().unwrap_or_default().to_string(),
            is_default: v.is_default_version(),
            created: v.create_date().map(timestamp),
        })
        .collect();
    versions.sort_by(|a, b| a.version_id.cmp(&b.version_id));
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
        "description": policy.description(),
        "attached_roles": roles,
    }))
}
