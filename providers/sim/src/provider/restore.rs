//! `SimProvider`'s restore calls: each counted under its API, with the knobs'
//! latency and faults as `execute` has them, made on the account by
//! `account/restore.rs`; and the log events imported and exported.

use std::collections::BTreeMap;

use decom_provider::{ProviderError, ResourceKey, RestoreCall, Restored};
use tokio::time::Instant;

use super::{CallKind, SimProvider, hash_of};
use crate::answers::restore_api;

/// Events per PutLogEvents call (AWS's limit).
const EVENTS_PER_PUT: usize = 10_000;

impl SimProvider {
    pub(super) async fn restore_call(&self, call: &RestoreCall) -> Result<Restored, ProviderError> {
        let seed = serde_json::to_string(call).unwrap_or_default();
        let draw = self.draw(CallKind::Execute, hash_of(seed), true);
        if !draw.latency.is_zero() {
            tokio::time::sleep(draw.latency).await;
        }
        let api = restore_api(call);
        let region = Some(call.target.region.as_str());
        let mut state = self.lock();
        *state.calls.entry(api.to_string()).or_default() += 1;
        if let Some(fault) = draw.fault {
            return Err(ProviderError::new(
                api,
                region,
                fault.code(),
                fault.message(),
            ));
        }
        state
            .account
            .restore(call, Instant::now())
            .map_err(|refusal| {
                let mut error = ProviderError::new(api, region, refusal.code, refusal.message);
                // As decom-aws classifies it.
                if decom_provider::alias_target_gone(&error.code, &error.message) {
                    error.kind = decom_provider::ErrorKind::NotFound;
                }
                error
            })
    }

    /// CreateLogStream per stream and PutLogEvents per 10,000 events of a stream;
    /// into a log group that does not exist, the first CreateLogStream fails.
    pub(super) fn import_events(
        &self,
        log_group: &ResourceKey,
        events: &[serde_json::Value],
    ) -> Result<u64, ProviderError> {
        let mut streams: BTreeMap<&str, usize> = BTreeMap::new();
        for event in events {
            let stream = event.get("log_stream_name").and_then(|s| s.as_str());
            *streams.entry(stream.unwrap_or("")).or_default() += 1;
        }
        let mut state = self.current();
        let exists = state.account.contains(log_group);
        let (creates, puts) = match exists {
            true => (
                streams.len(),
                streams.values().map(|n| n.div_ceil(EVENTS_PER_PUT)).sum(),
            ),
            false => (1, 0),
        };
        for (api, n) in [
            ("logs:CreateLogStream", creates),
            ("logs:PutLogEvents", puts),
        ] {
            if n > 0 {
                *state.calls.entry(api.to_string()).or_default() += n as u64;
            }
        }
        let api = match exists {
            true => "logs:PutLogEvents",
            false => "logs:CreateLogStream",
        };
        state
            .account
            .import_log_events(log_group, events)
            .map_err(|refusal| {
                ProviderError::new(api, Some(&log_group.region), refusal.code, refusal.message)
            })
    }

    /// Deletes a VPC (with its subnets) or a subnet outside decom: restores that
    /// name it are then refused as AWS refuses them (docs/simulator.md, Restore).
    pub fn remove_network(&self, id: &str) {
        self.lock().account.remove_network(id);
    }
}
