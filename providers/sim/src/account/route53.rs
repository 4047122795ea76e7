//! Route53's changes in the simulated account: a change of a zone's records is
//! `PENDING` until it reaches every Route53 server (GetChange `INSYNC`), and while
//! one is, Route53 refuses the zone's next change with `PriorRequestNotComplete`.
//! moto applies and syncs every change at once (its GetChange answers `INSYNC`).

use decom_provider::{ResourceKey, ResourceType};
use tokio::time::Instant;

use super::{Account, Countdown, countdown};
use crate::answers::Refusal;

/// The zone of a record id (`ZONE_name_TYPE…`: zone ids hold no `_`).
fn zone_of(record: &ResourceKey) -> Option<&str> {
    (record.ty == ResourceType::Route53Record).then(|| record.id.split('_').next().unwrap_or(""))
}

impl Account {
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
