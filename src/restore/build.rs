//! Builds the restore plan: from what the archived run deleted and changed, the calls
//! that put it back, in dependency order (the reverse of deletion: policies and
//! roles before instance profiles and attachments, security groups before their
//! rules and the load balancers that use them, target groups before the listeners
//! and rules that forward to them, load balancers before their listeners).

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    Action, Details, Resource, ResourceKey, ResourceType, Restorability, RestoreAction,
    restorability,
};
use serde_json::Value;

use super::order::{order, select};
use super::parts::{add_parts, policy_key, role_key};
use super::source::{RestoreSource, description};
use super::{
    NotRestored, RESTORE_PLAN_FORMAT, RESTORE_PLAN_VERSION, RestoreError, RestorePlan, RestoreStep,
    StepWork,
};

/// What the user asked of the restore.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Restore only these addresses (and whatever they need); empty: everything.
    pub only: Vec<String>,
    /// Register the archived targets in restored target groups.
    pub register_targets: bool,
    /// The desired count of recreated ECS services; `None`: 0.
    pub desired_count: Option<u32>,
}

/// A step before it has its place in the order.
pub(super) struct Draft {
    pub(super) target: ResourceKey,
    pub(super) address: String,
    pub(super) work: StepWork,
    pub(super) reason: String,
    /// Indices of drafts that must be done first.
    pub(super) needs: BTreeSet<usize>,
}

/// The drafts so far, and what the plan recreates.
pub(super) struct Builder<'a> {
    pub(super) source: &'a RestoreSource,
    addresses: BTreeMap<ResourceKey, String>,
    pub(super) drafts: Vec<Draft>,
    /// The `Create` draft of each resource the plan recreates.
    pub(super) creates: BTreeMap<ResourceKey, usize>,
    not_restored: Vec<NotRestored>,
}

impl Builder<'_> {
    fn address(&self, key: &ResourceKey) -> String {
        self.addresses
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.address())
    }

    pub(super) fn push(&mut self, target: &ResourceKey, work: StepWork, reason: String) -> usize {
        self.drafts.push(Draft {
            target: target.clone(),
            address: self.address(target),
            work,
            reason,
            needs: BTreeSet::new(),
        });
        self.drafts.len() - 1
    }

    /// Makes `draft` wait for the recreation of `key`, if the plan recreates it.
    pub(super) fn after_create_of(&mut self, draft: usize, key: &ResourceKey) {
        if let Some(&create) = self.creates.get(key)
            && create != draft
        {
            self.drafts[draft].needs.insert(create);
        }
    }

    fn not_restored(&mut self, key: &ResourceKey, reason: String, command: Option<String>) {
        self.not_restored.push(NotRestored {
            address: self.address(key),
            target: key.clone(),
            reason,
            command,
        });
    }
}

/// The restore plan of `source`.
pub fn build_restore_plan(
    source: &RestoreSource,
    options: &RestoreOptions,
) -> Result<RestorePlan, RestoreError> {
    let mut notes = Vec::new();
    let mut addresses = BTreeMap::new();
    let mut removed = BTreeSet::new();
    let mut changes: Vec<(ResourceKey, Action)> = Vec::new();
    match &source.plan_file {
        Some(plan_file) => {
            if source.completed.is_none() {
                notes.push(
                    "No journal beside the archive: every step of the archived run counts as done; what still exists is reported as present, not created again."
                        .to_string(),
                );
            }
            for step in &plan_file.plan.steps {
                addresses
                    .entry(step.key())
                    .or_insert_with(|| step.address.clone());
                let done = source
                    .completed
                    .as_ref()
                    .is_none_or(|c| c.contains(&step.order));
                if !done {
                    continue;
                }
                if step.action.removes_target() {
                    removed.insert(step.key());
                } else {
                    changes.push((step.key(), step.action.clone()));
                }
            }
        }
        None => {
            notes.push(
                "The archive does not hold the plan of its run (it was written by an older decom): every archived resource counts as deleted, and changes to kept resources cannot be told apart; what still exists is reported as present."
                    .to_string(),
            );
            for entry in source.archive.entries() {
                if entry.files.description.is_some() {
                    removed.insert(entry.key);
                }
            }
        }
    }
    changes.retain(|(key, _)| !removed.contains(key));

    let mut b = Builder {
        source,
        addresses,
        drafts: Vec::new(),
        creates: BTreeMap::new(),
        not_restored: Vec::new(),
    };
    // Every recreation first, so that each step can wait for the ones it needs.
    let mut recreated = Vec::new();
    for key in &removed {
        match restorability(key.ty) {
            Restorability::No(reason) => {
                let command = match key.ty {
                    ResourceType::Instance => description(source, key)?
                        .map(|d| run_instances_command(&d)),
                    _ => None,
                };
                b.not_restored(key, reason.to_string(), command);
            }
            Restorability::Recreate => match description(source, key)? {
                None => b.not_restored(
                    key,
                    "its archive entry is missing: the run never archived it (it was gone before the run changed it)".to_string(),
                    None,
                ),
                Some(description) => {
                    let model = model_of(&description);
                    let Some(model) = model else {
                        b.not_restored(
                            key,
                            "its archived description has no readable `model`".to_string(),
                            None,
                        );
                        continue;
                    };
                    if let Details::EcsTaskDefinition(definition) = &model.details
                        && !definition.is_active()
                    {
                        b.not_restored(
                            key,
                            "an inactive (deregistered) revision: registering it again would make it active; the archive holds its registration".to_string(),
                            None,
                        );
                        continue;
                    }
                    if let Details::IamRole(role) = &model.details
                        && role.is_service_linked()
                    {
                        b.not_restored(
                            key,
                            "a service-linked role is created by its AWS service when the service needs it".to_string(),
                            None,
                        );
                        continue;
                    }
                    let draft = b.push(
                        key,
                        StepWork::Call(RestoreAction::Create { description }),
                        "deleted by the archived run".to_string(),
                    );
                    b.creates.insert(key.clone(), draft);
                    recreated.push((key.clone(), draft, model));
                }
            },
        }
    }
    for (key, draft, model) in &recreated {
        add_parts(&mut b, key, *draft, model, options);
    }
    let mut attachments = BTreeSet::new();
    for (key, draft, model) in &recreated {
        if let Details::IamRole(role) = &model.details {
            for policy_arn in &role.attached_policies {
                if attachments.insert((key.id.clone(), policy_arn.clone())) {
                    let step = b.push(
                        key,
                        StepWork::Call(RestoreAction::AttachRolePolicy {
                            policy_arn: policy_arn.clone(),
                        }),
                        "the role had this policy attached".to_string(),
                    );
                    b.drafts[step].needs.insert(*draft);
                    b.after_create_of(step, &policy_key(policy_arn));
                }
            }
        }
    }
    for (key, action) in &changes {
        undo_change(&mut b, key, action, &mut attachments)?;
    }

    let selected = select(&b.drafts, &options.only)?;
    let steps = order(&b.drafts, &selected);
    let mut not_restored = b.not_restored;
    not_restored.sort_by(|a, b| a.address.cmp(&b.address).then(a.target.cmp(&b.target)));
    if !options.only.is_empty() {
        not_restored.retain(|n| options.only.contains(&n.address));
    }
    for step in &steps {
        if let StepWork::Call(RestoreAction::Create { description }) = &step.work
            && let Some(Details::Lb(lb)) = model_of(description).map(|m| m.details)
        {
            notes.push(dns_note(source, &b.addresses, &step.address, &lb.dns_name)?);
        }
    }
    let plan_file = source.plan_file.as_ref();
    Ok(RestorePlan {
        format: RESTORE_PLAN_FORMAT.to_string(),
        format_version: RESTORE_PLAN_VERSION,
        archive_dir: source.archive.dir().to_path_buf(),
        account_id: plan_file.map(|p| p.account_id.clone()),
        applied_plan_id: plan_file.map(|p| p.id()),
        decommission: plan_file.map(|p| p.plan.decommission.clone()),
        regions: regions(source, &steps),
        connection: plan_file.and_then(|p| p.connection.clone()),
        steps,
        not_restored,
        notes,
    })
}

/// What a recreated load balancer's new DNS name asks of the reviewer, with the
/// archived Route53 records that named the old one.
fn dns_note(
    source: &RestoreSource,
    addresses: &BTreeMap<ResourceKey, String>,
    address: &str,
    old_name: &str,
) -> Result<String, RestoreError> {
    let mut records = Vec::new();
    if !old_name.is_empty() {
        let needle = old_name.trim_end_matches('.').to_ascii_lowercase();
        for entry in source.archive.entries() {
            if entry.key.ty == ResourceType::Route53Record
                && let Some(description) = description(source, &entry.key)?
                && description
                    .to_string()
                    .to_ascii_lowercase()
                    .contains(&needle)
            {
                records.push(addresses.get(&entry.key).cloned().unwrap_or(entry.address));
            }
        }
    }
    let mut note = format!(
        "{address} comes back with a new DNS name (it was {old_name}): records and clients that named the old one must be pointed at the new one, which the report gives."
    );
    if !records.is_empty() {
        note.push_str(&format!(
            " Archived records that named it (a record this restore recreates gets the new name): {}.",
            records.join(", ")
        ));
    }
    Ok(note)
}

/// The archived run's regions, else those of the archived resources.
fn regions(source: &RestoreSource, steps: &[RestoreStep]) -> Vec<String> {
    if let Some(plan_file) = &source.plan_file {
        return plan_file.regions.clone();
    }
    let regions: BTreeSet<String> = steps
        .iter()
        .map(|s| s.target.region.clone())
        .filter(|r| r != decom_provider::GLOBAL_REGION)
        .collect();
    regions.into_iter().collect()
}

/// The resource model in an archived description.
pub(super) fn model_of(description: &Value) -> Option<Resource> {
    serde_json::from_value(description.get("model")?.clone()).ok()
}

/// The step that puts back what the run changed on a resource it kept.
fn undo_change(
    b: &mut Builder<'_>,
    key: &ResourceKey,
    action: &Action,
    attachments: &mut BTreeSet<(String, String)>,
) -> Result<(), RestoreError> {
    let work = match action {
        Action::RevokeRule { rule_id } => {
            let rule = description(b.source, key)?
                .as_ref()
                .and_then(model_of)
                .and_then(|m| match m.details {
                    Details::SecurityGroup(g) => {
                        g.rules.into_iter().find(|r| r.rule_id == *rule_id)
                    }
                    _ => None,
                });
            match rule {
                Some(rule) => RestoreAction::AuthorizeRule { rule },
                None => {
                    b.not_restored(
                        key,
                        format!("rule {rule_id} was revoked, but the archive does not hold the group's description with it"),
                        None,
                    );
                    return Ok(());
                }
            }
        }
        Action::DetachRolePolicy { policy_arn } => {
            if !attachments.insert((key.id.clone(), policy_arn.clone())) {
                return Ok(());
            }
            RestoreAction::AttachRolePolicy {
                policy_arn: policy_arn.clone(),
            }
        }
        Action::DetachUserPolicy { user } => RestoreAction::AttachUserPolicy { user: user.clone() },
        Action::DetachGroupPolicy { group } => RestoreAction::AttachGroupPolicy {
            group: group.clone(),
        },
        Action::RemoveRoleFromProfile { role } => {
            RestoreAction::AddRoleToProfile { role: role.clone() }
        }
        // Nothing to undo: a snapshot taken stays, and protection was only turned
        // off on what the run then deleted.
        Action::SnapshotVolume
        | Action::DisableDeletionProtection
        | Action::DisableTerminationProtection => {
            if matches!(action, Action::SnapshotVolume) {
                return Ok(());
            }
            b.not_restored(
                key,
                format!("the run did `{}` and the deletion did not happen: turn the protection back on by hand if it is still wanted", action.describe()),
                None,
            );
            return Ok(());
        }
        other => {
            b.not_restored(
                key,
                format!(
                    "decom does not undo `{}` yet; the archive holds the resource as it was before",
                    other.describe()
                ),
                None,
            );
            return Ok(());
        }
    };
    let reason = format!("the run did `{}` on this kept resource", action.describe());
    let step = b.push(key, StepWork::Call(work.clone()), reason);
    // What the call names must exist first: the group a rule references, the role
    // or policy an attachment names.
    match &work {
        RestoreAction::AuthorizeRule { rule } => {
            if let Some(other) = &rule.referenced_group {
                let group =
                    ResourceKey::new(ResourceType::SecurityGroup, &key.region, &other.group_id);
                b.after_create_of(step, &group);
            }
        }
        RestoreAction::AttachRolePolicy { policy_arn } => {
            b.after_create_of(step, &policy_key(policy_arn))
        }
        RestoreAction::AddRoleToProfile { role } => b.after_create_of(step, &role_key(role)),
        _ => {}
    }
    Ok(())
}

/// The command a person would run to launch a replacement for a terminated
/// instance, from its archived description.
fn run_instances_command(description: &Value) -> String {
    let text = |field: &str| description.get(field).and_then(Value::as_str);
    let model = model_of(description);
    let instance = model.as_ref().and_then(|m| match &m.details {
        Details::Instance(i) => Some(i),
        _ => None,
    });
    let mut command = format!(
        "aws ec2 run-instances --image-id {}",
        text("image_id").unwrap_or("<the AMI it was launched from>")
    );
    if let Some(instance) = instance {
        if !instance.instance_type.is_empty() {
            command.push_str(&format!(" --instance-type {}", instance.instance_type));
        }
        if !instance.security_groups.is_empty() {
            command.push_str(&format!(
                " --security-group-ids {}",
                instance.security_groups.join(" ")
            ));
        }
        if let Some(profile) = &instance.instance_profile {
            command.push_str(&format!(" --iam-instance-profile Name={profile}"));
        }
    }
    if let Some(subnet) = text("subnet_id") {
        command.push_str(&format!(" --subnet-id {subnet}"));
    }
    if let Some(key) = text("key_name") {
        command.push_str(&format!(" --key-name {key}"));
    }
    command
}
