//! IAM at the edge: roles, customer managed policies and instance profiles, from SDK
//! shapes into decom's model (mostly from GetAccountAuthorizationDetails, a few pages
//! for the whole account); the IAM calls that delete them and prepare their deletion;
//! their archive descriptions (`archive`).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::Client;
use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
use aws_sdk_iam::types::{
    EntityType, InstanceProfile as SdkProfile, ManagedPolicyDetail, RoleDetail,
};
use decom_provider::{
    Action, Details, GLOBAL_REGION, InlinePolicy, InstanceProfile, Operation, Policy,
    PolicyVersion, ProviderError, Resource, ResourceType, Role,
};

use crate::calls::{api_error, bounded};
use crate::discover::{Denials, Found, Known};
use crate::text::{arn_name, policy_document, tag_map, timestamp};

mod archive;

pub(crate) use archive::{describe, describe_batch};

/// Per-policy IAM calls in flight (IAM's rate limits are account-wide and low).
const CONCURRENCY: usize = 4;

pub(crate) const REGION: Option<&str> = None;

/// `MaxItems` of the account-wide listings: IAM's largest page.
const IAM_PAGE: i32 = 1000;

pub(crate) async fn discover(
    client: &Client,
    types: &BTreeSet<ResourceType>,
    denials: &Denials,
    facts: bool,
) -> Result<Found, ProviderError> {
    let wants_roles = types.contains(&ResourceType::IamRole);
    let wants_policies = types.contains(&ResourceType::IamPolicy);
    let mut found = Found::default();
    if wants_roles || wants_policies {
        let details = account_details(client, wants_roles, wants_policies).await;
        if let Some(details) = denials.unless_denied(details)? {
            if wants_roles {
                found
                    .resources
                    .extend(details.roles().map(role_from_detail));
            }
            if wants_policies {
                let mut policies: Vec<Resource> = details
                    .policies()
                    .map(|p| details.policy_resource(p))
                    .collect();
                let arns: Vec<String> = policies.iter().map(|p| p.id.clone()).collect();
                let tags = if facts {
                    policies_tags(client, arns, &Known::new()).await
                } else {
                    // Read later, for the policies that need them.
                    Ok(vec![BTreeMap::new(); arns.len()])
                };
                if let Some(tags) = denials.unless_denied(tags)? {
                    for (policy, tags) in policies.iter_mut().zip(tags) {
                        policy.tags = tags;
                    }
                    found.resources.extend(policies);
                }
            }
        }
    }
    if types.contains(&ResourceType::IamInstanceProfile) {
        let profiles = denials
            .unless_denied(instance_profiles(client).await)?
            .unwrap_or_default();
        found
            .resources
            .extend(profiles.iter().map(profile_resource));
    }
    Ok(found)
}

/// The account's roles and customer managed policies as GetAccountAuthorizationDetails
/// gives them, a page per 1 000 entities; with the policies come the users and
/// groups, to tell whom a policy is attached to.
struct AccountDetails {
    pages: Vec<GetAccountAuthorizationDetailsOutput>,
    roles_of: BTreeMap<String, Vec<String>>,
    users_of: BTreeMap<String, Vec<String>>,
    groups_of: BTreeMap<String, Vec<String>>,
}

async fn account_details(
    client: &Client,
    roles: bool,
    policies: bool,
) -> Result<AccountDetails, ProviderError> {
    let mut request = client.get_account_authorization_details();
    if roles {
        request = request.filter(EntityType::Role);
    }
    if policies {
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
    let mut details = AccountDetails {
        pages,
        roles_of: BTreeMap::new(),
        users_of: BTreeMap::new(),
        groups_of: BTreeMap::new(),
    };
    let attach = |of: &mut BTreeMap<String, Vec<String>>, arn: Option<&str>, name: &str| {
        if let Some(arn) = arn {
            of.entry(arn.to_string())
                .or_default()
                .push(name.to_string());
        }
    };
    for page in &details.pages {
        for role in page.role_detail_list() {
            for policy in role.attached_managed_policies() {
                let name = role.role_name().unwrap_or_default();
                attach(&mut details.roles_of, policy.policy_arn(), name);
            }
        }
        for user in page.user_detail_list() {
            for policy in user.attached_managed_policies() {
                let name = user.user_name().unwrap_or_default();
                attach(&mut details.users_of, policy.policy_arn(), name);
            }
        }
        for group in page.group_detail_list() {
            for policy in group.attached_managed_policies() {
                let name = group.group_name().unwrap_or_default();
                attach(&mut details.groups_of, policy.policy_arn(), name);
            }
        }
    }
    for names in details
        .roles_of
        .values_mut()
        .chain(details.users_of.values_mut())
        .chain(details.groups_of.values_mut())
    {
        names.sort();
    }
    Ok(details)
}

impl AccountDetails {
    fn roles(&self) -> impl Iterator<Item = &RoleDetail> {
        self.pages.iter().flat_map(|p| p.role_detail_list())
    }

    fn policies(&self) -> impl Iterator<Item = &ManagedPolicyDetail> {
        self.pages.iter().flat_map(|p| p.policies())
    }

    /// The policy in decom's model, without its tags (not in the account details).
    fn policy_resource(&self, p: &ManagedPolicyDetail) -> Resource {
        let arn = p.arn().unwrap_or_default().to_string();
        let default_version = p.default_version_id().unwrap_or_default();
        let versions = policy_versions(p.policy_version_list());
        let document = p
            .policy_version_list()
            .iter()
            .find(|v| v.version_id() == Some(default_version))
            .and_then(|v| v.document())
            .map(policy_document);
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
                attached_users: self.users_of.get(&arn).cloned().unwrap_or_default(),
                attached_groups: self.groups_of.get(&arn).cloned().unwrap_or_default(),
                document,
                created: p.create_date().map(timestamp),
            }),
            id: arn,
        }
    }
}

/// A policy's versions in decom's model, by version id.
fn policy_versions(versions: &[aws_sdk_iam::types::PolicyVersion]) -> Vec<PolicyVersion> {
    let mut versions: Vec<PolicyVersion> = versions
        .iter()
        .map(|v| PolicyVersion {
            version_id: v.version_id().unwrap_or_default().to_string(),
            is_default: v.is_default_version(),
            created: v.create_date().map(timestamp),
        })
        .collect();
    versions.sort_by(|a, b| a.version_id.cmp(&b.version_id));
    versions
}

/// Every instance profile, with its roles and tags: ListInstanceProfiles also finds
/// the profiles that hold no role, which the roles' own profile lists cannot show.
async fn instance_profiles(client: &Client) -> Result<Vec<SdkProfile>, ProviderError> {
    client
        .list_instance_profiles()
        .max_items(IAM_PAGE)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("iam:ListInstanceProfiles", REGION, e))
}

/// The tags of each policy, in the order of `arns`: not in the account details, so
/// one ListPolicyTags per policy, unless `known` has them.
async fn policies_tags(
    client: &Client,
    arns: Vec<String>,
    known: &Known<'_>,
) -> Result<Vec<BTreeMap<String, String>>, ProviderError> {
    bounded(arns, CONCURRENCY, |arn| {
        let client = client.clone();
        let known = known.get(arn.as_str()).map(|r| r.tags.clone());
        async move {
            match known {
                Some(tags) => Ok(tags),
                None => policy_tags(&client, &arn).await,
            }
        }
    })
    .await
}

pub(crate) async fn policy_tags(
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
