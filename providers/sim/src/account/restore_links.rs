//! The restore calls that follow a `Create` in the simulated account: a security
//! group's rules, a role's managed policies, a policy's users and groups, a
//! profile's role, a target group's targets, and a log group's events. Each refuses
//! what AWS refuses when what it names is gone, and answers `present` when it is
//! already done.

use decom_provider::{
    Details, GLOBAL_REGION, ResourceKey, ResourceType, Restored, SecurityGroupRule, Target,
    is_customer_policy,
};

use super::Account;
use super::restore::same_permission;
use crate::answers::{Refusal, not_found};

fn done(id: &str, present: bool) -> Restored {
    Restored {
        id: id.to_string(),
        present,
        ..Restored::default()
    }
}

fn wrong_type(target: &ResourceKey, call: &str) -> Refusal {
    Refusal::new(
        "ValidationError",
        format!("{call} does not apply to {}", target.ty),
    )
}

impl Account {
    /// Adds the links of `key`'s resource as it is now (a superset is fine: links
    /// are narrowed when they are read).
    fn relink(&mut self, key: &ResourceKey) {
        let Some(resource) = self.resources.get(key) else {
            return;
        };
        for reference in resource.references() {
            self.referrers
                .entry(reference.to)
                .or_default()
                .insert(key.clone());
        }
    }

    /// AuthorizeSecurityGroupIngress/Egress: the rule with a new `sgr-` id.
    pub(super) fn authorize_rule(
        &mut self,
        target: &ResourceKey,
        rule: &SecurityGroupRule,
    ) -> Result<Restored, Refusal> {
        if let Some(group) = &rule.referenced_group
            && group
                .account_id
                .as_deref()
                .is_none_or(|a| a == self.account_id)
        {
            let referenced =
                ResourceKey::new(ResourceType::SecurityGroup, &target.region, &group.group_id);
            if !self.contains(&referenced) {
                return Err(not_found(&referenced));
            }
        }
        let duplicate = match self.details_mut(target)? {
            Details::SecurityGroup(sg) => sg.rules.iter().any(|r| same_permission(r, rule)),
            _ => return Err(wrong_type(target, "AuthorizeSecurityGroupIngress")),
        };
        if duplicate {
            return Ok(done(&target.id, true));
        }
        let mut rule = rule.clone();
        rule.rule_id = self.fresh_ec2_id("sgr", &target.id);
        if let Details::SecurityGroup(sg) = self.details_mut(target)? {
            sg.rules.push(rule);
        }
        self.relink(target);
        Ok(done(&target.id, false))
    }

    /// AttachRolePolicy: the role and a customer policy must exist; the policy
    /// counts one attachment more.
    pub(super) fn attach_role_policy(
        &mut self,
        target: &ResourceKey,
        policy_arn: &str,
    ) -> Result<Restored, Refusal> {
        let policy = ResourceKey::new(ResourceType::IamPolicy, GLOBAL_REGION, policy_arn);
        let customer = is_customer_policy(policy_arn);
        if customer && !self.contains(&policy) {
            return Err(Refusal::new(
                "NoSuchEntity",
                format!("policy {policy_arn} does not exist"),
            ));
        }
        match self.details_mut(target)? {
            Details::IamRole(role) if role.attached_policies.iter().any(|p| p == policy_arn) => {
                return Ok(done(&target.id, true));
            }
            Details::IamRole(role) => role.attached_policies.push(policy_arn.to_string()),
            _ => return Err(wrong_type(target, "AttachRolePolicy")),
        }
        if customer && let Details::IamPolicy(p) = self.details_mut(&policy)? {
            p.attachment_count += 1;
        }
        self.relink(target);
        Ok(done(&target.id, false))
    }

    /// AttachUserPolicy / AttachGroupPolicy of the target policy: users and groups
    /// are not modelled, so any name is accepted.
    pub(super) fn attach_policy_to(
        &mut self,
        target: &ResourceKey,
        principal: &str,
        user: bool,
    ) -> Result<Restored, Refusal> {
        let Details::IamPolicy(policy) = self.details_mut(target)? else {
            return Err(wrong_type(target, "AttachUserPolicy"));
        };
        let attached = match user {
            true => &mut policy.attached_users,
            false => &mut policy.attached_groups,
        };
        if attached.iter().any(|p| p == principal) {
            return Ok(done(&target.id, true));
        }
        attached.push(principal.to_string());
        policy.attachment_count += 1;
        Ok(done(&target.id, false))
    }

    /// AddRoleToInstanceProfile: the role must exist, and a profile holds one role.
    pub(super) fn add_role_to_profile(
        &mut self,
        target: &ResourceKey,
        role: &str,
    ) -> Result<Restored, Refusal> {
        let role_key = ResourceKey::new(ResourceType::IamRole, GLOBAL_REGION, role);
        if !self.contains(&role_key) {
            return Err(not_found(&role_key));
        }
        let Details::IamInstanceProfile(profile) = self.details_mut(target)? else {
            return Err(wrong_type(target, "AddRoleToInstanceProfile"));
        };
        if profile.roles.iter().any(|r| r == role) {
            return Ok(done(&target.id, true));
        }
        if !profile.roles.is_empty() {
            return Err(Refusal::new(
                "LimitExceeded",
                format!(
                    "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1 ({} holds {})",
                    target.id, profile.roles[0]
                ),
            ));
        }
        profile.roles.push(role.to_string());
        self.relink(target);
        Ok(done(&target.id, false))
    }

    /// RegisterTargets: instance targets must be running instances; a target
    /// registered already is left as it is. New targets are `initial` in a group a
    /// load balancer routes to, `unused` otherwise.
    pub(super) fn register_targets(
        &mut self,
        target: &ResourceKey,
        targets: &[Target],
    ) -> Result<Restored, Refusal> {
        let instances = match self.details_mut(target)? {
            Details::LbTargetGroup(tg) => tg.target_type == "instance",
            _ => return Err(wrong_type(target, "RegisterTargets")),
        };
        if instances {
            let gone = targets.iter().find(|t| {
                let key = ResourceKey::new(ResourceType::Instance, &target.region, &t.id);
                self.get(&key).is_none_or(|i| i.is_gone())
            });
            if let Some(t) = gone {
                return Err(Refusal::new(
                    "InvalidTarget",
                    format!(
                        "the instance {} is not in a valid state to be registered",
                        t.id
                    ),
                ));
            }
        }
        let Details::LbTargetGroup(tg) = self.details_mut(target)? else {
            return Err(wrong_type(target, "RegisterTargets"));
        };
        let health = match tg.load_balancers.is_empty() {
            true => "unused",
            false => "initial",
        };
        let mut added = false;
        for t in targets {
            if tg.targets.iter().any(|r| r.id == t.id && r.port == t.port) {
                continue;
            }
            tg.targets.push(Target {
                id: t.id.clone(),
                port: t.port,
                health: health.into(),
            });
            added = true;
        }
        self.relink(target);
        Ok(done(&target.id, !added))
    }

    /// PutLogEvents: the events kept in the group, in their order, its stored bytes
    /// grown by their messages; each needs a `timestamp` and a `message`.
    pub fn import_log_events(
        &mut self,
        group: &ResourceKey,
        events: &[serde_json::Value],
    ) -> Result<u64, Refusal> {
        if !self.contains(group) {
            return Err(not_found(group));
        }
        let mut bytes = 0;
        for event in events {
            let message = event.get("message").and_then(|m| m.as_str());
            let timestamp = event.get("timestamp").and_then(|t| t.as_i64());
            match (message, timestamp) {
                (Some(message), Some(_)) => bytes += message.len() as u64,
                _ => {
                    return Err(Refusal::new(
                        "InvalidParameterException",
                        "a log event needs a `timestamp` and a `message`",
                    ));
                }
            }
        }
        if let Details::CloudwatchLogGroup(g) = self.details_mut(group)? {
            g.stored_bytes = Some(g.stored_bytes.unwrap_or(0) + bytes);
        }
        self.restore
            .log_events
            .entry(group.clone())
            .or_default()
            .extend_from_slice(events);
        Ok(events.len() as u64)
    }

    /// The events imported into a log group since it was created.
    pub fn log_events(&self, group: &ResourceKey) -> &[serde_json::Value] {
        self.restore
            .log_events
            .get(group)
            .map_or(&[], Vec::as_slice)
    }
}
