//! Route53's changes in the simulated account: a change of a zone's records is
//! `PENDING` until it reaches every Route53 server (GetChange `INSYNC`), and while
//! one is, Route53 refuses the zone's next change with `PriorRequestNotComplete`.
//! moto applies and syncs every change at once (its GetChange answers `INSYNC`).
//! A record restored (`CREATE`) needs its zone, and names the load balancer its
//! alias or CNAME resolves to now, as discovery resolves it.

use decom_provider::{
    Details, GLOBAL_REGION, Resource, ResourceKey, ResourceType, Route53Record, elb_dns_region,
    normalize_dns_name, record_id, resolve_record_targets,
};
use tokio::time::Instant;

use super::{Account, Countdown, countdown};
use crate::answers::{Refusal, not_found};

/// The zone of a record id (`ZONE_name_TYPE…`: zone ids hold no `_`).
fn zone_of(record: &ResourceKey) -> Option<&str> {
    (record.ty == ResourceType::Route53Record).then(|| record.id.split('_').next().unwrap_or(""))
}

/// Whether two records are the same record set for Route53: zone, name (without
/// case and trailing dot), type and set identifier.
pub(super) fn same_record(a: &Route53Record, b: &Route53Record) -> bool {
    a.zone_id == b.zone_id
        && a.record_name
            .trim_end_matches('.')
            .eq_ignore_ascii_case(b.record_name.trim_end_matches('.'))
        && a.record_type == b.record_type
        && a.set_identifier == b.set_identifier
}

impl Account {
    /// A record's `CREATE` needs its zone (`NoSuchHostedZone`), and an alias to a
    /// load balancer needs the balancer (`InvalidChangeBatch`), when the account
    /// covers its region.
    pub(super) fn check_record_dependencies(&self, record: &Route53Record) -> Result<(), Refusal> {
        let zone = ResourceKey::new(ResourceType::Route53Zone, GLOBAL_REGION, &record.zone_id);
        if !self.contains(&zone) {
            return Err(not_found(&zone));
        }
        // decom-aws looks the record up before its `CREATE`: one there is present.
        let present = self.resources.values().any(
            |r| matches!(&r.details, Details::Route53Record(live) if same_record(live, record)),
        );
        if present {
            return Ok(());
        }
        let Some(alias) = &record.alias else {
            return Ok(());
        };
        let Some(target) = record.target_elb_dns_name() else {
            return Ok(());
        };
        let covered = self.types.contains(&ResourceType::Lb)
            && elb_dns_region(&target).is_some_and(|r| self.regions.iter().any(|c| c == r));
        let exists = self.resources.values().any(
            |r| matches!(&r.details, Details::Lb(lb) if normalize_dns_name(&lb.dns_name) == target),
        );
        match !covered || exists {
            true => Ok(()),
            false => Err(Refusal::new(
                "InvalidChangeBatch",
                format!(
                    "Tried to create an alias that targets {}, type {} in zone {}, but the alias target name does not lie within the target zone",
                    alias.dns_name, record.record_type, alias.hosted_zone_id
                ),
            )),
        }
    }

    /// A record created: its name-based id, and the load balancer its alias or CNAME
    /// names now (by DNS name, as at discovery: [`resolve_record_targets`]).
    pub(super) fn resolve_record_target(&self, resource: &mut Resource) {
        let Details::Route53Record(record) = &resource.details else {
            return;
        };
        resource.id = record_id(
            &record.zone_id,
            &record.record_name,
            &record.record_type,
            record.set_identifier.as_deref(),
        );
        let mut resources: Vec<Resource> = self
            .resources
            .values()
            .filter(|r| r.ty() == ResourceType::Lb)
            .cloned()
            .collect();
        resources.push(resource.clone());
        resolve_record_targets(&mut resources);
        if let Some(resolved) = resources.pop() {
            *resource = resolved;
        }
    }

    /// Refuses a change of the record's zone while its last change is pending; each
    /// refusal counts as a poll of that change.
    pub(super) fn refuse_prior_change(
        &mut self,
        record: &ResourceKey,
        now: Instant,
    ) -> Result<(), Refusal> {
        let Some(zone) = zone_of(record) else {
            return Ok(());
        };
        if self.zone_change_settles(zone, now) {
            return Ok(());
        }
        Err(Refusal::new(
            "PriorRequestNotComplete",
            format!("the last change of hosted zone {zone} is still being applied"),
        ))
    }

    /// Starts the change a record's deletion makes in its zone.
    pub(super) fn start_zone_change(&mut self, record: &ResourceKey, now: Instant) {
        let Some(zone) = zone_of(record).map(str::to_string) else {
            return;
        };
        if let Some(c) = countdown(self.knobs.route53_change_delay, &self.knobs, now) {
            self.zone_changes.insert(zone, c);
        }
    }

    /// A poll of the record's deletion (GetChange): whether its zone's change is in
    /// sync.
    pub(super) fn record_change_in_sync(&mut self, record: &ResourceKey, now: Instant) -> bool {
        zone_of(record)
            .map(str::to_string)
            .is_none_or(|zone| self.zone_change_settles(&zone, now))
    }

    /// Counts one poll of the zone's pending change; true once none is pending.
    fn zone_change_settles(&mut self, zone: &str, now: Instant) -> bool {
        let Some(change) = self.zone_changes.get_mut(zone) else {
            return true;
        };
        let settled = match change {
            Countdown::Polls(n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            Countdown::Until(t) => *t <= now,
        };
        if settled {
            self.zone_changes.remove(zone);
        }
        settled
    }
}
