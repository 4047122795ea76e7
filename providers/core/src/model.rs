//! The resource model: what decom knows of one AWS resource, in its own types.
//!
//! Every reference between resources is derived from the typed details by
//! [`Resource::references`], so the planner, the simulator and the audit read the
//! links from one place.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The region IAM resources (which are global) are filed under.
pub const GLOBAL_REGION: &str = "global";

/// A resource type, named as in Terraform's AWS provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ResourceType {
    #[serde(rename = "aws_security_group")]
    SecurityGroup,
    #[serde(rename = "aws_network_interface")]
    NetworkInterface,
    #[serde(rename = "aws_instance")]
    Instance,
    #[serde(rename = "aws_lb")]
    Lb,
    #[serde(rename = "aws_lb_listener")]
    LbListener,
    #[serde(rename = "aws_lb_listener_rule")]
    LbListenerRule,
    #[serde(rename = "aws_lb_target_group")]
    LbTargetGroup,
    #[serde(rename = "aws_iam_role")]
    IamRole,
    #[serde(rename = "aws_iam_policy")]
    IamPolicy,
    #[serde(rename = "aws_iam_instance_profile")]
    IamInstanceProfile,
    #[serde(rename = "aws_cloudwatch_log_group")]
    CloudwatchLogGroup,
}

impl ResourceType {
    pub const ALL: [ResourceType; 11] = [
        ResourceType::SecurityGroup,
        ResourceType::NetworkInterface,
        ResourceType::Instance,
        ResourceType::Lb,
        ResourceType::LbListener,
        ResourceType::LbListenerRule,
        ResourceType::LbTargetGroup,
        ResourceType::IamRole,
        ResourceType::IamPolicy,
        ResourceType::IamInstanceProfile,
        ResourceType::CloudwatchLogGroup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::SecurityGroup => "aws_security_group",
            ResourceType::NetworkInterface => "aws_network_interface",
            ResourceType::Instance => "aws_instance",
            ResourceType::Lb => "aws_lb",
            ResourceType::LbListener => "aws_lb_listener",
            ResourceType::LbListenerRule => "aws_lb_listener_rule",
            ResourceType::LbTargetGroup => "aws_lb_target_group",
            ResourceType::IamRole => "aws_iam_role",
            ResourceType::IamPolicy => "aws_iam_policy",
            ResourceType::IamInstanceProfile => "aws_iam_instance_profile",
            ResourceType::CloudwatchLogGroup => "aws_cloudwatch_log_group",
        }
    }

    /// IAM is global: its resources live in [`GLOBAL_REGION`] and are discovered once.
    pub fn is_global(self) -> bool {
        matches!(
            self,
            ResourceType::IamRole | ResourceType::IamPolicy | ResourceType::IamInstanceProfile
        )
    }

    /// The AWS service that owns the type, for discovery grouping and statistics.
    pub fn service(self) -> Service {
        match self {
            ResourceType::SecurityGroup
            | ResourceType::NetworkInterface
            | ResourceType::Instance => Service::Ec2,
            ResourceType::Lb
            | ResourceType::LbListener
            | ResourceType::LbListenerRule
            | ResourceType::LbTargetGroup => Service::Elbv2,
            ResourceType::IamRole | ResourceType::IamPolicy | ResourceType::IamInstanceProfile => {
                Service::Iam
            }
            ResourceType::CloudwatchLogGroup => Service::Logs,
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Terraform aliases accepted on input (`aws_alb` is the older name of `aws_lb`).
const TYPE_ALIASES: [(&str, ResourceType); 4] = [
    ("aws_alb", ResourceType::Lb),
    ("aws_alb_listener", ResourceType::LbListener),
    ("aws_alb_listener_rule", ResourceType::LbListenerRule),
    ("aws_alb_target_group", ResourceType::LbTargetGroup),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown resource type `{0}`")]
pub struct UnknownType(pub String);

impl FromStr for ResourceType {
    type Err = UnknownType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .or_else(|| {
                TYPE_ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == s)
                    .map(|(_, t)| *t)
            })
            .ok_or_else(|| UnknownType(s.to_string()))
    }
}

/// The AWS services decom talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Ec2,
    Elbv2,
    Iam,
    Logs,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Ec2 => "ec2",
            Service::Elbv2 => "elbv2",
            Service::Iam => "iam",
            Service::Logs => "logs",
        })
    }
}

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

impl KeyRef<'_> {
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

/// One discovered resource. Deserialized by hand (below), to the same shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    pub id: String,
    pub name: String,
    pub region: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(flatten)]
    pub details: Details,
}

impl Resource {
    pub fn ty(&self) -> ResourceType {
        self.details.ty()
    }

    pub fn key(&self) -> ResourceKey {
        self.key_ref().to_key()
    }

    /// [`Resource::key`] without copying: the region of a global type is
    /// [`GLOBAL_REGION`], whatever the snapshot says.
    pub fn key_ref(&self) -> KeyRef<'_> {
        let ty = self.ty();
        let region = if ty.is_global() {
            GLOBAL_REGION
        } else {
            self.region.as_str()
        };
        KeyRef {
            ty,
            region,
            id: &self.id,
        }
    }

    /// Every link from this resource to another, derived from its details.
    pub fn references(&self) -> Vec<Reference> {
        let mut refs = Vec::new();
        self.for_each_reference(|kind, ty, region, id| {
            refs.push(Reference::new(kind, ResourceKey::new(ty, region, id)));
        });
        refs
    }

    /// [`Resource::references`] without building them: `f(kind, type, region, id)`
    /// per link, for the index over hundreds of thousands of resources.
    pub fn for_each_reference(&self, mut f: impl FnMut(RefKind, ResourceType, &str, &str)) {
        let region = self.region.as_str();
        match &self.details {
            Details::SecurityGroup(sg) => {
                for rule in &sg.rules {
                    if let Some(group) = &rule.referenced_group
                        && group.account_id.is_none()
                        && group.group_id != self.id
                    {
                        f(
                            RefKind::RuleReferencesGroup {
                                rule_id: rule.rule_id.clone(),
                            },
                            ResourceType::SecurityGroup,
                            region,
                            &group.group_id,
                        );
                    }
                }
            }
            Details::NetworkInterface(eni) => {
                for sg in &eni.security_groups {
                    f(
                        RefKind::UsesSecurityGroup,
                        ResourceType::SecurityGroup,
                        region,
                        sg,
                    );
                }
                if let Some(instance) = eni.attachment.as_ref().and_then(|a| a.instance_id.as_ref())
                {
                    f(
                        RefKind::AttachedToInstance,
                        ResourceType::Instance,
                        region,
                        instance,
                    );
                }
                if let Some(manager) = &eni.managed_by {
                    f(RefKind::ManagedBy, manager.ty, &manager.region, &manager.id);
                }
            }
            Details::Instance(instance) => {
                if !instance.state.is_gone() {
                    for sg in &instance.security_groups {
                        f(
                            RefKind::UsesSecurityGroup,
                            ResourceType::SecurityGroup,
                            region,
                            sg,
                        );
                    }
                    if let Some(profile) = &instance.instance_profile {
                        f(
                            RefKind::UsesInstanceProfile,
                            ResourceType::IamInstanceProfile,
                            region,
                            profile,
                        );
                    }
                }
            }
            Details::Lb(lb) => {
                for sg in &lb.security_groups {
                    f(
                        RefKind::UsesSecurityGroup,
                        ResourceType::SecurityGroup,
                        region,
                        sg,
                    );
                }
            }
            Details::LbListener(listener) => {
                f(
                    RefKind::ListenerOf,
                    ResourceType::Lb,
                    region,
                    &listener.load_balancer,
                );
                for tg in &listener.forward_target_groups {
                    f(RefKind::ForwardsTo, ResourceType::LbTargetGroup, region, tg);
                }
            }
            Details::LbListenerRule(rule) => {
                f(
                    RefKind::RuleOf,
                    ResourceType::LbListener,
                    region,
                    &rule.listener,
                );
                for tg in &rule.forward_target_groups {
                    f(RefKind::ForwardsTo, ResourceType::LbTargetGroup, region, tg);
                }
            }
            Details::LbTargetGroup(tg) => {
                for target in &tg.targets {
                    if tg.target_type == "instance" {
                        f(
                            RefKind::RegistersTarget,
                            ResourceType::Instance,
                            region,
                            &target.id,
                        );
                    }
                }
            }
            Details::IamRole(role) => {
                for policy in &role.attached_policies {
                    if is_customer_policy(policy) {
                        f(
                            RefKind::AttachedPolicy,
                            ResourceType::IamPolicy,
                            region,
                            policy,
                        );
                    }
                }
            }
            Details::IamPolicy(_) => {}
            Details::IamInstanceProfile(profile) => {
                for role in &profile.roles {
                    f(RefKind::ContainsRole, ResourceType::IamRole, region, role);
                }
            }
            Details::CloudwatchLogGroup(_) => {}
        }
    }
}

/// AWS managed policies (`arn:aws:iam::aws:policy/…`) are not resources decom can
/// delete; only customer managed ones are modelled as `aws_iam_policy`.
pub fn is_customer_policy(arn: &str) -> bool {
    !arn.contains(":iam::aws:policy/")
}

/// The per-type part of a resource. The JSON tag is the resource type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Details {
    #[serde(rename = "aws_security_group")]
    SecurityGroup(SecurityGroup),
    #[serde(rename = "aws_network_interface")]
    NetworkInterface(NetworkInterface),
    #[serde(rename = "aws_instance")]
    Instance(Instance),
    #[serde(rename = "aws_lb")]
    Lb(LoadBalancer),
    #[serde(rename = "aws_lb_listener")]
    LbListener(Listener),
    #[serde(rename = "aws_lb_listener_rule")]
    LbListenerRule(ListenerRule),
    #[serde(rename = "aws_lb_target_group")]
    LbTargetGroup(TargetGroup),
    #[serde(rename = "aws_iam_role")]
    IamRole(Role),
    #[serde(rename = "aws_iam_policy")]
    IamPolicy(Policy),
    #[serde(rename = "aws_iam_instance_profile")]
    IamInstanceProfile(InstanceProfile),
    #[serde(rename = "aws_cloudwatch_log_group")]
    CloudwatchLogGroup(LogGroup),
}

impl Details {
    pub fn ty(&self) -> ResourceType {
        match self {
            Details::SecurityGroup(_) => ResourceType::SecurityGroup,
            Details::NetworkInterface(_) => ResourceType::NetworkInterface,
            Details::Instance(_) => ResourceType::Instance,
            Details::Lb(_) => ResourceType::Lb,
            Details::LbListener(_) => ResourceType::LbListener,
            Details::LbListenerRule(_) => ResourceType::LbListenerRule,
            Details::LbTargetGroup(_) => ResourceType::LbTargetGroup,
            Details::IamRole(_) => ResourceType::IamRole,
            Details::IamPolicy(_) => ResourceType::IamPolicy,
            Details::IamInstanceProfile(_) => ResourceType::IamInstanceProfile,
            Details::CloudwatchLogGroup(_) => ResourceType::CloudwatchLogGroup,
        }
    }
}

// Reading `Resource` without `#[serde(flatten)]`: flatten buffers every resource into
// serde's intermediate `Content` tree (twice, with the internally tagged `Details`)
// before building it, which dominated loading a 100k-resource snapshot
// (docs/performance.md). Snapshots written by decom put `type` before the details'
// fields, so the details are read straight from the stream; any other key order
// falls back to a buffered read of the same shape.
impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ResourceVisitor)
    }
}

/// The fields every resource has, beside its details.
#[derive(Default)]
struct CommonFields {
    id: Option<String>,
    name: Option<String>,
    region: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

impl CommonFields {
    /// Reads the value of `key` if it is a common field; false for any other key.
    fn read<'de, A: serde::de::MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        use serde::de::Error;
        fn set<T, E: Error>(slot: &mut Option<T>, value: T, field: &'static str) -> Result<(), E> {
            if slot.replace(value).is_some() {
                return Err(E::duplicate_field(field));
            }
            Ok(())
        }
        match key {
            "id" => set(&mut self.id, map.next_value()?, "id")?,
            "name" => set(&mut self.name, map.next_value()?, "name")?,
            "region" => set(&mut self.region, map.next_value()?, "region")?,
            "tags" => set(&mut self.tags, map.next_value()?, "tags")?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish<E: serde::de::Error>(self, details: Details) -> Result<Resource, E> {
        Ok(Resource {
            id: self.id.ok_or_else(|| E::missing_field("id"))?,
            name: self.name.unwrap_or_default(),
            region: self.region.ok_or_else(|| E::missing_field("region"))?,
            tags: self.tags.unwrap_or_default(),
            details,
        })
    }
}

/// A map key, borrowed from the input when it can be.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct ResourceVisitor;

impl<'de> serde::de::Visitor<'de> for ResourceVisitor {
    type Value = Resource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a resource")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Resource, A::Error> {
        use serde::de::Error;
        let mut common = CommonFields::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if common.read(&key, &mut map)? {
                continue;
            }
            if key == "type" {
                let ty: ResourceType = map.next_value()?;
                let details = {
                    let rest = serde::de::value::MapAccessDeserializer::new(DetailFields {
                        map: &mut map,
                        common: &mut common,
                    });
                    Details::read(ty, rest)?
                };
                return common.finish(details);
            }
            // A hand-written snapshot with details before `type`: buffer the rest.
            let mut rest = serde_json::Map::new();
            rest.insert(key.into_owned(), map.next_value()?);
            while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                if !common.read(&key, &mut map)? {
                    rest.insert(key.into_owned(), map.next_value()?);
                }
            }
            let details =
                Details::deserialize(serde_json::Value::Object(rest)).map_err(A::Error::custom)?;
            return common.finish(details);
        }
        Err(A::Error::missing_field("type"))
    }
}

/// The rest of a resource's map after `type`, as the details see it: the common
/// fields are taken out on the way.
struct DetailFields<'a, A> {
    map: &'a mut A,
    common: &'a mut CommonFields,
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for DetailFields<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(Key(key)) = self.map.next_key::<Key<'de>>()? {
            if self.common.read(&key, self.map)? {
                continue;
            }
            return seed
                .deserialize(serde::de::value::CowStrDeserializer::new(key))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

impl Details {
    /// The details of a resource of type `ty` from the fields that follow its `type`.
    fn read<'de, D: serde::Deserializer<'de>>(
        ty: ResourceType,
        fields: D,
    ) -> Result<Self, D::Error> {
        Ok(match ty {
            ResourceType::SecurityGroup => {
                Details::SecurityGroup(Deserialize::deserialize(fields)?)
            }
            ResourceType::NetworkInterface => {
                Details::NetworkInterface(Deserialize::deserialize(fields)?)
            }
            ResourceType::Instance => Details::Instance(Deserialize::deserialize(fields)?),
            ResourceType::Lb => Details::Lb(Deserialize::deserialize(fields)?),
            ResourceType::LbListener => Details::LbListener(Deserialize::deserialize(fields)?),
            ResourceType::LbListenerRule => {
                Details::LbListenerRule(Deserialize::deserialize(fields)?)
            }
            ResourceType::LbTargetGroup => {
                Details::LbTargetGroup(Deserialize::deserialize(fields)?)
            }
            ResourceType::IamRole => Details::IamRole(Deserialize::deserialize(fields)?),
            ResourceType::IamPolicy => Details::IamPolicy(Deserialize::deserialize(fields)?),
            ResourceType::IamInstanceProfile => {
                Details::IamInstanceProfile(Deserialize::deserialize(fields)?)
            }
            ResourceType::CloudwatchLogGroup => {
                Details::CloudwatchLogGroup(Deserialize::deserialize(fields)?)
            }
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityGroup {
    pub vpc_id: Option<String>,
    pub description: String,
    /// The VPC's default group, which AWS refuses to delete (`CannotDelete`).
    pub is_default: bool,
    pub rules: Vec<SecurityGroupRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityGroupRule {
    /// `sgr-…`; stable across discoveries.
    pub rule_id: String,
    pub direction: RuleDirection,
    /// `tcp`, `udp`, `icmp` or `-1` for all.
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ipv4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr_ipv6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referenced_group: Option<GroupReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleDirection {
    #[default]
    Ingress,
    Egress,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupReference {
    pub group_id: String,
    /// Set when the group belongs to another account: recorded, never a reference
    /// decom can follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkInterface {
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub description: String,
    /// `interface`, `lambda`, `network_load_balancer`, …
    pub interface_type: String,
    /// `available`, `in-use`, …
    pub status: String,
    /// Created and managed by an AWS service on the account's behalf.
    pub requester_managed: bool,
    pub requester_id: Option<String>,
    pub security_groups: Vec<String>,
    pub attachment: Option<EniAttachment>,
    /// The resource that manages this interface, when decom can tell (a load
    /// balancer's ENIs: owner `amazon-elb`, description `ELB app/<name>/<id>`).
    pub managed_by: Option<ResourceKey>,
}

impl NetworkInterface {
    /// A requester-managed interface that decom cannot attribute to a resource it
    /// models (a Lambda function's, an RDS instance's, a VPC endpoint's, …).
    pub fn unmodelled_manager(&self) -> bool {
        self.requester_managed && self.managed_by.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EniAttachment {
    pub instance_id: Option<String>,
    pub device_index: Option<i32>,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Instance {
    pub state: InstanceState,
    pub instance_type: String,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// The instance profile's name.
    pub instance_profile: Option<String>,
    /// `disableApiTermination`: AWS refuses termination (`OperationNotPermitted`).
    pub termination_protection: bool,
    pub launch_time: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    #[default]
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
}

impl InstanceState {
    pub fn is_gone(self) -> bool {
        self == InstanceState::Terminated
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadBalancer {
    /// `application`, `network` or `gateway`.
    pub lb_type: String,
    pub scheme: String,
    pub dns_name: String,
    pub vpc_id: Option<String>,
    pub security_groups: Vec<String>,
    /// Attribute `deletion_protection.enabled`: AWS refuses deletion
    /// (`OperationNotPermitted`).
    pub deletion_protection: bool,
    pub state: String,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Listener {
    /// The load balancer's ARN.
    pub load_balancer: String,
    pub port: Option<i32>,
    pub protocol: String,
    /// Target groups the default action forwards to.
    pub forward_target_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListenerRule {
    /// The listener's ARN.
    pub listener: String,
    pub priority: String,
    /// A readable summary of the conditions (`path-pattern=/api/*`).
    pub conditions: Vec<String>,
    pub forward_target_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetGroup {
    /// `instance`, `ip`, `lambda` or `alb`.
    pub target_type: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
    pub vpc_id: Option<String>,
    /// ARNs of the load balancers that route to it (as AWS reports them).
    pub load_balancers: Vec<String>,
    pub targets: Vec<Target>,
}

impl TargetGroup {
    pub fn healthy_targets(&self) -> usize {
        self.targets
            .iter()
            .filter(|t| t.health == "healthy")
            .count()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Target {
    pub id: String,
    pub port: Option<i32>,
    /// `healthy`, `unhealthy`, `draining`, `initial`, `unused`, …
    pub health: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Role {
    pub arn: String,
    pub path: String,
    /// The trust (assume role) policy document.
    pub trust_policy: Option<serde_json::Value>,
    /// ARNs of attached managed policies (AWS managed ones included).
    pub attached_policies: Vec<String>,
    pub inline_policies: Vec<InlinePolicy>,
    pub last_used: Option<String>,
    pub created: Option<String>,
    /// Service-linked roles (path `/aws-service-role/`) are managed by AWS.
    pub service_linked: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InlinePolicy {
    pub name: String,
    pub document: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub path: String,
    pub default_version_id: String,
    pub versions: Vec<PolicyVersion>,
    /// AWS's attachment count: roles, users and groups together.
    pub attachment_count: u32,
    /// Users and groups (not modelled as resources) the policy is attached to.
    pub attached_users: Vec<String>,
    pub attached_groups: Vec<String>,
    /// The default version's document, kept for the archive.
    pub document: Option<serde_json::Value>,
    pub created: Option<String>,
}

impl Policy {
    pub fn non_default_versions(&self) -> impl Iterator<Item = &PolicyVersion> {
        self.versions.iter().filter(|v| !v.is_default)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyVersion {
    pub version_id: String,
    pub is_default: bool,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceProfile {
    pub arn: String,
    pub path: String,
    /// Role names (AWS allows at most one).
    pub roles: Vec<String>,
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogGroup {
    pub arn: String,
    pub retention_days: Option<i32>,
    pub stored_bytes: Option<u64>,
    pub created: Option<String>,
    pub last_event: Option<String>,
    pub kms_key_id: Option<String>,
}

/// How one resource points at another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefKind {
    /// An ENI, instance or load balancer uses the security group.
    UsesSecurityGroup,
    /// A rule of the group (`from`) names the group `to` as source or destination.
    RuleReferencesGroup { rule_id: String },
    /// The ENI is attached to the instance.
    AttachedToInstance,
    /// The requester-managed ENI belongs to the resource (a load balancer's ENIs).
    ManagedBy,
    /// The listener belongs to the load balancer.
    ListenerOf,
    /// The rule belongs to the listener.
    RuleOf,
    /// The listener's default action or the rule forwards to the target group.
    ForwardsTo,
    /// The target group has the instance registered as a target.
    RegistersTarget,
    /// The instance runs with the instance profile.
    UsesInstanceProfile,
    /// The instance profile holds the role.
    ContainsRole,
    /// The managed policy is attached to the role.
    AttachedPolicy,
}

impl RefKind {
    /// How the link reads in a reason or a path: `<from> <verb> <to>`.
    pub fn verb(&self) -> &'static str {
        match self {
            RefKind::UsesSecurityGroup => "uses security group",
            RefKind::RuleReferencesGroup { .. } => "has a rule referencing",
            RefKind::AttachedToInstance => "is attached to",
            RefKind::ManagedBy => "is managed by",
            RefKind::ListenerOf => "is a listener of",
            RefKind::RuleOf => "is a rule of",
            RefKind::ForwardsTo => "forwards to",
            RefKind::RegistersTarget => "has registered target",
            RefKind::UsesInstanceProfile => "uses instance profile",
            RefKind::ContainsRole => "contains role",
            RefKind::AttachedPolicy => "has attached policy",
        }
    }
}

/// A link from the resource that holds it to `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reference {
    #[serde(flatten)]
    pub kind: RefKind,
    pub to: ResourceKey,
}

impl Reference {
    pub fn new(kind: RefKind, to: ResourceKey) -> Self {
        Reference { kind, to }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role() -> Resource {
        Resource {
            id: "app-role".into(),
            name: "app-role".into(),
            region: GLOBAL_REGION.into(),
            tags: [("Service".to_string(), "app".to_string())].into(),
            details: Details::IamRole(Role {
                attached_policies: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                ..Role::default()
            }),
        }
    }

    #[test]
    fn a_resource_reads_back_whatever_the_key_order() {
        let expected = role();
        let canonical = serde_json::to_value(&expected).unwrap();
        let serde_json::Value::Object(fields) = canonical.clone() else {
            panic!("a resource is an object");
        };
        // As written (`type` before the details), `type` last, common fields last.
        let mut type_last: Vec<(String, serde_json::Value)> = fields.clone().into_iter().collect();
        type_last.sort_by_key(|(k, _)| k == "type");
        let mut common_last: Vec<(String, serde_json::Value)> = fields.into_iter().collect();
        common_last.sort_by_key(|(k, _)| ["id", "name", "region", "tags"].contains(&k.as_str()));
        for order in [type_last, common_last] {
            let text = format!(
                "{{{}}}",
                order
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(k.as_str())))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let read: Resource = serde_json::from_str(&text).unwrap();
            assert_eq!(read, expected, "{text}");
        }
        let read: Resource = serde_json::from_value(canonical).unwrap();
        assert_eq!(read, expected);
    }

    #[test]
    fn a_resource_without_id_or_type_is_refused() {
        let missing_id = r#"{"region":"us-east-1","type":"aws_cloudwatch_log_group"}"#;
        assert!(serde_json::from_str::<Resource>(missing_id).is_err());
        let missing_type = r#"{"id":"x","region":"us-east-1"}"#;
        assert!(serde_json::from_str::<Resource>(missing_type).is_err());
        let unknown_type = r#"{"id":"x","region":"us-east-1","type":"aws_vpc"}"#;
        assert!(serde_json::from_str::<Resource>(unknown_type).is_err());
        let minimal = r#"{"id":"/ecs/x","region":"us-east-1","type":"aws_cloudwatch_log_group"}"#;
        let read: Resource = serde_json::from_str(minimal).unwrap();
        assert_eq!(read.name, "");
        assert!(read.tags.is_empty());
    }
}
