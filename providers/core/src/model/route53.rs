//! The details of Route53 hosted zones and records, and how a record's alias or
//! CNAME names a load balancer.

use serde::{Deserialize, Serialize};

use super::{Details, Resource};

/// A hosted zone. Zones are account-wide: their region is the global one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostedZone {
    /// The zone's domain, with its trailing dot (`example.com.`).
    pub domain: String,
    pub private: bool,
    /// `ResourceRecordSetCount`: the SOA and NS records at the apex included.
    pub record_count: i64,
    pub comment: String,
}

/// A record set of a hosted zone, except the zone's own SOA and apex NS records
/// (AWS deletes those with the zone, and refuses to delete them alone).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Route53Record {
    /// The hosted zone's id (`Z…`, without `/hostedzone/`).
    pub zone_id: String,
    /// The record's name as Route53 answers it, with its trailing dot.
    pub record_name: String,
    /// `A`, `AAAA`, `CNAME`, `TXT`, …
    pub record_type: String,
    /// The record's id within a weighted, failover, latency or geolocation set.
    pub set_identifier: Option<String>,
    /// A weighted record's weight: 0 takes no traffic while another weight is above 0.
    pub weight: Option<i64>,
    /// `PRIMARY` or `SECONDARY` for a failover record.
    pub failover: Option<String>,
    pub ttl: Option<i64>,
    /// The values of a plain record (a CNAME's target among them).
    pub values: Vec<String>,
    pub alias: Option<AliasTarget>,
    /// The load balancer the alias or CNAME names, resolved by DNS name at discovery
    /// ([`resolve_record_targets`]).
    pub load_balancer: Option<LoadBalancerTarget>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AliasTarget {
    pub dns_name: String,
    pub hosted_zone_id: String,
    pub evaluate_target_health: bool,
}

/// A load balancer named by a record: its region and ARN.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadBalancerTarget {
    pub region: String,
    pub arn: String,
}

impl Route53Record {
    /// The DNS name the record sends its traffic to: the alias target, or the
    /// CNAME's value.
    pub fn target_dns_name(&self) -> Option<&str> {
        match &self.alias {
            Some(alias) => Some(alias.dns_name.as_str()),
            None if self.record_type == "CNAME" => self.values.first().map(String::as_str),
            None => None,
        }
    }

    /// The ELB DNS name the record sends its traffic to, normalized
    /// ([`normalize_dns_name`]), if it names one ([`elb_dns_region`]).
    pub fn target_elb_dns_name(&self) -> Option<String> {
        let name = normalize_dns_name(self.target_dns_name()?);
        elb_dns_region(&name).is_some().then_some(name)
    }

    /// A weighted record that takes traffic.
    pub fn takes_weighted_traffic(&self) -> bool {
        self.weight.is_some_and(|w| w > 0)
    }

    /// A record of a routing set: weighted or failover records that share a name and
    /// a type in a zone, and between which Route53 moves traffic.
    pub fn routing_set(&self) -> Option<(&str, &str, &str)> {
        (self.weight.is_some() || self.failover.is_some()).then_some((
            self.zone_id.as_str(),
            self.record_name.as_str(),
            self.record_type.as_str(),
        ))
    }
}

/// A DNS name as compared with a load balancer's: lower case, without the trailing
/// dot and without the `dualstack.` prefix alias targets carry.
pub fn normalize_dns_name(name: &str) -> String {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    match name.strip_prefix("dualstack.") {
        Some(rest) => rest.to_string(),
        None => name,
    }
}

/// The region of a normalized ELB DNS name: an application load balancer's
/// `name-1234.us-east-1.elb.amazonaws.com`, a network one's
/// `name-abcd.elb.us-east-1.amazonaws.com`.
pub fn elb_dns_region(normalized: &str) -> Option<&str> {
    if let Some(rest) = normalized.strip_suffix(".elb.amazonaws.com") {
        return rest.rsplit('.').next().filter(|r| !r.is_empty());
    }
    let rest = normalized.strip_suffix(".amazonaws.com")?;
    let (_, region) = rest.rsplit_once(".elb.")?;
    (!region.is_empty() && !region.contains('.')).then_some(region)
}

/// Terraform's id of a record: `ZONE_name_TYPE`, `_SET` for a record of a set,
/// the name without its trailing dot.
pub fn record_id(zone_id: &str, name: &str, ty: &str, set_identifier: Option<&str>) -> String {
    let name = name.trim_end_matches('.');
    match set_identifier {
        Some(set) => format!("{zone_id}_{name}_{ty}_{set}"),
        None => format!("{zone_id}_{name}_{ty}"),
    }
}

/// Names each record's load balancer from its alias or CNAME target, comparing DNS
/// names case-insensitively and without `dualstack.`; a record whose target is no
/// load balancer in `resources` names none.
pub fn resolve_record_targets(resources: &mut [Resource]) {
    let balancers: std::collections::HashMap<String, LoadBalancerTarget> = resources
        .iter()
        .filter_map(|r| match &r.details {
            Details::Lb(lb) if !lb.dns_name.is_empty() => Some((
                normalize_dns_name(&lb.dns_name),
                LoadBalancerTarget {
                    region: r.region.clone(),
                    arn: r.id.clone(),
                },
            )),
            _ => None,
        })
        .collect();
    for resource in resources.iter_mut() {
        if let Details::Route53Record(record) = &mut resource.details {
            record.load_balancer = record
                .target_elb_dns_name()
                .and_then(|name| balancers.get(&name).cloned());
        }
    }
}

/// Whether Route53's answer to a record's `CREATE` says its alias target does not
/// exist (a load balancer deleted): `InvalidChangeBatch` "Tried to create an alias
/// that targets …, but the alias target name does not lie within the target zone"
/// (or "… was not found"). A dependency that is gone, with AWS's code kept.
pub fn alias_target_gone(code: &str, message: &str) -> bool {
    code == "InvalidChangeBatch"
        && message.contains("alias")
        && (message.contains("does not lie within the target zone")
            || message.contains("not found"))
}

/// Every spelling of a DNS name a record may use for it (with and without the
/// trailing dot and ELB's `dualstack.` prefix, lower case), paired with the same
/// spelling of `new`: a load balancer created again has a new DNS name, and a
/// record restored after it must name the new one however it named the old.
pub fn dns_name_spellings(old: &str, new: &str) -> Vec<(String, String)> {
    let old = normalize_dns_name(old);
    let new = normalize_dns_name(new);
    let mut pairs = Vec::new();
    for prefix in ["", "dualstack."] {
        for dot in ["", "."] {
            pairs.push((format!("{prefix}{old}{dot}"), format!("{prefix}{new}{dot}")));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_compare_without_case_trailing_dot_or_dualstack() {
        assert_eq!(
            normalize_dns_name("dualstack.Web-1.us-east-1.ELB.amazonaws.com."),
            "web-1.us-east-1.elb.amazonaws.com"
        );
        assert_eq!(
            elb_dns_region("web-1.us-east-1.elb.amazonaws.com"),
            Some("us-east-1")
        );
        assert_eq!(
            elb_dns_region("net-ab12.elb.eu-west-1.amazonaws.com"),
            Some("eu-west-1")
        );
        assert_eq!(elb_dns_region("www.example.com"), None);
        assert_eq!(
            record_id("Z1", "www.example.com.", "A", Some("blue")),
            "Z1_www.example.com_A_blue"
        );
    }

    #[test]
    fn an_alias_to_a_gone_target_is_told_from_other_refused_changes() {
        let gone = "Tried to create an alias that targets dualstack.web-1.us-east-1.elb.amazonaws.com., type A in zone Z35SXDOTRQ7X7K, but the alias target name does not lie within the target zone";
        assert!(alias_target_gone("InvalidChangeBatch", gone));
        let exists = "Tried to create resource record set [name='www.example.com.', type='A'] but it already exists";
        assert!(!alias_target_gone("InvalidChangeBatch", exists));
        assert!(!alias_target_gone("InvalidInput", gone));
    }
}
