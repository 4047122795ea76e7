//! The restore plan's order: `--only`'s selection with what it needs, and a
//! deterministic topological order in waves.

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{ResourceType, RestoreAction};

use super::build::Draft;
use super::{RestoreError, RestoreStep, StepWork};

/// The drafts `--only` keeps: those of the named addresses and every draft they
/// need, transitively. Everything when `only` is empty.
pub(super) fn select(drafts: &[Draft], only: &[String]) -> Result<BTreeSet<usize>, RestoreError> {
    if only.is_empty() {
        return Ok((0..drafts.len()).collect());
    }
    let mut selected = BTreeSet::new();
    let mut stack = Vec::new();
    for address in only {
        let matching: Vec<usize> = (0..drafts.len())
            .filter(|&i| drafts[i].address == *address)
            .collect();
        if matching.is_empty() {
            return Err(RestoreError::UnknownOnly {
                address: address.clone(),
            });
        }
        stack.extend(matching);
    }
    while let Some(i) = stack.pop() {
        if selected.insert(i) {
            stack.extend(drafts[i].needs.iter().copied());
        }
    }
    Ok(selected)
}

/// Where a type's recreation comes in the order, among steps free to go together.
fn type_rank(ty: ResourceType) -> usize {
    use ResourceType as T;
    match ty {
        T::IamPolicy => 0,
        T::IamRole => 1,
        T::IamInstanceProfile => 2,
        T::SecurityGroup => 3,
        T::LbTargetGroup => 4,
        T::Lb => 5,
        T::LbListener => 6,
        T::LbListenerRule => 7,
        T::CloudwatchLogGroup => 8,
        T::EcsCluster => 9,
        T::EcsTaskDefinition => 10,
        T::EcsService => 11,
        T::Route53Record => 12,
        _ => 13,
    }
}

/// The selected drafts in a topological order (deterministic: by wave, then type,
/// address, action and what the action names), numbered from 1.
pub(super) fn order(drafts: &[Draft], selected: &BTreeSet<usize>) -> Vec<RestoreStep> {
    // A draft's wave is one more than the latest wave it needs.
    let mut wave: BTreeMap<usize, usize> = BTreeMap::new();
    fn wave_of(i: usize, drafts: &[Draft], wave: &mut BTreeMap<usize, usize>) -> usize {
        if let Some(&w) = wave.get(&i) {
            return w;
        }
        // The needs form no cycle: each points at a `Create`, and a `Create` needs
        // only the creations of types ranked before its own, or, for a task
        // definition, of its family's earlier revision.
        let w = 1 + drafts[i]
            .needs
            .iter()
            .map(|&n| wave_of(n, drafts, wave))
            .max()
            .unwrap_or(0);
        wave.insert(i, w);
        w
    }
    let mut sorted: Vec<usize> = selected.iter().copied().collect();
    let sort_key = |i: usize, wave: &mut BTreeMap<usize, usize>| {
        let d = &drafts[i];
        (
            wave_of(i, drafts, wave),
            type_rank(d.target.ty),
            d.address.clone(),
            d.target.clone(),
            usize::from(!matches!(
                d.work,
                StepWork::Call(RestoreAction::Create { .. })
            )),
            serde_json::to_string(&d.work).unwrap_or_default(),
        )
    };
    let mut keys: BTreeMap<usize, _> = BTreeMap::new();
    for &i in &sorted {
        keys.insert(i, sort_key(i, &mut wave));
    }
    sorted.sort_by(|a, b| keys[a].cmp(&keys[b]));
    let position: BTreeMap<usize, usize> = sorted
        .iter()
        .enumerate()
        .map(|(p, &i)| (i, p + 1))
        .collect();
    sorted
        .iter()
        .map(|&i| {
            let d = &drafts[i];
            RestoreStep {
                order: position[&i],
                wave: wave[&i],
                address: d.address.clone(),
                target: d.target.clone(),
                work: d.work.clone(),
                reason: d.reason.clone(),
                depends_on: d
                    .needs
                    .iter()
                    .filter_map(|n| position.get(n).copied())
                    .collect(),
            }
        })
        .collect()
}
