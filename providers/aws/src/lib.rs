//! decom's AWS provider: discovers an account over aws-sdk-rust and changes it one
//! operation at a time. SDK shapes are turned into `decom_provider` types at the edge
//! of each service module; nothing above this crate sees an SDK type.

mod autoscaling;
mod calls;
mod cloudwatch;
mod describe;
mod discover;
mod ebs;
mod ec2;
mod ecr;
mod ecs;
mod elbv2;
mod facts;
mod failures;
mod iam;
mod launch_templates;
mod logs;
pub mod permissions;
mod probes;
mod remedy;
mod restore;
mod route53;
mod text;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::SharedCredentialsProvider;
use decom_provider::{
    ApiCallStats, CallerIdentity, DiscoveryProgress, DiscoveryRequest, Inventory, Operation,
    Provider, ProviderError, ResourceKey, ResourceType,
};

pub use crate::probes::{PermissionCheck, Verdict};
pub use crate::remedy::{Explained, OPT_IN_REGIONS, Remedy};

use crate::calls::{CallLedger, api_error};

/// The region Route53's calls are signed for (the aws partition's).
const ROUTE53_REGION: &str = "us-east-1";

/// The poll interval of waits unless `DECOM_POLL_INTERVAL_MS` says otherwise.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The SDK retries throttling and transient failures itself (adaptive: it also slows
/// down the client when AWS throttles); decom's own retries are for consistency.
const MAX_ATTEMPTS: u32 = 8;

/// Batches of `describe_many` (a type in a region each) answered at once.
const BATCHES_IN_FLIGHT: usize = 4;

/// How the provider reaches AWS. Credentials come from the standard chain
/// (environment, shared profile incl. SSO, container, IMDS); the endpoint from the
/// standard `AWS_ENDPOINT_URL` variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// Regions to discover; empty means the region of the environment or profile.
    pub regions: Vec<String>,
    /// A shared-config profile name (`AWS_PROFILE` otherwise).
    pub profile: Option<String>,
    /// A role to assume with the chain's credentials.
    pub assume_role: Option<AssumeRole>,
}

/// STS AssumeRole parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

/// Why the provider cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsSetupError {
    #[error(
        "no AWS region is configured\n  hint: pass a region, set `AWS_REGION`, or set `region` in the profile"
    )]
    NoRegion,
}

/// The clients of the regional services, one set per region.
#[derive(Debug, Clone)]
pub(crate) struct RegionClients {
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    pub(crate) ecs: aws_sdk_ecs::Client,
    pub(crate) autoscaling: aws_sdk_autoscaling::Client,
    pub(crate) cloudwatch: aws_sdk_cloudwatch::Client,
    pub(crate) ecr: aws_sdk_ecr::Client,
}

/// The real AWS account behind a set of credentials.
#[derive(Debug)]
pub struct AwsProvider {
    config: SdkConfig,
    regions: Vec<String>,
    ledger: CallLedger,
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    route53: route53::Route53,
    regional: Mutex<BTreeMap<String, RegionClients>>,
    poll_interval: Duration,
    /// The answer of the first successful GetCallerIdentity: the account behind a
    /// provider's credentials does not change (assumed-role credentials are
    /// refreshed, for the same role), so the engine's guard and discovery share it.
    identity: tokio::sync::OnceCell<CallerIdentity>,
}

/// How long resolving the credentials may take before the first call fails.
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(30);

impl AwsProvider {
    /// Loads the configuration and builds the clients. Makes no API call: credentials
    /// are resolved on the first call, which the engine makes to `caller_identity`.
    pub async fn new(settings: AwsSettings) -> Result<AwsProvider, AwsSetupError> {
        // `AWS_MAX_ATTEMPTS` is the standard way to change the bound; it is read here
        // because an explicit RetryConfig would otherwise override it.
        let max_attempts = std::env::var("AWS_MAX_ATTEMPTS")
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(MAX_ATTEMPTS);
        let retry = RetryConfig::adaptive()
            .with_max_attempts(max_attempts)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(20));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .operation_attempt_timeout(Duration::from_secs(90))
            .operation_timeout(Duration::from_secs(5 * 60))
            .build();
        // Resolving credentials may take a browser-less SSO token refresh or an
        // instance metadata round trip, on a loaded machine: the SDK's 5 s is short.
        let identity_cache = aws_config::identity::IdentityCache::lazy()
            .load_timeout(CREDENTIALS_TIMEOUT)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts)
            .identity_cache(identity_cache);
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = settings.regions.first() {
            loader = loader.region(Region::new(region.clone()));
        }
        let mut config = loader.load().await;
        let regions = if settings.regions.is_empty() {
            let region = config.region().ok_or(AwsSetupError::NoRegion)?;
            vec![region.to_string()]
        } else {
            settings.regions.clone()
        };
        if let Some(role) = &settings.assume_role {
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
                .session_name(
                    role.session_name
                        .clone()
                        .unwrap_or_else(|| "decom".to_string()),
                )
                .configure(&config);
            if let Some(external_id) = &role.external_id {
                builder = builder.external_id(external_id.clone());
            }
            let provider = builder.build().await;
            config = config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        let ledger = CallLedger::default();
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&config)
                .interceptor(ledger.interceptor(calls::STS))
                .build(),
        );
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&config)
                .interceptor(ledger.interceptor(calls::IAM))
                .build(),
        );
        let route53 = route53::Route53::new(aws_sdk_route53::Client::from_conf(
            aws_sdk_route53::config::Builder::from(&config)
                // Route53 is global: AWS signs its calls for us-east-1, whatever the
                // region of the profile (an endpoint override would otherwise sign
                // them for that region).
                .region(Region::new(ROUTE53_REGION))
                .interceptor(ledger.interceptor(calls::ROUTE53))
                .interceptor(route53::SignedEmptyPayload)
                .build(),
        ));
        let poll_interval = std::env::var("DECOM_POLL_INTERVAL_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_POLL_INTERVAL);
        Ok(AwsProvider {
            config,
            regions,
            ledger,
            sts,
            iam,
            route53,
            regional: Mutex::new(BTreeMap::new()),
            poll_interval,
            identity: tokio::sync::OnceCell::new(),
        })
    }

    /// The regions discovered when a request names none.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The clients for one region, built on first use.
    pub(crate) fn region_clients(&self, region: &str) -> RegionClients {
        let mut regional = self.regional.lock().expect("client cache lock");
        regional
            .entry(region.to_string())
            .or_insert_with(|| {
                let region_value = Region::new(region.to_string());
                RegionClients {
                    ec2: aws_sdk_ec2::Client::from_conf(
                        aws_sdk_ec2::config::Builder::from(&self.config)
                            .region(region_value.clone())
                            .interceptor(self.ledger.interceptor(calls::EC2))
                            .build(),
                    ),
                    elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                        aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.config)
                            .region(region_value.clone())
                            .interceptor(self.ledger.interceptor(calls::ELBV2))
                            .build(),
                    ),
                    logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                        aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
                            .region(region_value.clone())
                            .interceptor(self.ledger.interceptor(calls::LOGS))
                            .build(),
                    ),
                    ecs: aws_sdk_ecs::Client::from_conf(
                        aws_sdk_ecs::config::Builder::from(&self.config)
                            .region(region_value.clone())
                            .interceptor(self.ledger.interceptor(calls::ECS))
                            .build(),
                    ),
                    cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                        aws_sdk_cloudwatch::config::Builder::from(&self.config)
                            .region(region_value.clone())
                            .interceptor(self.ledger.interceptor(calls::CLOUDWATCH))
                            .build(),
                    ),
                    ecr: aws_sdk_ecr::Client::from_conf(
                        aws_sdk_ecr::config::Builder::from(&self.config)
                            .region(region_value.clone())
                            .interceptor(self.ledger.interceptor(calls::ECR))
                            .build(),
                    ),
                    autoscaling: aws_sdk_autoscaling::Client::from_conf(
                        aws_sdk_autoscaling::config::Builder::from(&self.config)
                            .region(region_value)
                            .interceptor(self.ledger.interceptor(calls::AUTOSCALING))
                            .build(),
                    ),
                }
            })
            .clone()
    }

    pub(crate) fn iam(&self) -> &aws_sdk_iam::Client {
        &self.iam
    }

    pub(crate) fn route53(&self) -> &aws_sdk_route53::Client {
        &self.route53.client
    }
}

#[async_trait]
impl Provider for AwsProvider {
    async fn caller_identity(&self) -> Result<CallerIdentity, ProviderError> {
        const OP: &str = "sts:GetCallerIdentity";
        // A failure is not kept: the next call asks again.
        self.identity
            .get_or_try_init(|| async {
                let region = self.config.region().map(|r| r.to_string());
                let out = self
                    .sts
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| api_error(OP, region.as_deref(), e))?;
                let account_id = out
                    .account
                    .ok_or_else(|| calls::malformed(OP, region.as_deref(), "`Account`"))?;
                Ok(CallerIdentity {
                    account_id,
                    arn: out.arn.unwrap_or_default(),
                })
            })
            .await
            .cloned()
    }

    async fn discover(
        &self,
        request: &DiscoveryRequest,
        progress: &dyn DiscoveryProgress,
    ) -> Result<Inventory, ProviderError> {
        discover::discover(self, request, progress, true).await
    }

    async fn discover_listings(
        &self,
        request: &DiscoveryRequest,
        progress: &dyn DiscoveryProgress,
    ) -> Result<Inventory, ProviderError> {
        discover::discover(self, request, progress, false).await
    }

    async fn read_facts(
        &self,
        inventory: &mut Inventory,
        wanted: &decom_provider::FactRequest,
    ) -> Result<(), ProviderError> {
        facts::read_facts(self, inventory, wanted).await
    }

    async fn execute(&self, operation: &Operation) -> Result<(), ProviderError> {
        let target = &operation.target;
        match target.ty.service() {
            decom_provider::Service::Ec2 => {
                ec2::execute(&self.region_clients(&target.region).ec2, operation).await
            }
            decom_provider::Service::Elbv2 => {
                elbv2::execute(&self.region_clients(&target.region).elbv2, operation).await
            }
            decom_provider::Service::Iam => iam::execute(self.iam(), operation).await,
            decom_provider::Service::Logs => {
                logs::execute(&self.region_clients(&target.region).logs, operation).await
            }
            decom_provider::Service::Ecs => {
                ecs::execute(&self.region_clients(&target.region).ecs, operation).await
            }
            decom_provider::Service::Autoscaling => {
                autoscaling::execute(&self.region_clients(&target.region).autoscaling, operation)
                    .await
            }
            decom_provider::Service::Cloudwatch => {
                cloudwatch::execute(&self.region_clients(&target.region).cloudwatch, operation)
                    .await
            }
            decom_provider::Service::Ecr => {
                ecr::execute(&self.region_clients(&target.region).ecr, operation).await
            }
            decom_provider::Service::Route53 => route53::execute(&self.route53, operation).await,
        }
    }

    async fn is_settled(&self, operation: &Operation) -> Result<bool, ProviderError> {
        let target = &operation.target;
        let ids = std::slice::from_ref(&target.id);
        match (&operation.action, target.ty) {
            (
                decom_provider::Action::Delete | decom_provider::Action::AwaitDeletion,
                ResourceType::Instance,
            ) => {
                let client = &self.region_clients(&target.region).ec2;
                let terminated = ec2::instances_terminated(client, &target.region, ids).await?;
                Ok(terminated.iter().all(|&t| t))
            }
            (
                decom_provider::Action::Delete | decom_provider::Action::ForceDelete,
                ResourceType::AutoscalingGroup,
            ) => {
                let client = &self.region_clients(&target.region).autoscaling;
                let deleted = autoscaling::groups_deleted(client, &target.region, ids).await?;
                Ok(deleted.iter().all(|&d| d))
            }
            (decom_provider::Action::SnapshotVolume, _) => {
                let client = &self.region_clients(&target.region).ec2;
                ebs::snapshot_completed(client, &target.region, &target.id).await
            }
            (decom_provider::Action::AwaitDeletion, _) => {
                Ok(self.describe(target).await?.is_none())
            }
            (
                decom_provider::Action::ScaleToZero | decom_provider::Action::Delete,
                ResourceType::EcsService,
            ) => ecs::is_settled(&self.region_clients(&target.region).ecs, operation).await,
            (decom_provider::Action::Delete, ResourceType::Route53Record) => {
                route53::change_in_sync(&self.route53, operation).await
            }
            _ => Ok(true),
        }
    }

    /// Terminating instances: one DescribeInstances per region and 200 ids. Awaited
    /// deletions (load balancers' interfaces): [`Provider::describe_many`]'s batches.
    /// An operation without a wait is settled.
    async fn settled_many(&self, operations: &[Operation]) -> Vec<Result<bool, ProviderError>> {
        let mut answers: Vec<Option<Result<bool, ProviderError>>> = vec![None; operations.len()];
        let mut instances: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut awaited = Vec::new();
        for (i, operation) in operations.iter().enumerate() {
            match (&operation.action, operation.target.ty) {
                (
                    decom_provider::Action::Delete | decom_provider::Action::AwaitDeletion,
                    ResourceType::Instance,
                ) => instances
                    .entry(operation.target.region.as_str())
                    .or_default()
                    .push(i),
                (decom_provider::Action::AwaitDeletion, _) => awaited.push(i),
                _ if operation.wait().is_some() => {
                    answers[i] = Some(self.is_settled(operation).await);
                }
                _ => answers[i] = Some(Ok(true)),
            }
        }
        let instance_polls =
            futures_util::future::join_all(instances.iter().map(|(region, indices)| async move {
                let ids: Vec<String> = indices
                    .iter()
                    .map(|&i| operations[i].target.id.clone())
                    .collect();
                let client = &self.region_clients(region).ec2;
                (
                    indices,
                    ec2::instances_terminated(client, region, &ids).await,
                )
            }));
        let targets: Vec<ResourceKey> = awaited
            .iter()
            .map(|&i| operations[i].target.clone())
            .collect();
        let (instance_polls, descriptions) =
            tokio::join!(instance_polls, self.describe_many(&targets, None));
        for (indices, polled) in instance_polls {
            match polled {
                Ok(terminated) => {
                    for (&i, terminated) in indices.iter().zip(terminated) {
                        answers[i] = Some(Ok(terminated));
                    }
                }
                Err(e) => {
                    for &i in indices {
                        answers[i] = Some(Err(e.clone()));
                    }
                }
            }
        }
        for (&i, description) in awaited.iter().zip(descriptions) {
            answers[i] = Some(description.map(|d| d.is_none()));
        }
        answers
            .into_iter()
            .map(|answer| answer.expect("every operation is answered above"))
            .collect()
    }

    async fn describe(
        &self,
        target: &ResourceKey,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        match target.ty.service() {
            decom_provider::Service::Ec2 => {
                ec2::describe(&self.region_clients(&target.region).ec2, target).await
            }
            decom_provider::Service::Elbv2 => {
                elbv2::describe(&self.region_clients(&target.region).elbv2, target).await
            }
            decom_provider::Service::Iam => iam::describe(self.iam(), target).await,
            decom_provider::Service::Logs => {
                logs::describe(&self.region_clients(&target.region).logs, target).await
            }
            decom_provider::Service::Ecs => {
                ecs::describe(&self.region_clients(&target.region).ecs, target).await
            }
            decom_provider::Service::Autoscaling => {
                autoscaling::describe(&self.region_clients(&target.region).autoscaling, target)
                    .await
            }
            decom_provider::Service::Cloudwatch => {
                cloudwatch::describe(&self.region_clients(&target.region).cloudwatch, target).await
            }
            decom_provider::Service::Ecr => {
                ecr::describe(&self.region_clients(&target.region).ecr, target).await
            }
            decom_provider::Service::Route53 => route53::describe(self.route53(), target).await,
        }
    }

    async fn describe_many(
        &self,
        targets: &[ResourceKey],
        discovered: Option<&Inventory>,
    ) -> Vec<Result<Option<serde_json::Value>, ProviderError>> {
        use futures_util::StreamExt;
        // The targets as discovered, by type and region, then id.
        let wanted: std::collections::HashSet<decom_provider::KeyRef> =
            targets.iter().map(ResourceKey::as_key_ref).collect();
        let mut known: BTreeMap<(ResourceType, &str), discover::Known> = BTreeMap::new();
        for resource in discovered.iter().flat_map(|i| &i.resources) {
            let key = resource.key_ref();
            if wanted.contains(&key) {
                known
                    .entry((key.ty, key.region))
                    .or_default()
                    .insert(key.id, resource);
            }
        }
        let known = &known;
        let none = discover::Known::new();
        let none = &none;
        let mut batches: BTreeMap<(ResourceType, String), Vec<usize>> = BTreeMap::new();
        for (i, target) in targets.iter().enumerate() {
            batches
                .entry((target.ty, target.region.clone()))
                .or_default()
                .push(i);
        }
        // A few batches at once: a batch's own calls mostly follow one another
        // (a describe, then the calls per resource it found).
        let answered: Vec<_> = futures_util::stream::iter(batches)
            .map(|((ty, region), indices)| async move {
                let known = known.get(&(ty, region.as_str())).unwrap_or(none);
                let descriptions = self
                    .describe_batch(targets, ty, &region, &indices, known)
                    .await;
                (indices, descriptions)
            })
            .buffer_unordered(BATCHES_IN_FLIGHT)
            .collect()
            .await;
        let mut described: Vec<Option<Result<Option<serde_json::Value>, ProviderError>>> =
            (0..targets.len()).map(|_| None).collect();
        for (indices, descriptions) in answered {
            for (i, description) in indices.into_iter().zip(descriptions) {
                described[i] = Some(description);
            }
        }
        described
            .into_iter()
            .map(|d| d.expect("every target is in one batch"))
            .collect()
    }

    async fn restore(
        &self,
        call: &decom_provider::RestoreCall,
    ) -> Result<decom_provider::Restored, ProviderError> {
        restore::restore(self, call).await
    }

    async fn import_log_events(
        &self,
        log_group: &ResourceKey,
        events: &[serde_json::Value],
    ) -> Result<u64, ProviderError> {
        restore::import_events(
            &self.region_clients(&log_group.region).logs,
            log_group,
            events,
        )
        .await
    }

    async fn export_log_events(
        &self,
        log_group: &ResourceKey,
        sink: &mut (dyn FnMut(serde_json::Value) -> std::io::Result<()> + Send),
    ) -> Result<u64, ProviderError> {
        logs::export_events(
            &self.region_clients(&log_group.region).logs,
            log_group,
            sink,
        )
        .await
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    fn api_calls(&self) -> ApiCallStats {
        self.ledger.snapshot()
    }
}

/// An action the target's type does not have (the planner never makes one).
pub(crate) fn unsupported(op: &Operation) -> ProviderError {
    ProviderError::new(
        format!("decom:{}", op.action.name()),
        Some(&op.target.region),
        "UnsupportedOperation",
        format!("`{}` cannot {}", op.target, op.action.describe()),
    )
}

/// A describe routed to the wrong service module: a bug in decom.
pub(crate) fn unsupported_describe(target: &ResourceKey) -> ProviderError {
    ProviderError::new(
        "decom:describe",
        Some(&target.region),
        "UnsupportedOperation",
        format!("cannot describe `{target}`"),
    )
}
