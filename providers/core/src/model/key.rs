//! How a resource is identified: its type, region and AWS id, owned
//! ([`ResourceKey`]) or borrowed from the resource ([`KeyRef`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{GLOBAL_REGION, ResourceType};

/// Identifies one resource: its type, region and AWS identifier (sg-…, i-…, eni-…,
/// the ARN for load balancers, listeners, rules, target groups and customer policies,
/// the name for roles, instance profiles and log groups).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceKey {
    #[serde(rename = "type")]
    pub ty: ResourceType,
    pub region: String,
    pub id: String,
}

impl ResourceKey {
    pub fn new(ty: ResourceType, region: impl Into<String>, id: impl Into<String>) -> Self {
        let region = if ty.is_global() {
            GLOBAL_REGION.to_string()
        } else {
            region.into()
        };
        ResourceKey {
            ty,
            region,
            id: id.into(),
        }
    }

    /// The Terraform-style address shown to users: `aws_lb.<id>`.
    pub fn address(&self) -> String {
        self.as_key_ref().address()
    }

    /// The key borrowed, to compare with [`KeyRef`]s.
    pub fn as_key_ref(&self) -> KeyRef<'_> {
        KeyRef {
            ty: self.ty,
            region: &self.region,
            id: &self.id,
        }
    }
}

/// A [`ResourceKey`] borrowed from the resource it names: the same fields, order and
/// address, without copying two strings per resource (the planner's index holds one
/// per resource of the account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyRef<'a> {
    pub ty: ResourceType,
    pub region: &'a str,
    pub id: &'a str,
}

impl<'a> KeyRef<'a> {
    /// The key of a resource of type `ty`: global types are filed under
    /// [`GLOBAL_REGION`], whatever `region` says (as [`ResourceKey::new`] does).
    pub fn new(ty: ResourceType, region: &'a str, id: &'a str) -> Self {
        let region = if ty.is_global() {
            GLOBAL_REGION
        } else {
            region
        };
        KeyRef { ty, region, id }
    }

    /// [`ResourceKey::address`], allocated once at its final size (`format!` starts
    /// empty and grows twice; plans build an address per step).
    pub fn address(&self) -> String {
        let ty = self.ty.as_str();
        let mut address = String::with_capacity(ty.len() + 1 + self.id.len());
        address.push_str(ty);
        address.push('.');
        address.push_str(self.id);
        address
    }

    pub fn to_key(&self) -> ResourceKey {
        ResourceKey {
            ty: self.ty,
            region: self.region.to_string(),
            id: self.id.to_string(),
        }
    }
}

impl fmt::Display for KeyRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.ty, self.id)
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.ty, self.id)
    }
}
