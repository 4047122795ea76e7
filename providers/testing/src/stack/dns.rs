//! The `dns` stack of the Route53 moto tests: an application load balancer and a
//! public hosted zone whose weighted blue/green aliases name it, beside a CNAME of
//! the zone that names something else (the neighbour, which stays).

use std::collections::BTreeSet;

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};

use super::{Key, load_balancer, security_group, vpc_with_subnets};
use crate::sdk::Sdk;

/// What [`build_dns`] made.
#[derive(Debug, Clone)]
pub struct Dns {
    pub zone: String,
    pub domain: String,
    pub load_balancer: String,
    pub lb_dns_name: String,
    pub security_group: String,
    /// The blue/green aliases of `api.<domain>`, as decom identifies them.
    pub aliases: Vec<String>,
    /// The neighbour's CNAME, kept.
    pub neighbour: String,
}

impl Dns {
    /// What a spec removing the load balancer and its aliases deletes.
    pub fn removed_keys(&self) -> BTreeSet<Key> {
        let mut keys = BTreeSet::from([("aws_lb".to_string(), self.load_balancer.clone())]);
        for id in &self.aliases {
            keys.insert(("aws_route53_record".to_string(), id.clone()));
        }
        keys
    }
}

/// Terraform's id of a record (decom's): `ZONE_name_TYPE[_SET]`.
pub fn record_key(zone: &str, name: &str, ty: &str, set: Option<&str>) -> String {
    match set {
        Some(set) => format!("{zone}_{name}_{ty}_{set}"),
        None => format!("{zone}_{name}_{ty}"),
    }
}

/// Creates a record (UPSERT) in `zone`.
pub async fn upsert(sdk: &Sdk, zone: &str, record: ResourceRecordSet) {
    sdk.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(record)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("change record sets");
}

/// A weighted `A` alias of `name` to `dns_name`.
pub fn weighted_alias(name: &str, set: &str, weight: i64, dns_name: &str) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .set_identifier(set)
        .weight(weight)
        .alias_target(
            AliasTarget::builder()
                .dns_name(format!("dualstack.{dns_name}"))
                .hosted_zone_id("Z32O12XQLNTSW2")
                .evaluate_target_health(true)
                .build()
                .expect("alias target"),
        )
        .build()
        .expect("record")
}

/// A CNAME of `name` to `value`.
pub fn cname(name: &str, value: &str) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Cname)
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value(value)
                .build()
                .expect("value"),
        )
        .build()
        .expect("record")
}

pub async fn build_dns(sdk: &Sdk, domain: &str) -> Dns {
    let (vpc, subnets) = vpc_with_subnets(sdk).await;
    let group = security_group(sdk, &vpc, "dns-alb-sg", "dns").await;
    let lb = load_balancer(sdk, "dns-alb", &subnets, &group, "dns").await;
    let lb_dns_name = sdk
        .elbv2
        .describe_load_balancers()
        .load_balancer_arns(&lb)
        .send()
        .await
        .expect("describe load balancer")
        .load_balancers()[0]
        .dns_name()
        .expect("dns name")
        .to_string();
    let zone = sdk
        .route53
        .create_hosted_zone()
        .name(domain)
        .caller_reference(format!("decom-{domain}"))
        .send()
        .await
        .expect("create hosted zone")
        .hosted_zone()
        .expect("zone")
        .id()
        .rsplit('/')
        .next()
        .expect("zone id")
        .to_string();
    let api = format!("api.{domain}");
    let mut aliases = Vec::new();
    for (set, weight) in [("blue", 100), ("green", 0)] {
        upsert(sdk, &zone, weighted_alias(&api, set, weight, &lb_dns_name)).await;
        aliases.push(record_key(&zone, &api, "A", Some(set)));
    }
    let docs = format!("docs.{domain}");
    upsert(sdk, &zone, cname(&docs, "docs.example.org")).await;
    Dns {
        neighbour: record_key(&zone, &docs, "CNAME", None),
        zone,
        domain: domain.to_string(),
        load_balancer: lb,
        lb_dns_name,
        security_group: group,
        aliases,
    }
}

/// The zones, records and load balancers of the account, as decom identifies them
/// (the zones' SOA and apex NS records left out, as decom does).
pub async fn dns_census(sdk: &Sdk) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    let zones = sdk
        .route53
        .list_hosted_zones()
        .send()
        .await
        .expect("list zones");
    for zone in zones.hosted_zones() {
        let id = zone.id().rsplit('/').next().unwrap_or_default().to_string();
        let records = sdk
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(&id)
            .send()
            .await
            .expect("list records");
        for record in records.resource_record_sets() {
            let ty = record.r#type().as_str();
            let name = record.name().trim_end_matches('.');
            if ty == "SOA" || (ty == "NS" && name == zone.name().trim_end_matches('.')) {
                continue;
            }
            keys.insert((
                "aws_route53_record".to_string(),
                record_key(&id, name, ty, record.set_identifier()),
            ));
        }
        keys.insert(("aws_route53_zone".to_string(), id));
    }
    let lbs = sdk
        .elbv2
        .describe_load_balancers()
        .send()
        .await
        .expect("describe load balancers");
    for lb in lbs.load_balancers() {
        keys.insert((
            "aws_lb".to_string(),
            lb.load_balancer_arn().unwrap_or_default().to_string(),
        ));
    }
    keys
}
