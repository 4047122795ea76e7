//! Restore in the simulated account: `decom restore`'s `Create` calls recreate what an
//! apply deleted, from its archived description, under AWS's rules for creation —
//! what the resource names (its VPC and subnets, load balancer, listener, target
//! groups, security groups) must exist, a resource of the same name is `present`,
//! and the new resource gets new ids as AWS would give them. The later calls (rules,
//! attachments, roles, targets, log events) are in `restore_links.rs`; ECS's rules
//! in `restore_ecs.rs`.

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    Details, GLOBAL_REGION, LoadBalancer, NetworkInterface, Policy, PolicyVersion, Resource,
    ResourceKey, ResourceType, Restorability, RestoreAction, RestoreCall, Restored, RuleDirection,
    SecurityGroup, SecurityGroupRule, restorability,
};
use tokio::time::Instant;

use super::Account;
use super::route53::same_record;
use crate::answers::{Refusal, not_found};
use crate::provider::hash_of;

/// The creation time stamped on what the simulator creates (it keeps no calendar).
pub(crate) const RESTORED_AT: &str = "2026-01-01T00:00:00Z";

/// What the simulator keeps for restores: the networks that exist, a counter that
/// makes new ids, and the log events imported.
#[derive(Debug, Clone, Default)]
pub(crate) struct RestoreState {
    /// The VPCs that exist: those any resource of the snapshot is in.
    vpcs: BTreeSet<String>,
    /// The subnets that exist (those any resource of the snapshot is in), each with
    /// its VPC when a resource says it.
    subnets: BTreeMap<String, Option<String>>,
    /// Resources and rules created so far: each new id hashes it in.
    created: u64,
    /// Imported log events per log group, in their order.
    pub(super) log_events: BTreeMap<ResourceKey, Vec<serde_json::Value>>,
    /// The highest revision of each task definition family (region, family) ever
    /// registered: ECS never gives a number twice.
    revisions: BTreeMap<(String, String), u32>,
}

impl RestoreState {
    /// The networks the snapshot's resources are in.
    pub(crate) fn from_resources<'a>(resources: impl IntoIterator<Item = &'a Resource>) -> Self {
        let mut state = RestoreState::default();
        for resource in resources {
            let (vpc, subnets): (Option<&String>, Vec<&String>) = match &resource.details {
                Details::SecurityGroup(sg) => (sg.vpc_id.as_ref(), Vec::new()),
                Details::NetworkInterface(eni) => {
                    (eni.vpc_id.as_ref(), eni.subnet_id.iter().collect())
                }
                Details::Instance(i) => (i.vpc_id.as_ref(), Vec::new()),
                Details::Lb(lb) => (lb.vpc_id.as_ref(), Vec::new()),
                Details::LbTargetGroup(tg) => (tg.vpc_id.as_ref(), Vec::new()),
                Details::EcsService(s) => (None, s.subnets.iter().collect()),
                Details::EcsTaskDefinition(td) => {
                    let highest = state
                        .revisions
                        .entry((resource.region.clone(), td.family.clone()))
                        .or_default();
                    *highest = (*highest).max(td.revision);
                    (None, Vec::new())
                }
                _ => (None, Vec::new()),
            };
            state.vpcs.extend(vpc.cloned());
            for subnet in subnets {
                let known = state.subnets.entry(subnet.clone()).or_default();
                if known.is_none() {
                    *known = vpc.cloned();
                }
            }
        }
        state
    }

    /// Removes a VPC (with its subnets) or a subnet, as if deleted outside decom.
    pub(crate) fn remove_network(&mut self, id: &str) {
        self.vpcs.remove(id);
        self.subnets
            .retain(|subnet, vpc| subnet != id && vpc.as_deref() != Some(id));
    }

    /// The revision a new registration of `family` gets: one more than the highest
    /// it had, which is at least `archived` (that revision existed in the account,
    /// even when the loaded snapshot was taken after its deletion).
    pub(super) fn next_revision(&mut self, region: &str, family: &str, archived: u32) -> u32 {
        let highest = self
            .revisions
            .entry((region.to_string(), family.to_string()))
            .or_default();
        *highest = (*highest).max(archived) + 1;
        *highest
    }

    fn subnets_of(&self, vpc: &str) -> Vec<String> {
        self.subnets
            .iter()
            .filter(|(_, v)| v.as_deref() == Some(vpc))
            .map(|(subnet, _)| subnet.clone())
            .collect()
    }
}

/// The archived resource in a description: `{"model": …, …extras}` as the AWS
/// provider writes it, or the bare resource as the simulator's `describe` gives it.
fn archived_model(description: &serde_json::Value) -> Result<Resource, Refusal> {
    let model = description.get("model").unwrap_or(description);
    serde_json::from_value(model.clone()).map_err(|e| {
        Refusal::new(
            "ValidationError",
            format!("the description is not a resource of decom's model: {e}"),
        )
    })
}

/// The subnets an archived load balancer was in, when the description says (the AWS
/// provider's `availability_zones`).
fn archived_subnets(description: &serde_json::Value) -> Option<Vec<String>> {
    let zones = description.get("availability_zones")?.as_array()?;
    Some(
        zones
            .iter()
            .filter_map(|z| z.get("subnet_id")?.as_str().map(str::to_string))
            .collect(),
    )
}

/// AWS's default egress rule of a new VPC security group (without its id).
fn egress_all() -> SecurityGroupRule {
    SecurityGroupRule {
        direction: RuleDirection::Egress,
        protocol: "-1".into(),
        cidr_ipv4: Some("0.0.0.0/0".into()),
        ..Default::default()
    }
}

/// Whether AWS counts two rules as the same permission (`InvalidPermission.Duplicate`):
/// everything but the id and the description.
pub(super) fn same_permission(a: &SecurityGroupRule, b: &SecurityGroupRule) -> bool {
    a.direction == b.direction
        && a.protocol == b.protocol
        && (a.protocol == "-1" || (a.from_port == b.from_port && a.to_port == b.to_port))
        && a.cidr_ipv4 == b.cidr_ipv4
        && a.cidr_ipv6 == b.cidr_ipv6
        && a.prefix_list_id == b.prefix_list_id
        && a.referenced_group.as_ref().map(|g| &g.group_id)
            == b.referenced_group.as_ref().map(|g| &g.group_id)
}

/// The part of an ELB ARN after `:<kind>/`: `app/web/50dc6c495c0c9188`.
fn arn_suffix<'a>(arn: &'a str, kind: &str) -> &'a str {
    arn.split_once(&format!(":{kind}/"))
        .map_or("", |(_, suffix)| suffix)
}

fn present(id: &str) -> Restored {
    Restored {
        id: id.to_string(),
        present: true,
        ..Restored::default()
    }
}

impl Account {
    /// Makes one restore call.
    pub fn restore(&mut self, call: &RestoreCall, now: Instant) -> Result<Restored, Refusal> {
        self.advance(now);
        let target = &call.target;
        match &call.action {
            RestoreAction::Create { description } => self.create(target, description),
            RestoreAction::AuthorizeRule { rule } => self.authorize_rule(target, rule),
            RestoreAction::AttachRolePolicy { policy_arn } => {
                self.attach_role_policy(target, policy_arn)
            }
            RestoreAction::AttachUserPolicy { user } => self.attach_policy_to(target, user, true),
            RestoreAction::AttachGroupPolicy { group } => {
                self.attach_policy_to(target, group, false)
            }
            RestoreAction::AddRoleToProfile { role } => self.add_role_to_profile(target, role),
            RestoreAction::RegisterTargets { targets } => self.register_targets(target, targets),
        }
    }

    /// Removes a VPC (with its subnets) or a subnet, as if deleted outside decom.
    pub fn remove_network(&mut self, id: &str) {
        self.restore.remove_network(id);
    }

    /// A new hex suffix, random-looking and the same for the same sequence of calls.
    pub(super) fn fresh_hex(&mut self, seed: &str) -> u64 {
        self.restore.created += 1;
        hash_of((&self.account_id, seed, self.restore.created))
    }

    /// `<prefix>-0<16 hex digits>`, as EC2 ids are.
    pub(super) fn fresh_ec2_id(&mut self, prefix: &str, seed: &str) -> String {
        format!("{prefix}-0{:016x}", self.fresh_hex(seed))
    }

    fn elb_arn(&self, region: &str, path: &str) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{region}:{}:{path}",
            self.account_id
        )
    }

    /// The resources of one type in one region, in key order.
    pub(super) fn of_type<'a>(
        &'a self,
        ty: ResourceType,
        region: &'a str,
    ) -> impl Iterator<Item = &'a Resource> + 'a {
        let start = ResourceKey::new(ty, region, "");
        self.resources
            .range(start..)
            .take_while(move |(key, _)| key.ty == ty && key.region == region)
            .map(|(_, resource)| resource)
    }

    /// The live resource that stands where the archived one would: same name (same
    /// name in the same VPC for a security group, same port for a listener, same
    /// priority for a rule).
    fn same_name(&self, model: &Resource) -> Option<String> {
        if let Some(found) = self.same_ecs_name(model) {
            return found;
        }
        let ty = model.ty();
        let region = if ty.is_global() {
            GLOBAL_REGION
        } else {
            model.region.as_str()
        };
        self.of_type(ty, region)
            .find(|live| match (&live.details, &model.details) {
                (Details::SecurityGroup(a), Details::SecurityGroup(b)) => {
                    live.name == model.name && a.vpc_id == b.vpc_id
                }
                (Details::LbListener(a), Details::LbListener(b)) => {
                    a.load_balancer == b.load_balancer && a.port == b.port
                }
                (Details::LbListenerRule(a), Details::LbListenerRule(b)) => {
                    a.listener == b.listener && a.priority == b.priority
                }
                (Details::Route53Record(a), Details::Route53Record(b)) => same_record(a, b),
                _ => live.name == model.name,
            })
            .map(|live| live.id.clone())
    }

    fn require_vpc(&self, vpc: Option<&String>) -> Result<(), Refusal> {
        match vpc {
            Some(vpc) if !self.restore.vpcs.contains(vpc) => Err(Refusal::new(
                "InvalidVpcID.NotFound",
                format!("the vpc ID '{vpc}' does not exist"),
            )),
            _ => Ok(()),
        }
    }

    fn require(&self, ty: ResourceType, region: &str, id: &str) -> Result<(), Refusal> {
        let key = ResourceKey::new(ty, region, id);
        match self.contains(&key) {
            true => Ok(()),
            false => Err(not_found(&key)),
        }
    }

    /// `Create`: the archived resource inserted under new ids, without what the
    /// later calls add.
    fn create(
        &mut self,
        target: &ResourceKey,
        description: &serde_json::Value,
    ) -> Result<Restored, Refusal> {
        let mut model = archived_model(description)?;
        if model.ty() != target.ty {
            return Err(Refusal::new(
                "ValidationError",
                format!("the description of {target} holds a {}", model.ty()),
            ));
        }
        if let Restorability::No(reason) = restorability(target.ty) {
            return Err(Refusal::new("UnsupportedOperation", reason));
        }
        model.region = target.region.clone();
        self.check_dependencies(&model, description)?;
        if let Some(id) = self.same_name(&model) {
            return Ok(present(&id));
        }
        let mut notes = Vec::new();
        let mut renamed = std::collections::BTreeMap::new();
        let old_id = model.id.clone();
        let region = model.region.clone();
        let mut enis = Vec::new();
        if matches!(
            target.ty,
            ResourceType::EcsCluster | ResourceType::EcsTaskDefinition | ResourceType::EcsService
        ) {
            self.new_ecs(&mut model, description, &mut notes);
        }
        match &mut model.details {
            Details::SecurityGroup(sg) => self.new_security_group(&mut model.id, sg, &mut notes),
            Details::IamRole(role) => {
                role.attached_policies.clear();
                role.last_used = None;
                role.created = Some(RESTORED_AT.into());
            }
            Details::IamPolicy(policy) => new_policy(policy, &mut notes)?,
            Details::IamInstanceProfile(profile) => {
                profile.roles.clear();
                profile.created = Some(RESTORED_AT.into());
            }
            Details::CloudwatchLogGroup(group) => {
                group.stored_bytes = Some(0);
                group.last_event = None;
                group.created = Some(RESTORED_AT.into());
                self.restore.log_events.remove(target);
            }
            Details::LbTargetGroup(tg) => {
                let hex = self.fresh_hex(&old_id);
                model.id = self.elb_arn(&region, &format!("targetgroup/{}/{hex:016x}", model.name));
                tg.targets.clear();
                tg.load_balancers.clear();
            }
            Details::Lb(lb) => {
                let subnets = self.load_balancer_subnets(lb, description);
                let name = model.name.clone();
                enis = self.new_load_balancer(&mut model.id, &name, &region, lb, &subnets);
                notes.push(format!(
                    "new DNS name {} (was {}): point what used the old name at the new one",
                    lb.dns_name,
                    old_dns_name(description)
                ));
                renamed.extend(decom_provider::dns_name_spellings(
                    old_dns_name(description),
                    &lb.dns_name,
                ));
            }
            Details::LbListener(listener) => {
                let hex = self.fresh_hex(&old_id);
                let suffix = arn_suffix(&listener.load_balancer, "loadbalancer");
                model.id = self.elb_arn(&region, &format!("listener/{suffix}/{hex:016x}"));
            }
            Details::LbListenerRule(rule) => {
                let hex = self.fresh_hex(&old_id);
                let suffix = arn_suffix(&rule.listener, "listener");
                model.id = self.elb_arn(&region, &format!("listener-rule/{suffix}/{hex:016x}"));
            }
            Details::Route53Record(_) => self.resolve_record_target(&mut model),
            _ => {}
        }
        let key = model.key();
        self.insert(model);
        for eni in enis {
            self.insert(eni);
        }
        let mut recompute = self.forwarded_target_groups(&key);
        if target.ty == ResourceType::LbTargetGroup {
            recompute.insert(key.clone());
        }
        self.recompute_target_group_lbs(&recompute);
        Ok(Restored {
            id: key.id,
            present: false,
            notes,
            renamed,
        })
    }

    /// AWS's refusals of a creation whose dependencies are gone.
    fn check_dependencies(
        &self,
        model: &Resource,
        description: &serde_json::Value,
    ) -> Result<(), Refusal> {
        let region = model.region.as_str();
        let target_groups = |tgs: &[String]| {
            tgs.iter()
                .try_for_each(|tg| self.require(ResourceType::LbTargetGroup, region, tg))
        };
        match &model.details {
            Details::SecurityGroup(sg) => self.require_vpc(sg.vpc_id.as_ref()),
            Details::LbTargetGroup(tg) => self.require_vpc(tg.vpc_id.as_ref()),
            Details::Lb(lb) => {
                let subnets = self.load_balancer_subnets(lb, description);
                let gone = subnets
                    .iter()
                    .find(|s| !self.restore.subnets.contains_key(*s));
                if let Some(subnet) = gone {
                    return Err(Refusal::new(
                        "SubnetNotFound",
                        format!("the subnet ID '{subnet}' does not exist"),
                    ));
                }
                if let Some(vpc) = &lb.vpc_id
                    && subnets.is_empty()
                {
                    return Err(Refusal::new(
                        "SubnetNotFound",
                        format!("no subnet of {vpc} exists"),
                    ));
                }
                match lb.security_groups.iter().find(|sg| {
                    !self.contains(&ResourceKey::new(ResourceType::SecurityGroup, region, *sg))
                }) {
                    Some(sg) => Err(Refusal::new(
                        "InvalidSecurityGroup",
                        format!("security group '{sg}' does not exist"),
                    )),
                    None => Ok(()),
                }
            }
            Details::LbListener(listener) => {
                self.require(ResourceType::Lb, region, &listener.load_balancer)?;
                target_groups(&listener.forward_target_groups)
            }
            Details::LbListenerRule(rule) => {
                self.require(ResourceType::LbListener, region, &rule.listener)?;
                target_groups(&rule.forward_target_groups)
            }
            Details::EcsService(service) => self.check_service(region, service),
            Details::Route53Record(record) => self.check_record_dependencies(record),
            _ => Ok(()),
        }
    }

    /// The subnets a load balancer is recreated in: the archived ones, or else
    /// those of its VPC.
    fn load_balancer_subnets(
        &self,
        lb: &LoadBalancer,
        description: &serde_json::Value,
    ) -> Vec<String> {
        match (archived_subnets(description), &lb.vpc_id) {
            (Some(subnets), _) if !subnets.is_empty() => subnets,
            (_, Some(vpc)) => self.restore.subnets_of(vpc),
            (_, None) => Vec::new(),
        }
    }

    /// CreateSecurityGroup: a new id, and in a VPC AWS's default egress rule.
    fn new_security_group(
        &mut self,
        id: &mut String,
        sg: &mut SecurityGroup,
        notes: &mut Vec<String>,
    ) {
        let old = std::mem::take(id);
        *id = self.fresh_ec2_id("sg", &old);
        sg.is_default = false;
        let archived = std::mem::take(&mut sg.rules);
        if sg.vpc_id.is_some() {
            let mut rule = egress_all();
            rule.rule_id = self.fresh_ec2_id("sgr", &old);
            if !archived.iter().any(|r| same_permission(r, &rule)) {
                notes.push(
                    "AWS gave the new group its default egress rule (all traffic to 0.0.0.0/0), which the archived group did not have: revoke it to match".into(),
                );
            }
            sg.rules.push(rule);
        }
    }

    /// CreateLoadBalancer: a new ARN and DNS name, and one requester-managed
    /// interface per subnet.
    fn new_load_balancer(
        &mut self,
        id: &mut String,
        name: &str,
        region: &str,
        lb: &mut LoadBalancer,
        subnets: &[String],
    ) -> Vec<Resource> {
        let hex = self.fresh_hex(id);
        let short = match lb.lb_type.as_str() {
            "network" => "net",
            "gateway" => "gwy",
            _ => "app",
        };
        *id = self.elb_arn(region, &format!("loadbalancer/{short}/{name}/{hex:016x}"));
        lb.dns_name = if lb.lb_type == "network" {
            format!("{name}-{hex:016x}.elb.{region}.amazonaws.com")
        } else {
            let n = 1_000_000_000 + hex % 9_000_000_000;
            format!("{name}-{n}.{region}.elb.amazonaws.com")
        };
        lb.state = "active".into();
        lb.created = Some(RESTORED_AT.into());
        let (interface_type, requester) = if lb.lb_type == "network" {
            ("network_load_balancer", "amazon-aws")
        } else {
            ("interface", "amazon-elb")
        };
        let lb_key = ResourceKey::new(ResourceType::Lb, region, id.as_str());
        subnets
            .iter()
            .map(|subnet| Resource {
                id: self.fresh_ec2_id("eni", id),
                name: String::new(),
                region: region.to_string(),
                tags: BTreeMap::new(),
                details: Details::NetworkInterface(NetworkInterface {
                    vpc_id: lb.vpc_id.clone(),
                    subnet_id: Some(subnet.clone()),
                    description: format!("ELB {short}/{name}/{hex:016x}"),
                    interface_type: interface_type.into(),
                    status: "in-use".into(),
                    requester_managed: true,
                    requester_id: Some(requester.into()),
                    security_groups: lb.security_groups.clone(),
                    attachment: None,
                    managed_by: Some(lb_key.clone()),
                }),
            })
            .collect()
    }
}

/// The archived load balancer's DNS name.
fn old_dns_name(description: &serde_json::Value) -> &str {
    let model = description.get("model").unwrap_or(description);
    model
        .get("dns_name")
        .and_then(|d| d.as_str())
        .unwrap_or("unknown")
}

/// CreatePolicy: version `v1` with the archived default version's document, no
/// attachment.
fn new_policy(policy: &mut Policy, notes: &mut Vec<String>) -> Result<(), Refusal> {
    if policy.document.is_none() {
        return Err(Refusal::new(
            "MalformedPolicyDocument",
            "the archived description holds no policy document",
        ));
    }
    if policy.default_version_id != "v1" || policy.versions.len() > 1 {
        notes.push(format!(
            "the policy starts again at version v1 with the document of {}; its other versions are not recreated",
            policy.default_version_id
        ));
    }
    policy.default_version_id = "v1".into();
    policy.versions = vec![PolicyVersion {
        version_id: "v1".into(),
        is_default: true,
        created: Some(RESTORED_AT.into()),
    }];
    policy.attachment_count = 0;
    policy.attached_users.clear();
    policy.attached_groups.clear();
    policy.created = Some(RESTORED_AT.into());
    Ok(())
}
