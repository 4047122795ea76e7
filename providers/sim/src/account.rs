//! The simulated account's state and how each operation changes it: AWS's refusals
//! come from `decom_provider::obstacles_to_delete`, the asynchronous completions
//! (termination, ENI release, IAM propagation) from the knobs' delays.

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    Action, Details, DiscoveryRequest, GLOBAL_REGION, Inventory, InventoryIndex, Obstacle,
    Operation, Resource, ResourceKey, ResourceType, RuleDirection, SNAPSHOT_FORMAT_VERSION,
    is_customer_policy, obstacles_to_delete,
};
use tokio::time::Instant;

use crate::knobs::{Delay, Knobs};

/// An AWS error answer: code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }

    fn from_obstacle(obstacle: &Obstacle) -> Self {
        Refusal::new(obstacle.error_code(), obstacle.describe())
    }
}

/// When something AWS does by itself completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Countdown {
    Polls(u32),
    Until(Instant),
}

/// A change AWS completes asynchronously.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PendingKind {
    /// A `shutting-down` instance becoming `terminated`.
    Terminate,
    /// A deleted load balancer's ENI being released.
    Release,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    kind: PendingKind,
    countdown: Countdown,
}

/// The in-memory account.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    account_id: String,
    regions: Vec<String>,
    types: Vec<ResourceType>,
    resources: BTreeMap<ResourceKey, Resource>,
    /// Who may point at a key: a superset (links only ever disappear in the
    /// simulator), narrowed by recomputing the referrers' references.
    referrers: BTreeMap<ResourceKey, BTreeSet<ResourceKey>>,
    pending: BTreeMap<ResourceKey, Pending>,
    /// Time-based pending completions, earliest first.
    deadlines: BTreeSet<(Instant, ResourceKey)>,
    /// IAM resources that still answer `DeleteConflict` after a recent change.
    propagating: BTreeMap<ResourceKey, Countdown>,
}

fn countdown(delay: Delay, knobs: &Knobs, now: Instant) -> Option<Countdown> {
    match delay {
        Delay::None | Delay::Polls(0) => None,
        Delay::Polls(n) => Some(Countdown::Polls(n)),
        Delay::Time(d) => {
            let d = knobs.scaled(d);
            (!d.is_zero()).then(|| Countdown::Until(now + d))
        }
    }
}

/// Whether a snapshot's resource exists for AWS: terminated instances are hidden
/// after a while and ignored by decom.
pub(crate) fn exists(resource: &Resource) -> bool {
    !matches!(&resource.details, Details::Instance(i) if i.state.is_gone())
}

/// The regions a discovery answers for, sorted and once each.
pub(crate) fn requested_regions(request: &DiscoveryRequest) -> Vec<String> {
    let mut regions = request.regions.clone();
    regions.sort();
    regions.dedup();
    regions
}

/// The part of `asked` that a snapshot covering `covers` can answer for, in the
/// order of `asked`: what the snapshot did not look at, discovery cannot find.
pub(crate) fn covered<'a, T, I>(asked: I, covers: &[T]) -> Vec<T>
where
    T: PartialEq + Clone + 'a,
    I: IntoIterator<Item = &'a T>,
{
    asked
        .into_iter()
        .filter(|item| covers.contains(item))
        .cloned()
        .collect()
}

/// Whether a discovery of `request` (in `regions`, its [`requested_regions`]) finds
/// a resource of type `ty` keyed in `region`: global types are found in any.
pub(crate) fn discovered(
    request: &DiscoveryRequest,
    regions: &[String],
    ty: ResourceType,
    region: &str,
) -> bool {
    request.types.contains(&ty) && (region == GLOBAL_REGION || regions.iter().any(|r| r == region))
}

/// The AWS error code a call answers when its target does not exist.
pub(crate) fn not_found_code(ty: ResourceType) -> &'static str {
    match ty {
        ResourceType::SecurityGroup => "InvalidGroup.NotFound",
        ResourceType::NetworkInterface => "InvalidNetworkInterfaceID.NotFound",
        ResourceType::Instance => "InvalidInstanceID.NotFound",
        ResourceType::Lb => "LoadBalancerNotFound",
        ResourceType::LbListener => "ListenerNotFound",
        ResourceType::LbListenerRule => "RuleNotFound",
        ResourceType::LbTargetGroup => "TargetGroupNotFound",
        ResourceType::IamRole | ResourceType::IamPolicy | ResourceType::IamInstanceProfile => {
            "NoSuchEntity"
        }
        ResourceType::CloudwatchLogGroup => "ResourceNotFoundException",
    }
}

fn delete_api(ty: ResourceType) -> &'static str {
    match ty {
        ResourceType::SecurityGroup => "ec2:DeleteSecurityGroup",
        ResourceType::NetworkInterface => "ec2:DeleteNetworkInterface",
        ResourceType::Instance => "ec2:TerminateInstances",
        ResourceType::Lb => "elasticloadbalancing:DeleteLoadBalancer",
        ResourceType::LbListener => "elasticloadbalancing:DeleteListener",
        ResourceType::LbListenerRule => "elasticloadbalancing:DeleteRule",
        ResourceType::LbTargetGroup => "elasticloadbalancing:DeleteTargetGroup",
        ResourceType::IamRole => "iam:DeleteRole",
        ResourceType::IamPolicy => "iam:DeletePolicy",
        ResourceType::IamInstanceProfile => "iam:DeleteInstanceProfile",
        ResourceType::CloudwatchLogGroup => "logs:DeleteLogGroup",
    }
}

/// The read call that describes one resource of the type (for `describe` and polls).
pub(crate) fn describe_api(ty: ResourceType) -> &'static str {
    match ty {
        ResourceType::SecurityGroup => "ec2:DescribeSecurityGroups",
        ResourceType::NetworkInterface => "ec2:DescribeNetworkInterfaces",
        ResourceType::Instance => "ec2:DescribeInstances",
        ResourceType::Lb => "elasticloadbalancing:DescribeLoadBalancers",
        ResourceType::LbListener => "elasticloadbalancing:DescribeListeners",
        ResourceType::LbListenerRule => "elasticloadbalancing:DescribeRules",
        ResourceType::LbTargetGroup => "elasticloadbalancing:DescribeTargetGroups",
        ResourceType::IamRole => "iam:GetRole",
        ResourceType::IamPolicy => "iam:GetPolicy",
        ResourceType::IamInstanceProfile => "iam:GetInstanceProfile",
        ResourceType::CloudwatchLogGroup => "logs:DescribeLogGroups",
    }
}

impl Account {
    pub fn new(inventory: Inventory) -> Self {
        let mut account = Account {
            account_id: inventory.account_id,
            regions: inventory.regions,
            types: inventory.types,
            resources: BTreeMap::new(),
            referrers: BTreeMap::new(),
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            propagating: BTreeMap::new(),
        };
        account.regions.sort();
        account.regions.dedup();
        account.types.sort();
        account.types.dedup();
        for resource in inventory.resources {
            if !exists(&resource) {
                continue;
            }
            let key = resource.key();
            for reference in resource.references() {
                account
                    .referrers
                    .entry(reference.to)
                    .or_default()
                    .insert(key.clone());
            }
            account.resources.insert(key, resource);
        }
        account
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    pub fn get(&self, key: &ResourceKey) -> Option<&Resource> {
        self.resources.get(key)
    }

    pub fn contains(&self, key: &ResourceKey) -> bool {
        self.resources.contains_key(key)
    }

    /// The whole current state as a snapshot.
    pub fn snapshot(&self) -> Inventory {
        Inventory {
            format_version: SNAPSHOT_FORMAT_VERSION,
            account_id: self.account_id.clone(),
            regions: self.regions.clone(),
            types: self.types.clone(),
            resources: self.resources.values().cloned().collect(),
        }
    }

    /// What discovery of `request` finds now.
    pub fn discover(&self, request: &DiscoveryRequest) -> Inventory {
        let regions = requested_regions(request);
        let resources = self
            .resources
            .iter()
            .filter(|(key, _)| discovered(request, &regions, key.ty, &key.region))
            .map(|(_, resource)| resource.clone())
            .collect();
        Inventory {
            format_version: SNAPSHOT_FORMAT_VERSION,
            account_id: self.account_id.clone(),
            regions: covered(&regions, &self.regions),
            types: covered(&request.types, &self.types),
            resources,
        }
    }

    /// The API operation an [`Operation`] is made with: `ec2:DeleteSecurityGroup`.
    pub fn api_name(&self, operation: &Operation) -> &'static str {
        let ty = operation.target.ty;
        match &operation.action {
            Action::Delete => delete_api(ty),
            Action::AwaitDeletion => describe_api(ty),
            Action::DisableDeletionProtection => {
                "elasticloadbalancing:ModifyLoadBalancerAttributes"
            }
            Action::DisableTerminationProtection => "ec2:ModifyInstanceAttribute",
            Action::RevokeRule { rule_id } => {
                let egress = matches!(
                    self.get(&operation.target).map(|r| &r.details),
                    Some(Details::SecurityGroup(sg))
                        if sg.rules.iter().any(|r| r.rule_id == *rule_id
                            && r.direction == RuleDirection::Egress)
                );
                if egress {
                    "ec2:RevokeSecurityGroupEgress"
                } else {
                    "ec2:RevokeSecurityGroupIngress"
                }
            }
            Action::DetachRolePolicy { .. } => "iam:DetachRolePolicy",
            Action::DetachUserPolicy { .. } => "iam:DetachUserPolicy",
            Action::DetachGroupPolicy { .. } => "iam:DetachGroupPolicy",
            Action::DeleteInlinePolicy { .. } => "iam:DeleteRolePolicy",
            Action::RemoveRoleFromProfile { .. } => "iam:RemoveRoleFromInstanceProfile",
            Action::DeletePolicyVersion { .. } => "iam:DeletePolicyVersion",
        }
    }

    /// Everything that stops `key`'s deletion now, from the single source of the
    /// rules. Only the target and the resources that may point at it matter to
    /// `obstacles_to_delete`, so it runs on that small neighbourhood instead of
    /// re-indexing the whole account on every call.
    pub fn obstacles(&self, key: &ResourceKey) -> Vec<Obstacle> {
        let Some(target) = self.resources.get(key) else {
            return Vec::new();
        };
        let mut neighbourhood = Inventory::new(self.account_id.clone(), Vec::new());
        neighbourhood.resources.push(target.clone());
        for from in self.referrers.get(key).into_iter().flatten() {
            if from != key
                && let Some(resource) = self.resources.get(from)
            {
                neighbourhood.resources.push(resource.clone());
            }
        }
        let index = InventoryIndex::new(&neighbourhood);
        obstacles_to_delete(&index, key)
    }

    /// Applies every time-based completion that is due.
    pub fn advance(&mut self, now: Instant) {
        while let Some((due, key)) = self.deadlines.first().cloned() {
            if due > now {
                break;
            }
            self.deadlines.pop_first();
            if let Some(pending) = self.pending.get(&key)
                && pending.countdown == Countdown::Until(due)
            {
                self.complete(&key);
            }
        }
        self.propagating
            .retain(|_, c| !matches!(c, Countdown::Until(t) if *t <= now));
    }

    /// Makes one call. The caller has already decided it is not a fault.
    pub fn execute(
        &mut self,
        operation: &Operation,
        knobs: &Knobs,
        now: Instant,
    ) -> Result<(), Refusal> {
        self.advance(now);
        let key = &operation.target;
        match &operation.action {
            Action::Delete => self.delete(key, knobs, now),
            Action::AwaitDeletion => Ok(()),
            Action::DisableDeletionProtection => match self.details_mut(key)? {
                Details::Lb(lb) => {
                    lb.deletion_protection = false;
                    Ok(())
                }
                _ => Err(wrong_type(operation)),
            },
            Action::DisableTerminationProtection => match self.details_mut(key)? {
                Details::Instance(instance) => {
                    instance.termination_protection = false;
                    Ok(())
                }
                _ => Err(wrong_type(operation)),
            },
            Action::RevokeRule { rule_id } => match self.details_mut(key)? {
                Details::SecurityGroup(sg) => {
                    let before = sg.rules.len();
                    sg.rules.retain(|r| r.rule_id != *rule_id);
                    if sg.rules.len() == before {
                        return Err(Refusal::new(
                            "InvalidPermission.NotFound",
                            format!("rule {rule_id} does not exist in {}", key.id),
                        ));
                    }
                    Ok(())
                }
                _ => Err(wrong_type(operation)),
            },
            Action::DetachRolePolicy { policy_arn } => {
                match self.details_mut(key)? {
                    Details::IamRole(role) => {
                        if !remove_item(&mut role.attached_policies, policy_arn) {
                            return Err(no_such_entity(format!(
                                "policy {policy_arn} is not attached to role {}",
                                key.id
                            )));
                        }
                    }
                    _ => return Err(wrong_type(operation)),
                }
                self.propagate(key, knobs, now);
                if is_customer_policy(policy_arn) {
                    let policy_key =
                        ResourceKey::new(ResourceType::IamPolicy, GLOBAL_REGION, policy_arn);
                    if let Some(Details::IamPolicy(policy)) =
                        self.resources.get_mut(&policy_key).map(|r| &mut r.details)
                    {
                        policy.attachment_count = policy.attachment_count.saturating_sub(1);
                        self.propagate(&policy_key, knobs, now);
                    }
                }
                Ok(())
            }
            Action::DetachUserPolicy { user } => {
                self.detach_principal(operation, knobs, now, user, false)
            }
            Action::DetachGroupPolicy { group } => {
                self.detach_principal(operation, knobs, now, group, true)
            }
            Action::DeleteInlinePolicy { policy_name } => {
                match self.details_mut(key)? {
                    Details::IamRole(role) => {
                        let before = role.inline_policies.len();
                        role.inline_policies.retain(|p| p.name != *policy_name);
                        if role.inline_policies.len() == before {
                            return Err(no_such_entity(format!(
                                "role {} has no inline policy {policy_name}",
                                key.id
                            )));
                        }
                    }
                    _ => return Err(wrong_type(operation)),
                }
                self.propagate(key, knobs, now);
                Ok(())
            }
            Action::RemoveRoleFromProfile { role } => {
                match self.details_mut(key)? {
                    Details::IamInstanceProfile(profile) => {
                        if !remove_item(&mut profile.roles, role) {
                            return Err(no_such_entity(format!(
                                "instance profile {} does not hold role {role}",
                                key.id
                            )));
                        }
                    }
                    _ => return Err(wrong_type(operation)),
                }
                self.propagate(key, knobs, now);
                let role_key = ResourceKey::new(ResourceType::IamRole, GLOBAL_REGION, role);
                if self.contains(&role_key) {
                    self.propagate(&role_key, knobs, now);
                }
                Ok(())
            }
            Action::DeletePolicyVersion { version_id } => match self.details_mut(key)? {
                Details::IamPolicy(policy) => {
                    let Some(i) = policy
                        .versions
                        .iter()
                        .position(|v| v.version_id == *version_id)
                    else {
                        return Err(no_such_entity(format!(
                            "policy {} has no version {version_id}",
                            key.id
                        )));
                    };
                    if policy.versions[i].is_default || policy.default_version_id == *version_id {
                        return Err(Refusal::new(
                            "DeleteConflict",
                            "cannot delete the default version of a policy",
                        ));
                    }
                    policy.versions.remove(i);
                    Ok(())
                }
                _ => Err(wrong_type(operation)),
            },
        }
    }

    /// One poll of the operation's asynchronous completion; counted delays advance
    /// only on polls.
    pub fn poll(&mut self, operation: &Operation, now: Instant) -> bool {
        self.advance(now);
        let key = &operation.target;
        match (&operation.action, key.ty) {
            (Action::Delete, ResourceType::Instance) => {
                self.tick(key);
                !self.contains(key)
            }
            (Action::AwaitDeletion, _) => {
                self.tick(key);
                // An instance's ENIs go when it terminates: waiting for one of them
                // moves the termination along too.
                let instance = match self.get(key).map(|r| &r.details) {
                    Some(Details::NetworkInterface(eni)) => eni
                        .attachment
                        .as_ref()
                        .and_then(|a| a.instance_id.as_ref())
                        .map(|id| ResourceKey::new(ResourceType::Instance, &key.region, id)),
                    _ => None,
                };
                if let Some(instance) = instance {
                    self.tick(&instance);
                }
                !self.contains(key)
            }
            _ => true,
        }
    }

    fn tick(&mut self, key: &ResourceKey) {
        let Some(pending) = self.pending.get_mut(key) else {
            return;
        };
        if let Countdown::Polls(n) = &mut pending.countdown {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.complete(key);
            }
        }
    }

    fn complete(&mut self, key: &ResourceKey) {
        let Some(pending) = self.pending.remove(key) else {
            return;
        };
        match pending.kind {
            PendingKind::Terminate => self.terminate(key),
            PendingKind::Release => self.remove(key),
        }
    }

    fn schedule(&mut self, key: &ResourceKey, kind: PendingKind, countdown: Countdown) {
        if let Countdown::Until(due) = countdown {
            self.deadlines.insert((due, key.clone()));
        }
        self.pending
            .insert(key.clone(), Pending { kind, countdown });
    }

    fn propagate(&mut self, key: &ResourceKey, knobs: &Knobs, now: Instant) {
        if let Some(c) = countdown(knobs.iam_propagation_delay, knobs, now) {
            self.propagating.insert(key.clone(), c);
        }
    }

    fn details_mut(&mut self, key: &ResourceKey) -> Result<&mut Details, Refusal> {
        self.resources
            .get_mut(key)
            .map(|r| &mut r.details)
            .ok_or_else(|| not_found(key))
    }

    fn detach_principal(
        &mut self,
        operation: &Operation,
        knobs: &Knobs,
        now: Instant,
        principal: &str,
        group: bool,
    ) -> Result<(), Refusal> {
        let key = &operation.target;
        match self.details_mut(key)? {
            Details::IamPolicy(policy) => {
                let list = if group {
                    &mut policy.attached_groups
                } else {
                    &mut policy.attached_users
                };
                if !remove_item(list, principal) {
                    let what = if group { "group" } else { "user" };
                    return Err(no_such_entity(format!(
                        "policy {} is not attached to {what} {principal}",
                        key.id
                    )));
                }
                policy.attachment_count = policy.attachment_count.saturating_sub(1);
            }
            _ => return Err(wrong_type(operation)),
        }
        self.propagate(key, knobs, now);
        Ok(())
    }

    fn delete(&mut self, key: &ResourceKey, knobs: &Knobs, now: Instant) -> Result<(), Refusal> {
        let Some(resource) = self.resources.get(key) else {
            return Err(not_found(key));
        };
        // TerminateInstances is idempotent while the instance is still visible.
        if let Details::Instance(i) = &resource.details
            && self.pending.contains_key(key)
            && i.state == decom_provider::InstanceState::ShuttingDown
        {
            return Ok(());
        }
        if let Some(first) = self.obstacles(key).first() {
            return Err(Refusal::from_obstacle(first));
        }
        if let Some(c) = self.propagating.get_mut(key) {
            let refused = match c {
                Countdown::Polls(n) => {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.propagating.remove(key);
                    }
                    true
                }
                Countdown::Until(t) => *t > now,
            };
            if refused {
                return Err(Refusal::new(
                    "DeleteConflict",
                    format!(
                        "{key} cannot be deleted yet: a recent IAM change is still propagating"
                    ),
                ));
            }
        }
        match key.ty {
            ResourceType::Instance => {
                if let Some(Details::Instance(i)) =
                    self.resources.get_mut(key).map(|r| &mut r.details)
                {
                    i.state = decom_provider::InstanceState::ShuttingDown;
                }
                match countdown(knobs.termination_delay, knobs, now) {
                    Some(c) => self.schedule(key, PendingKind::Terminate, c),
                    None => self.terminate(key),
                }
            }
            ResourceType::Lb => self.delete_load_balancer(key, knobs, now),
            ResourceType::LbListener => self.delete_listener(key),
            _ => {
                let affected = self.forwarded_target_groups(key);
                self.remove(key);
                self.recompute_target_group_lbs(&affected);
            }
        }
        Ok(())
    }

    /// The resources (that exist) which may point at `key`.
    fn live_referrers(&self, key: &ResourceKey) -> Vec<ResourceKey> {
        self.referrers
            .get(key)
            .into_iter()
            .flatten()
            .filter(|k| self.resources.contains_key(k))
            .cloned()
            .collect()
    }

    fn delete_load_balancer(&mut self, key: &ResourceKey, knobs: &Knobs, now: Instant) {
        let mut listeners = Vec::new();
        let mut enis = Vec::new();
        for from in self.live_referrers(key) {
            match &self.resources[&from].details {
                Details::LbListener(l) if l.load_balancer == key.id => listeners.push(from),
                Details::NetworkInterface(eni) if eni.managed_by.as_ref() == Some(key) => {
                    enis.push(from)
                }
                _ => {}
            }
        }
        for listener in listeners {
            self.delete_listener(&listener);
        }
        self.remove(key);
        for eni in enis {
            match countdown(knobs.eni_release_delay, knobs, now) {
                Some(c) => self.schedule(&eni, PendingKind::Release, c),
                None => self.remove(&eni),
            }
        }
    }

    /// Deletes a listener with its rules.
    fn delete_listener(&mut self, key: &ResourceKey) {
        let rules: Vec<ResourceKey> = self
            .live_referrers(key)
            .into_iter()
            .filter(|from| {
                matches!(&self.resources[from].details,
                    Details::LbListenerRule(rule) if rule.listener == key.id)
            })
            .collect();
        let mut affected = self.forwarded_target_groups(key);
        for rule in &rules {
            affected.extend(self.forwarded_target_groups(rule));
            self.remove(rule);
        }
        self.remove(key);
        self.recompute_target_group_lbs(&affected);
    }

    fn forwarded_target_groups(&self, key: &ResourceKey) -> BTreeSet<ResourceKey> {
        let tgs = match self.get(key).map(|r| &r.details) {
            Some(Details::LbListener(l)) => &l.forward_target_groups,
            Some(Details::LbListenerRule(r)) => &r.forward_target_groups,
            _ => return BTreeSet::new(),
        };
        tgs.iter()
            .map(|tg| ResourceKey::new(ResourceType::LbTargetGroup, &key.region, tg))
            .collect()
    }

    /// AWS reports a target group's load balancers from the listeners and rules that
    /// forward to it; keep that field true after they go.
    fn recompute_target_group_lbs(&mut self, target_groups: &BTreeSet<ResourceKey>) {
        for tg in target_groups {
            let mut lbs = BTreeSet::new();
            for from in self.live_referrers(tg) {
                let lb = match &self.resources[&from].details {
                    Details::LbListener(l) if l.forward_target_groups.contains(&tg.id) => {
                        Some(l.load_balancer.clone())
                    }
                    Details::LbListenerRule(r) if r.forward_target_groups.contains(&tg.id) => {
                        let listener =
                            ResourceKey::new(ResourceType::LbListener, &tg.region, &r.listener);
                        match self.get(&listener).map(|r| &r.details) {
                            Some(Details::LbListener(l)) => Some(l.load_balancer.clone()),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                lbs.extend(lb);
            }
            if let Some(Details::LbTargetGroup(group)) =
                self.resources.get_mut(tg).map(|r| &mut r.details)
            {
                group.load_balancers = lbs.into_iter().collect();
            }
        }
    }

    /// The instance is terminated: AWS deletes its ENIs marked delete-on-termination,
    /// detaches the others and deregisters it from its target groups.
    fn terminate(&mut self, key: &ResourceKey) {
        for from in self.live_referrers(key) {
            let resource = self.resources.get_mut(&from).expect("live referrer exists");
            let mut delete_eni = false;
            match &mut resource.details {
                Details::NetworkInterface(eni)
                    if eni
                        .attachment
                        .as_ref()
                        .and_then(|a| a.instance_id.as_deref())
                        == Some(key.id.as_str()) =>
                {
                    if eni
                        .attachment
                        .as_ref()
                        .is_some_and(|a| a.delete_on_termination)
                    {
                        delete_eni = true;
                    } else {
                        eni.attachment = None;
                        eni.status = "available".into();
                    }
                }
                Details::LbTargetGroup(tg) => tg.targets.retain(|t| t.id != key.id),
                _ => {}
            }
            if delete_eni {
                self.remove(&from);
            }
        }
        self.remove(key);
    }

    fn remove(&mut self, key: &ResourceKey) {
        let Some(resource) = self.resources.remove(key) else {
            return;
        };
        self.pending.remove(key);
        self.propagating.remove(key);
        for reference in resource.references() {
            if let Some(set) = self.referrers.get_mut(&reference.to) {
                set.remove(key);
                if set.is_empty() {
                    self.referrers.remove(&reference.to);
                }
            }
        }
    }
}

fn remove_item(list: &mut Vec<String>, item: &str) -> bool {
    let before = list.len();
    list.retain(|x| x != item);
    list.len() != before
}

fn not_found(key: &ResourceKey) -> Refusal {
    Refusal::new(not_found_code(key.ty), format!("{key} does not exist"))
}

fn no_such_entity(message: String) -> Refusal {
    Refusal::new("NoSuchEntity", message)
}

fn wrong_type(operation: &Operation) -> Refusal {
    Refusal::new(
        "ValidationError",
        format!(
            "{} does not apply to {}",
            operation.action.name(),
            operation.target.ty
        ),
    )
}
