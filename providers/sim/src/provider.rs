//! `SimProvider`: the simulated account behind the `Provider` interface, with injected
//! faults and latency, call statistics and a history of every executed operation.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use decom_provider::{
    ApiCallStats, CallerIdentity, DiscoveryProgress, DiscoveryRequest, FactRequest, Inventory,
    Obstacle, Operation, Provider, ProviderError, RateKey, Resource, ResourceKey,
    inventory::SnapshotError,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::account::Account;
use crate::answers::{api_name, describe_api};
use crate::discovery;
use crate::knobs::Knobs;
use crate::throttle::Buckets;

mod restore;

/// Describes in flight in [`SimProvider::describe_many`]: as many as the AWS
/// provider has at most (4 batches at once, 8 calls in flight in each).
const DESCRIBES_IN_FLIGHT: usize = 32;

/// Who the simulator says the credentials belong to.
pub(crate) fn identity(account_id: &str) -> CallerIdentity {
    CallerIdentity {
        arn: format!("arn:aws:iam::{account_id}:user/decom-sim"),
        account_id: account_id.to_string(),
    }
}

/// Operations per poll call in [`SimProvider`]'s `settled_many`: as many ids as an
/// EC2 filter takes.
const SETTLED_BATCH: usize = 200;

/// How one executed call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SimOutcome {
    Succeeded,
    Failed {
        /// The AWS error code answered.
        code: String,
        /// A fault the knobs injected (throttling, 5xx), not a refusal by the rules.
        injected: bool,
    },
}

/// One `execute` call, in the order the simulated account saw them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimEvent {
    /// 0, 1, 2, … in the order the calls took effect.
    pub seq: u64,
    pub operation: Operation,
    /// The API call: `ec2:DeleteSecurityGroup`.
    pub api: String,
    #[serde(flatten)]
    pub outcome: SimOutcome,
}

impl SimEvent {
    pub fn succeeded(&self) -> bool {
        self.outcome == SimOutcome::Succeeded
    }

    /// The error code, if the call failed.
    pub fn error_code(&self) -> Option<&str> {
        match &self.outcome {
            SimOutcome::Succeeded => None,
            SimOutcome::Failed { code, .. } => Some(code),
        }
    }

    /// Refused by AWS's dependency rules (`DependencyViolation`, `ResourceInUse`,
    /// `DeleteConflict`, `VolumeInUse`, `ScalingActivityInProgress`): what a
    /// correctly ordered plan never causes, IAM propagation delays aside.
    pub fn is_dependency_error(&self) -> bool {
        matches!(
            self.error_code(),
            Some(
                "DependencyViolation"
                    | "ResourceInUse"
                    | "DeleteConflict"
                    | "ClusterContainsServicesException"
                    | "ClusterContainsTasksException"
                    | "ClusterContainsContainerInstancesException"
                    | "VolumeInUse"
                    | "ScalingActivityInProgress"
                    // DeleteAlarms: "Cannot delete … as there are composite alarm(s)
                    // depending on it".
                    | "ValidationError"
            )
        )
    }
}

/// Kinds of call, so that each draws its own faults.
#[derive(Debug, Clone, Copy, Hash)]
enum CallKind {
    Execute,
    Poll,
    Read,
}

struct SimState {
    account: Account,
    history: Vec<SimEvent>,
    calls: ApiCallStats,
    /// How many times each (kind, operation) was called, by hash: the draws depend on
    /// the seed, the operation and this count, never on interleaving.
    attempts: BTreeMap<u64, u32>,
}

/// An in-memory AWS account that enforces AWS's deletion rules.
pub struct SimProvider {
    knobs: Knobs,
    state: Mutex<SimState>,
    /// AWS's token buckets, with [`Knobs::rate_limits`].
    buckets: Option<Buckets>,
}

/// FNV-1a: a hash that is stable across runs and Rust versions, for seeding draws.
struct Fnv64(u64);

impl Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

pub(crate) fn hash_of(value: impl Hash) -> u64 {
    let mut h = Fnv64(0xcbf2_9ce4_8422_2325);
    value.hash(&mut h);
    h.finish()
}

/// A fault the knobs inject instead of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Throttling,
    InternalError,
}

impl Fault {
    fn code(self) -> &'static str {
        match self {
            Fault::Throttling => "Throttling",
            Fault::InternalError => "InternalError",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Fault::Throttling => "Rate exceeded (injected by the simulator)",
            Fault::InternalError => "An internal error has occurred (injected by the simulator)",
        }
    }
}

/// What the knobs drew for one call.
struct Draw {
    latency: Duration,
    fault: Option<Fault>,
}

impl SimProvider {
    pub fn new(inventory: Inventory, knobs: Knobs) -> Self {
        SimProvider {
            state: Mutex::new(SimState {
                account: Account::new(inventory, knobs.clone()),
                history: Vec::new(),
                calls: ApiCallStats::new(),
                attempts: BTreeMap::new(),
            }),
            buckets: knobs.rate_limits.then(|| Buckets::new(knobs.time_scale)),
            knobs,
        }
    }

    /// A simulator with [`Knobs::default`] (instant, deterministic, no faults).
    pub fn from_inventory(inventory: Inventory) -> Self {
        Self::new(inventory, Knobs::default())
    }

    /// Loads a snapshot file (`fixtures/<name>/inventory.json`).
    pub fn load(path: &Path, knobs: Knobs) -> Result<Self, SnapshotError> {
        Ok(Self::new(Inventory::load(path)?, knobs))
    }

    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }

    /// Calls answered with a throttling code because their token bucket was empty
    /// ([`Knobs::rate_limits`]), per bucket.
    pub fn throttled(&self) -> BTreeMap<RateKey, u64> {
        self.buckets
            .as_ref()
            .map(Buckets::throttled)
            .unwrap_or_default()
    }

    /// Takes a token for the call, when the knobs model AWS's rate limits.
    fn take_token(&self, key: &RateKey, api: &str) -> Result<(), ProviderError> {
        match &self.buckets {
            Some(buckets) => buckets.take(key, api),
            None => Ok(()),
        }
    }

    /// The account's regions, sorted and once each.
    pub fn regions(&self) -> Vec<String> {
        self.lock().account.regions().to_vec()
    }

    /// The account's current state, as a snapshot.
    pub fn snapshot(&self) -> Inventory {
        self.current().account.snapshot()
    }

    /// Every `execute` call so far, in the order they took effect.
    pub fn history(&self) -> Vec<SimEvent> {
        self.lock().history.clone()
    }

    /// The calls AWS refused for a dependency (see [`SimEvent::is_dependency_error`]).
    pub fn dependency_errors(&self) -> Vec<SimEvent> {
        self.lock()
            .history
            .iter()
            .filter(|e| e.is_dependency_error())
            .cloned()
            .collect()
    }

    /// Operations that succeeded more than once, in the order of their second success
    /// (an engine must never repeat a completed step).
    pub fn repeated_successes(&self) -> Vec<Operation> {
        let state = self.lock();
        let mut seen = std::collections::BTreeSet::new();
        let mut repeated = Vec::new();
        for event in state.history.iter().filter(|e| e.succeeded()) {
            if !seen.insert(&event.operation) && !repeated.contains(&event.operation) {
                repeated.push(event.operation.clone());
            }
        }
        repeated
    }

    /// The resource as it is now.
    pub fn resource(&self, key: &ResourceKey) -> Option<Resource> {
        self.current().account.get(key).cloned()
    }

    pub fn contains(&self, key: &ResourceKey) -> bool {
        self.current().account.contains(key)
    }

    /// What would make AWS refuse to delete `key` now.
    pub fn obstacles(&self, key: &ResourceKey) -> Vec<Obstacle> {
        self.current().account.obstacles(key)
    }

    /// The state with every time-based completion that is due applied.
    fn current(&self) -> MutexGuard<'_, SimState> {
        let mut state = self.lock();
        state.account.advance(Instant::now());
        state
    }

    /// Counts calls made, per `service:Operation`.
    fn count(&self, calls: &BTreeMap<&'static str, u64>) {
        let mut state = self.lock();
        for (api, n) in calls {
            *state.calls.entry((*api).to_string()).or_default() += n;
        }
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock leaves the state consistent enough for the
        // test that panicked to report; do not cascade the poison.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Draws latency and fault for the next call of `call` (a hash of the operation,
    /// or of the read's name).
    fn draw(&self, kind: CallKind, call: u64, faults: bool) -> Draw {
        let knobs = &self.knobs;
        let may_fault = faults && knobs.has_faults();
        if !may_fault && !knobs.has_latency() {
            return Draw {
                latency: Duration::ZERO,
                fault: None,
            };
        }
        let call = hash_of((kind, call));
        let attempt = {
            let mut state = self.lock();
            let n = state.attempts.entry(call).or_insert(0);
            *n += 1;
            *n
        };
        let mut rng = StdRng::seed_from_u64(hash_of((knobs.seed, call, attempt)));
        let latency = self.latency(&mut rng);
        let fault = if may_fault {
            let r: f64 = rng.random();
            if r < knobs.throttle_rate {
                Some(Fault::Throttling)
            } else if r < knobs.throttle_rate + knobs.transient_rate {
                Some(Fault::InternalError)
            } else {
                None
            }
        } else {
            None
        };
        Draw { latency, fault }
    }

    fn latency(&self, rng: &mut StdRng) -> Duration {
        let (min, max) = (
            self.knobs.latency_min,
            self.knobs.latency_max.max(self.knobs.latency_min),
        );
        let unscaled = if max > min {
            min + (max - min).mul_f64(rng.random::<f64>())
        } else {
            min
        };
        self.knobs.scaled(unscaled)
    }

    /// Latency of a call that draws no fault (discovery, identity, describe).
    async fn read_latency(&self, what: &str) {
        if self.knobs.has_latency() {
            let draw = self.draw(CallKind::Read, hash_of(what), false);
            tokio::time::sleep(draw.latency).await;
        }
    }
}

#[async_trait]
impl Provider for SimProvider {
    async fn caller_identity(&self) -> Result<CallerIdentity, ProviderError> {
        self.read_latency("sts:GetCallerIdentity").await;
        let mut state = self.lock();
        *state
            .calls
            .entry("sts:GetCallerIdentity".into())
            .or_default() += 1;
        Ok(identity(state.account.account_id()))
    }

    async fn discover(
        &self,
        request: &DiscoveryRequest,
        progress: &dyn DiscoveryProgress,
    ) -> Result<Inventory, ProviderError> {
        let found = {
            let mut state = self.lock();
            state.account.advance(Instant::now());
            state.account.discover(request)
        };
        for service in discovery::calls_for(request, &found) {
            progress.started(service.service, &service.region);
            // One latency per service and region: the real provider pages and fans
            // out concurrently.
            self.read_latency(&format!("discover:{}:{}", service.service, service.region))
                .await;
            self.count(&service.calls);
            progress.finished(service.service, &service.region, service.resources);
        }
        Ok(found)
    }

    async fn discover_listings(
        &self,
        request: &DiscoveryRequest,
        progress: &dyn DiscoveryProgress,
    ) -> Result<Inventory, ProviderError> {
        let found = {
            let mut state = self.lock();
            state.account.advance(Instant::now());
            state.account.discover(request)
        };
        for service in discovery::listing_calls_for(request, &found) {
            progress.started(service.service, &service.region);
            self.read_latency(&format!("discover:{}:{}", service.service, service.region))
                .await;
            self.count(&service.calls);
            progress.finished(service.service, &service.region, service.resources);
        }
        Ok(decom_provider::unread::as_listed(&found))
    }

    async fn read_facts(
        &self,
        inventory: &mut Inventory,
        wanted: &FactRequest,
    ) -> Result<(), ProviderError> {
        // Every type: a listener's rules are found through it even when listeners
        // themselves are not asked for.
        let request = DiscoveryRequest::everything(inventory.regions.clone());
        let current = {
            let mut state = self.lock();
            state.account.advance(Instant::now());
            state.account.discover(&request)
        };
        let read = decom_provider::unread::read_from(inventory, &current, wanted);
        for ((service, region), calls) in discovery::fact_calls(&read) {
            self.read_latency(&format!("facts:{service}:{region}"))
                .await;
            self.count(&calls);
        }
        Ok(())
    }

    async fn execute(&self, operation: &Operation) -> Result<(), ProviderError> {
        let draw = self.draw(CallKind::Execute, hash_of(operation), true);
        if !draw.latency.is_zero() {
            tokio::time::sleep(draw.latency).await;
        }
        let mut state = self.lock();
        let state = &mut *state;
        let api = api_name(operation, state.account.get(&operation.target));
        *state.calls.entry(api.to_string()).or_default() += 1;
        let limited = self.take_token(&operation.rate_key(), api).err();
        let result = match (limited, draw.fault) {
            (Some(throttled), _) => Err((throttled.code, throttled.message, true)),
            (None, Some(fault)) => {
                Err((fault.code().to_string(), fault.message().to_string(), true))
            }
            (None, None) => state
                .account
                .execute(operation, Instant::now())
                .map_err(|refusal| (refusal.code.to_string(), refusal.message, false)),
        };
        let outcome = match &result {
            Ok(()) => SimOutcome::Succeeded,
            Err((code, _, injected)) => SimOutcome::Failed {
                code: code.clone(),
                injected: *injected,
            },
        };
        state.history.push(SimEvent {
            seq: state.history.len() as u64,
            operation: operation.clone(),
            api: api.to_string(),
            outcome,
        });
        result.map_err(|(code, message, _)| {
            ProviderError::new(api, Some(&operation.target.region), code, message)
        })
    }

    async fn is_settled(&self, operation: &Operation) -> Result<bool, ProviderError> {
        let draw = self.draw(CallKind::Poll, hash_of(operation), true);
        if !draw.latency.is_zero() {
            tokio::time::sleep(draw.latency).await;
        }
        let mut state = self.lock();
        let api = describe_api(operation.target.ty);
        if operation.wait().is_some() {
            *state.calls.entry(api.to_string()).or_default() += 1;
            self.take_token(&operation.poll_rate_key(), api)?;
        }
        if let Some(fault) = draw.fault {
            return Err(ProviderError::new(
                api,
                Some(&operation.target.region),
                fault.code(),
                fault.message(),
            ));
        }
        Ok(state.account.poll(operation, Instant::now()))
    }

    /// As the AWS provider polls: one call per region, describe API and 200
    /// operations, each charged one latency. Faults are drawn per operation, as
    /// `is_settled` draws them, so that they do not depend on how polls were batched.
    async fn settled_many(&self, operations: &[Operation]) -> Vec<Result<bool, ProviderError>> {
        let mut groups: BTreeMap<(&str, &'static str), Vec<usize>> = BTreeMap::new();
        for (i, operation) in operations.iter().enumerate() {
            let api = describe_api(operation.target.ty);
            groups
                .entry((operation.target.region.as_str(), api))
                .or_default()
                .push(i);
        }
        let calls = groups.iter().flat_map(|((region, api), indices)| {
            indices
                .chunks(SETTLED_BATCH)
                .map(move |chunk| (*region, *api, chunk))
        });
        let answered =
            futures_util::future::join_all(calls.map(|(region, api, chunk)| async move {
                let draws: Vec<Draw> = chunk
                    .iter()
                    .map(|&i| self.draw(CallKind::Poll, hash_of(&operations[i]), true))
                    .collect();
                if !draws[0].latency.is_zero() {
                    tokio::time::sleep(draws[0].latency).await;
                }
                let mut state = self.lock();
                *state.calls.entry(api.to_string()).or_default() += 1;
                let limited = self
                    .take_token(&operations[chunk[0]].poll_rate_key(), api)
                    .err();
                let now = Instant::now();
                chunk
                    .iter()
                    .zip(draws)
                    .map(|(&i, draw)| {
                        let answer = match (&limited, draw.fault) {
                            (Some(throttled), _) => Err(throttled.clone()),
                            (None, Some(fault)) => Err(ProviderError::new(
                                api,
                                Some(region),
                                fault.code(),
                                fault.message(),
                            )),
                            (None, None) => Ok(state.account.poll(&operations[i], now)),
                        };
                        (i, answer)
                    })
                    .collect::<Vec<_>>()
            }))
            .await;
        let mut answers: Vec<Option<Result<bool, ProviderError>>> = vec![None; operations.len()];
        for (i, answer) in answered.into_iter().flatten() {
            answers[i] = Some(answer);
        }
        answers
            .into_iter()
            .map(|answer| answer.expect("every operation is in one chunk"))
            .collect()
    }

    async fn describe(
        &self,
        target: &ResourceKey,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        self.read_latency(&format!("describe:{target}")).await;
        let mut state = self.lock();
        state.account.advance(Instant::now());
        *state
            .calls
            .entry(describe_api(target.ty).to_string())
            .or_default() += 1;
        Ok(state
            .account
            .get(target)
            .map(|r| serde_json::to_value(r).expect("a resource serializes")))
    }

    /// One describe per resource, as many in flight as the AWS provider has: the
    /// simulator charges each resource a read, as the AWS calls that have no batch
    /// form do (its batch calls make the AWS provider faster than this).
    async fn describe_many(
        &self,
        targets: &[ResourceKey],
        _discovered: Option<&Inventory>,
    ) -> Vec<Result<Option<serde_json::Value>, ProviderError>> {
        use futures_util::StreamExt;
        futures_util::stream::iter(0..targets.len())
            .map(|i| self.describe(&targets[i]))
            .buffered(DESCRIBES_IN_FLIGHT)
            .collect()
            .await
    }

    async fn restore(
        &self,
        call: &decom_provider::RestoreCall,
    ) -> Result<decom_provider::Restored, ProviderError> {
        self.restore_call(call).await
    }

    async fn import_log_events(
        &self,
        log_group: &ResourceKey,
        events: &[serde_json::Value],
    ) -> Result<u64, ProviderError> {
        self.import_events(log_group, events)
    }

    async fn export_log_events(
        &self,
        log_group: &ResourceKey,
        sink: &mut (dyn FnMut(serde_json::Value) -> std::io::Result<()> + Send),
    ) -> Result<u64, ProviderError> {
        let events = {
            let mut state = self.current();
            *state
                .calls
                .entry("logs:FilterLogEvents".to_string())
                .or_default() += 1;
            if state.account.get(log_group).is_none() {
                return Err(ProviderError::new(
                    "logs:FilterLogEvents",
                    Some(&log_group.region),
                    "ResourceNotFoundException",
                    format!("log group {} does not exist", log_group.id),
                ));
            }
            // Snapshots record log groups, not their events: only imported ones export.
            state.account.log_events(log_group).to_vec()
        };
        let count = events.len() as u64;
        for event in events {
            sink(event).map_err(|e| {
                ProviderError::new(
                    "decom:archive",
                    Some(&log_group.region),
                    "ArchiveWriteFailed",
                    format!("cannot write the events of {}: {e}", log_group.id),
                )
            })?;
        }
        Ok(count)
    }

    fn poll_interval(&self) -> Duration {
        self.knobs.scaled(self.knobs.poll_interval)
    }

    fn api_calls(&self) -> ApiCallStats {
        self.lock().calls.clone()
    }
}
