//! The audit's check of Route53 records pointing at nothing: an alias or CNAME
//! naming a load balancer DNS name that no load balancer of the account has (it was
//! deleted from under the record). Only records naming a region the inventory covers
//! are judged: a balancer in another region is not known to be gone.

use std::collections::BTreeSet;

use decom_provider::{
    Details, Inventory, Resource, Route53Record, elb_dns_region, normalize_dns_name,
};

use super::Finding;
use super::FindingKind;
use super::checks::finding;

/// The load balancer DNS names of the inventory, normalized, and its regions.
#[derive(Debug, Default)]
pub(super) struct Balancers {
    dns_names: BTreeSet<String>,
    regions: BTreeSet<String>,
}

impl Balancers {
    pub(super) fn of(inventory: &Inventory) -> Balancers {
        Balancers {
            dns_names: inventory
                .resources
                .iter()
                .filter_map(|r| match &r.details {
                    Details::Lb(lb) => Some(normalize_dns_name(&lb.dns_name)),
                    _ => None,
                })
                .collect(),
            regions: inventory.regions.iter().cloned().collect(),
        }
    }
}

/// A record whose alias or CNAME names a load balancer the account does not have.
pub(super) fn dangling_record(
    balancers: &Balancers,
    resource: &Resource,
    record: &Route53Record,
) -> Option<Finding> {
    let target = record.target_elb_dns_name()?;
    let region = elb_dns_region(&target)?;
    if !balancers.regions.contains(region) || balancers.dns_names.contains(&target) {
        return None;
    }
    let how = if record.alias.is_some() {
        "alias"
    } else {
        "CNAME"
    };
    Some(finding(
        resource,
        FindingKind::Route53RecordDangling,
        format!("its {how} names the load balancer {target}, which does not exist in {region}"),
        vec![
            ("record_type", record.record_type.clone()),
            ("target", target.clone()),
            ("target_region", region.to_string()),
            ("load_balancers_in_region", "none with this DNS name".into()),
        ],
    ))
}
