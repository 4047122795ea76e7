//! Route53 at the edge: hosted zones and their record sets, from SDK shapes into
//! decom's model; the deletion of a record (the exact live record, re-read first,
//! one change at a time per zone) and of a zone; their archive descriptions. Route53
//! is global: its resources are filed under the global region, like IAM's.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, HostedZone as SdkZone,
    ResourceRecordSet as SdkRecord, RrType,
};
use decom_provider::{
    Action, AliasTarget, Details, ErrorKind, GLOBAL_REGION, HostedZone, Operation, ProviderError,
    Resource, ResourceKey, ResourceType, Route53Record, record_id,
};

use crate::calls::api_error;
use crate::discover::{Denials, Found};

const LIST_ZONES: &str = "route53:ListHostedZones";
const LIST_RECORDS: &str = "route53:ListResourceRecordSets";
const CHANGE: &str = "route53:ChangeResourceRecordSets";

/// The Route53 client, with what its changes share: one change at a time per zone
/// (Route53 answers `PriorRequestNotComplete` to a change made while the last one
/// is still pending), and the change id of each record deleted, for its wait.
#[derive(Debug)]
pub(crate) struct Route53 {
    pub(crate) client: Client,
    zones: Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>,
    changes: Mutex<BTreeMap<String, String>>,
}

impl Route53 {
    pub(crate) fn new(client: Client) -> Route53 {
        Route53 {
            client,
            zones: Mutex::new(BTreeMap::new()),
            changes: Mutex::new(BTreeMap::new()),
        }
    }

    pub(crate) fn zone_lock(&self, zone: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut zones = self.zones.lock().unwrap_or_else(|e| e.into_inner());
        zones.entry(zone.to_string()).or_default().clone()
    }
}

pub(crate) async fn discover(
    client: &Client,
    types: &BTreeSet<ResourceType>,
    denials: &Denials,
) -> Result<Found, ProviderError> {
    let mut found = Found::default();
    let listed = denials.unless_denied(list_all(client).await)?;
    for resource in listed.unwrap_or_default() {
        if types.contains(&resource.ty()) {
            found.resources.push(resource);
        }
    }
    Ok(found)
}

/// Every zone and every record of each.
async fn list_all(client: &Client) -> Result<Vec<Resource>, ProviderError> {
    let zones: Vec<SdkZone> = client
        .list_hosted_zones()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error(LIST_ZONES, Some(GLOBAL_REGION), e))?;
    let mut resources = Vec::new();
    for zone in &zones {
        let model = zone_model(zone);
        let (zone_id, domain) = (model.id.clone(), zone.name().to_string());
        resources.push(model);
        for record in list_records(client, &zone_id).await? {
            if let Some(resource) = record_model(&zone_id, &domain, &record) {
                resources.push(resource);
            }
        }
    }
    Ok(resources)
}

/// The record sets of a zone. ListResourceRecordSets pages by the next record's
/// name, type and identifier: the SDK has no paginator for it.
async fn list_records(client: &Client, zone_id: &str) -> Result<Vec<SdkRecord>, ProviderError> {
    let mut records = Vec::new();
    let mut next: Option<(String, Option<RrType>, Option<String>)> = None;
    loop {
        let mut call = client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .max_items(300);
        if let Some((name, ty, identifier)) = next.take() {
            call = call
                .start_record_name(name)
                .set_start_record_type(ty)
                .set_start_record_identifier(identifier);
        }
        let out = call
            .send()
            .await
            .map_err(|e| api_error(LIST_RECORDS, Some(GLOBAL_REGION), e))
            .map_err(|e| not_found_named(e, "NoSuchHostedZone"))?;
        records.extend(out.resource_record_sets().iter().cloned());
        match (out.is_truncated(), out.next_record_name()) {
            (true, Some(name)) => {
                next = Some((
                    name.to_string(),
                    out.next_record_type().cloned(),
                    out.next_record_identifier().map(str::to_string),
                ))
            }
            _ => break,
        }
    }
    Ok(records)
}

/// The zone's id without `/hostedzone/`.
fn bare_zone_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn zone_model(zone: &SdkZone) -> Resource {
    let id = bare_zone_id(zone.id()).to_string();
    let config = zone.config();
    Resource {
        name: zone.name().trim_end_matches('.').to_string(),
        id,
        region: GLOBAL_REGION.to_string(),
        tags: BTreeMap::new(),
        details: Details::Route53Zone(HostedZone {
            domain: zone.name().to_string(),
            private: config.is_some_and(|c| c.private_zone()),
            record_count: zone.resource_record_set_count().unwrap_or_default(),
            comment: config
                .and_then(|c| c.comment())
                .unwrap_or_default()
                .to_string(),
        }),
    }
}

/// The record in the model; `None` for the zone's SOA and apex NS records, which
/// AWS deletes with the zone and refuses to delete alone.
fn record_model(zone_id: &str, domain: &str, record: &SdkRecord) -> Option<Resource> {
    let ty = record.r#type().as_str();
    let apex = record.name().trim_end_matches('.') == domain.trim_end_matches('.');
    if ty == "SOA" || (ty == "NS" && apex) {
        return None;
    }
    let details = Route53Record {
        zone_id: zone_id.to_string(),
        record_name: record.name().to_string(),
        record_type: ty.to_string(),
        set_identifier: record.set_identifier().map(str::to_string),
        weight: record.weight(),
        failover: record.failover().map(|f| f.as_str().to_string()),
        ttl: record.ttl(),
        values: record
            .resource_records()
            .iter()
            .map(|r| r.value().to_string())
            .collect(),
        alias: record.alias_target().map(|a| AliasTarget {
            dns_name: a.dns_name().to_string(),
            hosted_zone_id: a.hosted_zone_id().to_string(),
            evaluate_target_health: a.evaluate_target_health(),
        }),
        load_balancer: None,
    };
    Some(Resource {
        id: record_id(zone_id, record.name(), ty, record.set_identifier()),
        name: record.name().trim_end_matches('.').to_string(),
        region: GLOBAL_REGION.to_string(),
        tags: BTreeMap::new(),
        details: Details::Route53Record(details),
    })
}

/// The zone of a record id (`ZONE_name_TYPE…`: zone ids hold no `_`).
fn record_zone(id: &str) -> &str {
    id.split('_').next().unwrap_or(id)
}

/// The live record whose id is `id`, as Route53 answers it now.
async fn live_record(client: &Client, id: &str) -> Result<Option<SdkRecord>, ProviderError> {
    let zone = record_zone(id);
    let records = match list_records(client, zone).await {
        Ok(records) => records,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(records
        .into_iter()
        .find(|r| record_id(zone, r.name(), r.r#type().as_str(), r.set_identifier()) == id))
}

/// Route53 answers `InvalidChangeBatch` "… it was not found" to the deletion of a
/// record already gone, and `NoSuchHostedZone` for a zone: decom names the first
/// `ResourceRecordSet.NotFound`, so that either counts as done.
fn not_found_named(mut error: ProviderError, code: &str) -> ProviderError {
    let gone_record = error.code == "InvalidChangeBatch" && error.message.contains("not found");
    if gone_record || error.code == "NoSuchHostedZone" {
        error.code = code.to_string();
        error.kind = ErrorKind::NotFound;
    }
    error
}

pub(crate) async fn execute(route53: &Route53, op: &Operation) -> Result<(), ProviderError> {
    let client = &route53.client;
    let region = Some(GLOBAL_REGION);
    let id = op.target.id.as_str();
    match (&op.action, op.target.ty) {
        (Action::Delete, ResourceType::Route53Record) => {
            let lock = route53.zone_lock(record_zone(id));
            let _serialized = lock.lock().await;
            // DELETE must carry the record exactly as it is: read it again.
            let Some(live) = live_record(client, id).await? else {
                return Ok(());
            };
            let change = Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(live)
                .build()
                .map_err(|e| crate::calls::malformed(CHANGE, region, e))?;
            let batch = ChangeBatch::builder()
                .changes(change)
                .build()
                .map_err(|e| crate::calls::malformed(CHANGE, region, e))?;
            let out = client
                .change_resource_record_sets()
                .hosted_zone_id(record_zone(id))
                .change_batch(batch)
                .send()
                .await
                .map_err(|e| api_error(CHANGE, region, e))
                .map_err(|e| not_found_named(e, "ResourceRecordSet.NotFound"))?;
            if let Some(info) = out.change_info() {
                let mut changes = route53.changes.lock().unwrap_or_else(|e| e.into_inner());
                changes.insert(id.to_string(), info.id().to_string());
            }
            Ok(())
        }
        (Action::Delete, ResourceType::Route53Zone) => client
            .delete_hosted_zone()
            .id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("route53:DeleteHostedZone", region, e))
            .map_err(|e| not_found_named(e, "NoSuchHostedZone")),
        (Action::AwaitDeletion, _) => Ok(()),
        _ => Err(crate::unsupported(op)),
    }
}

/// Whether the deletion of a record is applied on every Route53 server (GetChange
/// `INSYNC`). An endpoint without GetChange (moto) counts it applied.
pub(crate) async fn change_in_sync(
    route53: &Route53,
    op: &Operation,
) -> Result<bool, ProviderError> {
    let change = {
        let changes = route53.changes.lock().unwrap_or_else(|e| e.into_inner());
        changes.get(&op.target.id).cloned()
    };
    let Some(change) = change else {
        return Ok(true);
    };
    match route53.client.get_change().id(change).send().await {
        Ok(out) => Ok(out
            .change_info()
            .is_none_or(|info| *info.status() == ChangeStatus::Insync)),
        Err(e) => {
            let error = api_error("route53:GetChange", Some(GLOBAL_REGION), e);
            if error.kind == ErrorKind::Other || error.kind == ErrorKind::NotFound {
                // Not implemented by the endpoint, or a change Route53 forgot: there is
                // nothing left to wait for.
                return Ok(true);
            }
            Err(error)
        }
    }
}

/// Describes one zone or record for the archive, as the model holds it; `None` if it
/// is gone.
pub(crate) async fn describe(
    client: &Client,
    target: &ResourceKey,
) -> Result<Option<serde_json::Value>, ProviderError> {
    let resource = match target.ty {
        ResourceType::Route53Record => {
            let zone = record_zone(&target.id);
            let Some(live) = live_record(client, &target.id).await? else {
                return Ok(None);
            };
            return Ok(record_model(zone, "", &live)
                .map(|model| serde_json::json!({ "model": model, "routing": routing(&live) })));
        }
        ResourceType::Route53Zone => {
            let out = client.get_hosted_zone().id(&target.id).send().await;
            match out.map_err(|e| api_error("route53:GetHostedZone", Some(GLOBAL_REGION), e)) {
                Ok(out) => out.hosted_zone().map(zone_model),
                Err(e)
                    if not_found_named(e.clone(), "NoSuchHostedZone").kind
                        == ErrorKind::NotFound =>
                {
                    None
                }
                Err(e) => return Err(e),
            }
        }
        _ => return Err(crate::unsupported_describe(target)),
    };
    resource
        .map(|r| {
            serde_json::to_value(&r)
                .map_err(|e| crate::calls::malformed("decom:describe", Some(GLOBAL_REGION), e))
        })
        .transpose()
}

/// What routes a record besides its weight and failover role, which the model does
/// not hold: a latency record's region, a geolocation, a multivalue answer, its
/// health check. A restore recreates the record with them.
fn routing(record: &SdkRecord) -> serde_json::Value {
    serde_json::json!({
        "region": record.region().map(|r| r.as_str()),
        "geo_location": record.geo_location().map(|g| serde_json::json!({
            "continent_code": g.continent_code(),
            "country_code": g.country_code(),
            "subdivision_code": g.subdivision_code(),
        })),
        "multi_value_answer": record.multi_value_answer(),
        "health_check_id": record.health_check_id(),
    })
}

/// The SHA-256 of an empty payload.
const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Signs Route53's bodiless requests (its listings are GETs) with the payload's hash
/// in `x-amz-content-sha256`, which SigV4 allows for every service. A verifier that
/// rebuilds the request from its query parameters (moto, with IAM enforced, takes
/// them for the body of a GET) then checks the same payload the SDK signed.
#[derive(Debug)]
pub(crate) struct SignedEmptyPayload;

impl aws_smithy_runtime_api::client::interceptors::Intercept for SignedEmptyPayload {
    fn name(&self) -> &'static str {
        "DecomSignedEmptyPayload"
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_sdk_route53::config::RuntimeComponents,
        _cfg: &mut aws_sdk_route53::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let request = context.request_mut();
        if request.body().bytes().is_some_and(<[u8]>::is_empty) {
            request
                .headers_mut()
                .insert("x-amz-content-sha256", EMPTY_PAYLOAD_SHA256);
        }
        Ok(())
    }
}
