//! Route53 in the builder: hosted zones and their records, aliases and CNAMEs
//! naming load balancers (resolved to them in `finish`).

use std::collections::BTreeMap;

use decom_provider::{AliasTarget, Details, HostedZone, ResourceType, Route53Record, record_id};

use rand::Rng;

use super::AccountBuilder;

/// Route53's hosted zone id of the ALIAS targets of application load balancers in
/// us-east-1 (AWS publishes one per region and type; the model does not read it).
const ELB_ZONE: &str = "Z35SXDOTRQ7X7K";

/// How a record routes: alone, or as a member of a weighted set.
#[derive(Debug, Clone, Copy)]
pub enum Routing<'a> {
    Simple,
    Weighted { set: &'a str, weight: i64 },
}

impl AccountBuilder {
    /// A hosted zone for `domain` (without the trailing dot); returns its id. Its
    /// SOA and NS records are not resources (AWS deletes them with the zone).
    pub fn hosted_zone(&mut self, domain: &str, private: bool) -> String {
        let id = format!("Z{:020X}", self.rng.random::<u64>());
        let details = Details::Route53Zone(HostedZone {
            domain: format!("{domain}."),
            private,
            record_count: 2,
            comment: String::new(),
        });
        let resource = Self::global(id.clone(), domain, BTreeMap::new(), details);
        self.push(resource);
        id
    }

    /// An `A` alias record of `zone` naming the load balancer's DNS name (with the
    /// `dualstack.` prefix the console adds); returns its id.
    pub fn alias_record(
        &mut self,
        zone: &str,
        name: &str,
        lb_dns_name: &str,
        routing: Routing<'_>,
    ) -> String {
        let alias = AliasTarget {
            dns_name: format!("dualstack.{lb_dns_name}."),
            hosted_zone_id: ELB_ZONE.into(),
            evaluate_target_health: true,
        };
        self.record(zone, name, "A", routing, |r| r.alias = Some(alias))
    }

    /// A `CNAME` record of `zone` whose value is `target`; returns its id.
    pub fn cname_record(&mut self, zone: &str, name: &str, target: &str) -> String {
        self.record(zone, name, "CNAME", Routing::Simple, |r| {
            r.ttl = Some(300);
            r.values = vec![target.to_string()];
        })
    }

    fn record(
        &mut self,
        zone: &str,
        name: &str,
        ty: &str,
        routing: Routing<'_>,
        fill: impl FnOnce(&mut Route53Record),
    ) -> String {
        let fqdn = format!("{name}.");
        let (set_identifier, weight) = match routing {
            Routing::Simple => (None, None),
            Routing::Weighted { set, weight } => (Some(set.to_string()), Some(weight)),
        };
        let id = record_id(zone, &fqdn, ty, set_identifier.as_deref());
        let mut record = Route53Record {
            zone_id: zone.into(),
            record_name: fqdn,
            record_type: ty.into(),
            set_identifier,
            weight,
            ..Route53Record::default()
        };
        fill(&mut record);
        let resource = Self::global(
            id.clone(),
            name,
            BTreeMap::new(),
            Details::Route53Record(record),
        );
        self.push(resource);
        if let Details::Route53Zone(z) = self.global_details_mut(ResourceType::Route53Zone, zone) {
            z.record_count += 1;
        }
        id
    }
}
