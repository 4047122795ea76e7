//! Restoring Route53 records: ChangeResourceRecordSets `CREATE` of the archived record
//! (its values or alias target, TTL, set identifier, weight or failover role, and
//! the archive's `routing`: region, geolocation, multivalue, health check), after
//! a ListResourceRecordSets from its name that finds it `present`. The alias target
//! or CNAME value arrives already naming a load balancer restored before.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, GeoLocation, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, ResourceRecordSetRegion, RrType,
};
use decom_provider::{
    Details, ErrorKind, GLOBAL_REGION, ProviderError, RestoreAction, RestoreCall, Restored,
    Route53Record, record_id,
};
use serde_json::Value;

use super::{archived_model, created, description_of, invalid, present, unsupported};
use crate::calls::api_error;
use crate::route53::Route53;

const LIST: &str = "route53:ListResourceRecordSets";
const CHANGE: &str = "route53:ChangeResourceRecordSets";
/// Records a page of ListResourceRecordSets holds at most.
const PAGE: i32 = 300;

pub(super) async fn restore(
    route53: &Route53,
    call: &RestoreCall,
) -> Result<Restored, ProviderError> {
    match (&call.action, call.target.ty) {
        (RestoreAction::Create { .. }, decom_provider::ResourceType::Route53Record) => {
            create_record(route53, call).await
        }
        _ => Err(unsupported(call)),
    }
}

async fn create_record(route53: &Route53, call: &RestoreCall) -> Result<Restored, ProviderError> {
    let region = Some(GLOBAL_REGION);
    let description = description_of(call)?;
    let model = archived_model(&call.target, description)?;
    let Details::Route53Record(record) = &model.details else {
        return Err(invalid(&call.target, "is not a Route53 record"));
    };
    let id = record_id(
        &record.zone_id,
        &record.record_name,
        &record.record_type,
        record.set_identifier.as_deref(),
    );
    // One change at a time per zone, as deletions make them.
    let lock = route53.zone_lock(&record.zone_id);
    let _serialized = lock.lock().await;
    if exists(&route53.client, record).await? {
        return Ok(present(id));
    }
    let routing = description.get("routing").unwrap_or(&Value::Null);
    let set = record_set(record, routing).map_err(|e| invalid(&call.target, e))?;
    let change = Change::builder()
        .action(ChangeAction::Create)
        .resource_record_set(set)
        .build()
        .map_err(|e| crate::calls::malformed(CHANGE, region, e))?;
    let batch = ChangeBatch::builder()
        .changes(change)
        .build()
        .map_err(|e| crate::calls::malformed(CHANGE, region, e))?;
    let answer = route53
        .client
        .change_resource_record_sets()
        .hosted_zone_id(&record.zone_id)
        .change_batch(batch)
        .send()
        .await;
    match answer {
        Ok(_) => Ok(created(id)),
        Err(e) => {
            let error = alias_target_gone(api_error(CHANGE, region, e));
            // Created meanwhile by someone else: "… but it already exists".
            if error.code == "InvalidChangeBatch" && error.message.contains("already exists") {
                Ok(present(id))
            } else {
                Err(error)
            }
        }
    }
}

/// Whether the zone holds a record of that name, type and set identifier: listed
/// from the record's name and type on, page by page while the pages stay on them.
/// A zone that is gone is `NotFound` (`NoSuchHostedZone`).
async fn exists(client: &Client, record: &Route53Record) -> Result<bool, ProviderError> {
    let ty = RrType::from(record.record_type.as_str());
    let same_name = |name: &str| dns_eq(name, &record.record_name);
    let mut start: (String, Option<String>) = (record.record_name.clone(), None);
    loop {
        let out = client
            .list_resource_record_sets()
            .hosted_zone_id(&record.zone_id)
            .start_record_name(&start.0)
            .start_record_type(ty.clone())
            .set_start_record_identifier(start.1.take())
            .max_items(PAGE)
            .send()
            .await
            .map_err(|e| api_error(LIST, Some(GLOBAL_REGION), e))?;
        let sets = out.resource_record_sets();
        if sets.iter().any(|r| {
            same_name(r.name())
                && *r.r#type() == ty
                && r.set_identifier() == record.set_identifier.as_deref()
        }) {
            return Ok(true);
        }
        let past = sets
            .last()
            .is_none_or(|r| !same_name(r.name()) || *r.r#type() != ty);
        match (out.is_truncated(), out.next_record_name()) {
            (true, Some(name)) if !past && same_name(name) => {
                start = (
                    name.to_string(),
                    out.next_record_identifier().map(str::to_string),
                );
            }
            _ => return Ok(false),
        }
    }
}

/// An alias whose target is gone: `NotFound`, with AWS's code kept
/// ([`decom_provider::alias_target_gone`]).
fn alias_target_gone(mut error: ProviderError) -> ProviderError {
    if decom_provider::alias_target_gone(&error.code, &error.message) {
        error.kind = ErrorKind::NotFound;
    }
    error
}

/// DNS names compare without case and trailing dot.
fn dns_eq(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// The record set to CREATE, from the archived record and its `routing` (what the
/// model does not hold; `null` in an archive written without it).
fn record_set(record: &Route53Record, routing: &Value) -> Result<ResourceRecordSet, String> {
    let field = |name: &str| routing.get(name).and_then(Value::as_str);
    let geo = routing
        .get("geo_location")
        .filter(|g| !g.is_null())
        .map(|g| {
            let code = |name: &str| g.get(name).and_then(Value::as_str).map(str::to_string);
            GeoLocation::builder()
                .set_continent_code(code("continent_code"))
                .set_country_code(code("country_code"))
                .set_subdivision_code(code("subdivision_code"))
                .build()
        });
    let alias = match &record.alias {
        Some(alias) => Some(
            AliasTarget::builder()
                .dns_name(&alias.dns_name)
                .hosted_zone_id(&alias.hosted_zone_id)
                .evaluate_target_health(alias.evaluate_target_health)
                .build()
                .map_err(|e| format!("has an alias target Route53 refuses: {e}"))?,
        ),
        None => None,
    };
    let values = record
        .values
        .iter()
        .map(|value| ResourceRecord::builder().value(value).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("has a value Route53 refuses: {e}"))?;
    if alias.is_none() && values.is_empty() {
        return Err("holds neither values nor an alias target".into());
    }
    ResourceRecordSet::builder()
        .name(&record.record_name)
        .r#type(RrType::from(record.record_type.as_str()))
        // An alias has no TTL of its own.
        .set_ttl(record.ttl.filter(|_| alias.is_none()))
        .set_resource_records((!values.is_empty()).then_some(values))
        .set_alias_target(alias)
        .set_set_identifier(record.set_identifier.clone())
        .set_weight(record.weight)
        .set_failover(
            record
                .failover
                .as_deref()
                .map(ResourceRecordSetFailover::from),
        )
        .set_region(field("region").map(ResourceRecordSetRegion::from))
        .set_geo_location(geo)
        .set_multi_value_answer(routing.get("multi_value_answer").and_then(Value::as_bool))
        .set_health_check_id(field("health_check_id").map(str::to_string))
        .build()
        .map_err(|e| format!("is not a record set: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use decom_provider::AliasTarget as Alias;

    #[test]
    fn an_alias_is_created_without_ttl_or_values() {
        let record = Route53Record {
            zone_id: "Z1".into(),
            record_name: "api.example.com.".into(),
            record_type: "A".into(),
            set_identifier: Some("blue".into()),
            weight: Some(100),
            ttl: Some(60),
            alias: Some(Alias {
                dns_name: "dualstack.web-1.us-east-1.elb.amazonaws.com.".into(),
                hosted_zone_id: "Z35SXDOTRQ7X7K".into(),
                evaluate_target_health: true,
            }),
            ..Route53Record::default()
        };
        let set = record_set(&record, &Value::Null).expect("a record set");
        assert_eq!(set.ttl(), None);
        assert!(set.resource_records().is_empty());
        assert_eq!(set.weight(), Some(100));
        assert_eq!(set.set_identifier(), Some("blue"));
        let empty = Route53Record {
            alias: None,
            ..record.clone()
        };
        assert!(record_set(&empty, &Value::Null).is_err());
        let latency = serde_json::json!({ "region": "eu-west-1", "health_check_id": "hc-1" });
        let set = record_set(&record, &latency).expect("a record set");
        assert_eq!(set.region().map(|r| r.as_str()), Some("eu-west-1"));
        assert_eq!(set.health_check_id(), Some("hc-1"));
        assert!(dns_eq("API.example.com.", "api.example.com"));
    }
}
