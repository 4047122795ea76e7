//! Restore: the provider's side of `decom restore`. Each [`RestoreCall`] the engine
//! sends (recreate a resource from its archived description, put back a rule, an
//! attachment, a role, targets) becomes the AWS calls it takes, one module per
//! service.

mod ec2;
mod ecs;
mod elbv2;
mod iam;
mod logs;
mod route53;

use decom_provider::{
    ProviderError, Resource, ResourceKey, RestoreAction, RestoreCall, Restored, Service,
};
use serde_json::Value;

use crate::AwsProvider;

pub(crate) use logs::import_events;

/// Makes one restore call.
pub(crate) async fn restore(
    provider: &AwsProvider,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    let target = &call.target;
    match target.ty.service() {
        Service::Ec2 => ec2::restore(&provider.region_clients(&target.region).ec2, call).await,
        Service::Iam => iam::restore(provider.iam(), call).await,
        Service::Elbv2 => {
            elbv2::restore(&provider.region_clients(&target.region).elbv2, call).await
        }
        Service::Logs => logs::restore(&provider.region_clients(&target.region).logs, call).await,
        Service::Ecs => ecs::restore(&provider.region_clients(&target.region).ecs, call).await,
        Service::Route53 => route53::restore(&provider.route53, call).await,
        _ => Err(unsupported(call)),
    }
}

/// A call the target's type does not have: the engine never makes one.
fn unsupported(call: &RestoreCall) -> ProviderError {
    ProviderError::new(
        format!("decom:restore:{}", call.action.name()),
        Some(&call.target.region),
        "UnsupportedOperation",
        format!("cannot {} `{}`", call.action.describe(), call.target),
    )
}

/// An archived description decom cannot recreate from (a hand-edited or truncated
/// archive, or a shape decom does not write).
fn invalid(target: &ResourceKey, what: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(
        "decom:restore",
        Some(&target.region),
        "InvalidArchive",
        format!("the archived description of `{target}` {what}"),
    )
}

/// The archived model of a `Create` call.
fn archived_model(target: &ResourceKey, description: &Value) -> Result<Resource, ProviderError> {
    let model = description
        .get("model")
        .ok_or_else(|| invalid(target, "has no `model`"))?;
    serde_json::from_value(model.clone())
        .map_err(|e| invalid(target, format_args!("is not a resource: {e}")))
}

/// The description of a `Create` call, or the unsupported error for any other.
fn description_of(call: &RestoreCall) -> Result<&Value, ProviderError> {
    match &call.action {
        RestoreAction::Create { description } => Ok(description),
        _ => Err(unsupported(call)),
    }
}

fn created(id: impl Into<String>) -> Restored {
    Restored {
        id: id.into(),
        present: false,
        ..Restored::default()
    }
}

fn present(id: impl Into<String>) -> Restored {
    Restored {
        id: id.into(),
        present: true,
        ..Restored::default()
    }
}

/// A string field of the description besides the model (`description`, …).
fn text<'a>(description: &'a Value, field: &str) -> Option<&'a str> {
    description
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The AWS error code of `error` is one of `codes`.
fn is_code(error: &ProviderError, codes: &[&str]) -> bool {
    codes.contains(&error.code.as_str())
}
