//! Restoring IAM: roles (with their inline policies), customer managed policies
//! (their default version's document) and instance profiles from the archive, then
//! the attachments and the profile's role, one call each.

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use decom_provider::{Details, ProviderError, RestoreAction, RestoreCall, Restored};
use serde_json::Value;

use super::{
    archived_model, created, description_of, invalid, is_code, present, text, unsupported,
};
use crate::calls::api_error;
use crate::iam::REGION;

const EXISTS: &[&str] = &["EntityAlreadyExists"];

pub(super) async fn restore(
    client: &Client,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    use decom_provider::ResourceType as T;
    let target = call.target.id.as_str();
    match (&call.action, call.target.ty) {
        (RestoreAction::Create { .. }, T::IamRole) => create_role(client, call).await,
        (RestoreAction::Create { .. }, T::IamPolicy) => create_policy(client, call).await,
        (RestoreAction::Create { .. }, T::IamInstanceProfile) => create_profile(client, call).await,
        (RestoreAction::AttachRolePolicy { policy_arn }, T::IamRole) => {
            client
                .attach_role_policy()
                .role_name(target)
                .policy_arn(policy_arn)
                .send()
                .await
                .map_err(|e| api_error("iam:AttachRolePolicy", REGION, e))?;
            Ok(created(target))
        }
        (RestoreAction::AttachUserPolicy { user }, T::IamPolicy) => {
            client
                .attach_user_policy()
                .user_name(user)
                .policy_arn(target)
                .send()
                .await
                .map_err(|e| api_error("iam:AttachUserPolicy", REGION, e))?;
            Ok(created(target))
        }
        (RestoreAction::AttachGroupPolicy { group }, T::IamPolicy) => {
            client
                .attach_group_policy()
                .group_name(group)
                .policy_arn(target)
                .send()
                .await
                .map_err(|e| api_error("iam:AttachGroupPolicy", REGION, e))?;
            Ok(created(target))
        }
        (RestoreAction::AddRoleToProfile { role }, T::IamInstanceProfile) => {
            add_role(client, target, role).await
        }
        _ => Err(unsupported(call)),
    }
}

fn tags(tags: &std::collections::BTreeMap<String, String>) -> Option<Vec<Tag>> {
    (!tags.is_empty()).then(|| {
        tags.iter()
            .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
            .collect()
    })
}

/// A policy document as IAM takes it: the JSON text.
fn document(doc: &Value) -> String {
    doc.to_string()
}

async fn create_role(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let description = description_of(call)?;
    let model = archived_model(&call.target, description)?;
    let Details::IamRole(role) = &model.details else {
        return Err(invalid(&call.target, "is not a role"));
    };
    let trust = role
        .trust_policy
        .as_ref()
        .ok_or_else(|| invalid(&call.target, "has no trust policy"))?;
    let max_session = description
        .get("max_session_duration")
        .and_then(Value::as_i64)
        .and_then(|s| i32::try_from(s).ok());
    let answer = client
        .create_role()
        .role_name(&model.name)
        .path(&role.path)
        .assume_role_policy_document(document(trust))
        .set_description(text(description, "description").map(str::to_string))
        .set_max_session_duration(max_session)
        .set_permissions_boundary(text(description, "permissions_boundary").map(str::to_string))
        .set_tags(tags(&model.tags))
        .send()
        .await;
    match answer {
        Ok(_) => {}
        Err(e) => {
            let error = api_error("iam:CreateRole", REGION, e);
            return if is_code(&error, EXISTS) {
                Ok(present(&model.name))
            } else {
                Err(error)
            };
        }
    }
    for inline in &role.inline_policies {
        let Some(doc) = &inline.document else {
            continue;
        };
        client
            .put_role_policy()
            .role_name(&model.name)
            .policy_name(&inline.name)
            .policy_document(document(doc))
            .send()
            .await
            .map_err(|e| api_error("iam:PutRolePolicy", REGION, e))?;
    }
    Ok(created(&model.name))
}

async fn create_policy(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let description = description_of(call)?;
    let model = archived_model(&call.target, description)?;
    let Details::IamPolicy(policy) = &model.details else {
        return Err(invalid(&call.target, "is not a policy"));
    };
    let doc = policy
        .document
        .as_ref()
        .ok_or_else(|| invalid(&call.target, "has no policy document"))?;
    let answer = client
        .create_policy()
        .policy_name(&model.name)
        .path(&policy.path)
        .policy_document(document(doc))
        .set_description(text(description, "description").map(str::to_string))
        .set_tags(tags(&model.tags))
        .send()
        .await;
    match answer {
        Ok(out) => {
            let arn = out
                .policy()
                .and_then(|p| p.arn())
                .ok_or_else(|| crate::calls::malformed("iam:CreatePolicy", REGION, "`Arn`"))?;
            Ok(created(arn))
        }
        Err(e) => {
            let error = api_error("iam:CreatePolicy", REGION, e);
            // A customer policy's ARN is its account, path and name: the one that
            // exists is the archived ARN.
            if is_code(&error, EXISTS) {
                Ok(present(&model.id))
            } else {
                Err(error)
            }
        }
    }
}

async fn create_profile(client: &Client, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let model = archived_model(&call.target, description_of(call)?)?;
    let Details::IamInstanceProfile(profile) = &model.details else {
        return Err(invalid(&call.target, "is not an instance profile"));
    };
    let answer = client
        .create_instance_profile()
        .instance_profile_name(&model.name)
        .path(&profile.path)
        .set_tags(tags(&model.tags))
        .send()
        .await;
    match answer {
        Ok(_) => Ok(created(&model.name)),
        Err(e) => {
            let error = api_error("iam:CreateInstanceProfile", REGION, e);
            if is_code(&error, EXISTS) {
                Ok(present(&model.name))
            } else {
                Err(error)
            }
        }
    }
}

async fn add_role(client: &Client, profile: &str, role: &str) -> Result<Restored, ProviderError> {
    // A profile holds one role: adding it again fails with `LimitExceeded`, so the
    // profile is read first.
    let out = client
        .get_instance_profile()
        .instance_profile_name(profile)
        .send()
        .await
        .map_err(|e| api_error("iam:GetInstanceProfile", REGION, e))?;
    let has_role = out
        .instance_profile()
        .is_some_and(|p| p.roles().iter().any(|r| r.role_name() == role));
    if has_role {
        return Ok(present(profile));
    }
    client
        .add_role_to_instance_profile()
        .instance_profile_name(profile)
        .role_name(role)
        .send()
        .await
        .map_err(|e| api_error("iam:AddRoleToInstanceProfile", REGION, e))?;
    Ok(created(profile))
}
