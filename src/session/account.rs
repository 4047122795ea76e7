//! The account a command works on — a snapshot read as is, a snapshot through the
//! simulator, or AWS — reached the way the spec or plan file says, behind the
//! account guard.

use std::path::Path;
use std::sync::Arc;

use decom_provider::{
    ApiCallStats, CallerIdentity, DiscoveryProgress, DiscoveryRequest, Inventory, Provider,
};
use decom_sim::{Knobs, ReadOnlySnapshot, SimProvider};

use super::SessionError;
use crate::guard::AccountGuard;
use crate::planfile::{Connection, RecordedRole};
use crate::spec::Spec;

/// The account a command works on.
pub enum Account {
    /// A snapshot read as is (`plan`, `graph`, `audit` with `--inventory`).
    Snapshot(ReadOnlySnapshot),
    /// A snapshot through the simulator, which `apply --inventory` changes.
    Sim(Arc<SimProvider>),
    Aws(Arc<decom_aws::AwsProvider>),
}

/// What a command does to the account: a snapshot is simulated only to be changed,
/// and only a change of a live account requires an account guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Change,
}

/// The profile and role of the spec's provider block, recorded in plan files.
pub fn connection_of(spec: &Spec) -> Option<Connection> {
    spec.provider.as_ref().map(|p| Connection {
        profile: p.profile.clone(),
        assume_role: p.assume_role.as_ref().map(|r| RecordedRole {
            role_arn: r.role_arn.clone(),
            session_name: r.session_name.clone(),
            external_id: r.external_id.clone(),
        }),
    })
}

impl Account {
    /// Reaches the account a spec names: the snapshot at `inventory` when given, else
    /// AWS through the spec's profile and role, in `regions` (empty: the spec's).
    pub async fn for_spec(
        inventory: Option<&Path>,
        spec: Option<&Spec>,
        regions: &[String],
        access: Access,
    ) -> Result<Account, SessionError> {
        let regions = if regions.is_empty() {
            spec.and_then(|s| s.provider.as_ref())
                .map(|p| p.regions.clone())
                .unwrap_or_default()
        } else {
            regions.to_vec()
        };
        Account::connect(
            inventory,
            spec.and_then(connection_of).as_ref(),
            regions,
            access,
        )
        .await
    }

    /// Reaches the account through `connection` (a plan file's record of the spec's
    /// provider block), or the snapshot at `inventory`.
    pub async fn connect(
        inventory: Option<&Path>,
        connection: Option<&Connection>,
        regions: Vec<String>,
        access: Access,
    ) -> Result<Account, SessionError> {
        if let Some(path) = inventory {
            return match access {
                Access::Read => Ok(Account::Snapshot(ReadOnlySnapshot::load(path)?)),
                Access::Change => Ok(Account::Sim(Arc::new(SimProvider::load(
                    path,
                    Knobs::default(),
                )?))),
            };
        }
        let settings = decom_aws::AwsSettings {
            regions,
            profile: connection.and_then(|c| c.profile.clone()),
            assume_role: connection.and_then(|c| c.assume_role.as_ref()).map(|r| {
                decom_aws::AssumeRole {
                    role_arn: r.role_arn.clone(),
                    session_name: r.session_name.clone(),
                    external_id: r.external_id.clone(),
                }
            }),
        };
        let aws = decom_aws::AwsProvider::new(settings).await?;
        Ok(Account::Aws(Arc::new(aws)))
    }

    /// The provider `apply` changes the account through.
    pub fn provider(&self) -> Result<Arc<dyn Provider>, SessionError> {
        match self {
            Account::Snapshot(_) => Err(SessionError::ReadOnly),
            Account::Sim(sim) => Ok(sim.clone()),
            Account::Aws(aws) => Ok(aws.clone()),
        }
    }

    /// The simulator, when the account is a simulated snapshot.
    pub fn simulator(&self) -> Option<&SimProvider> {
        match self {
            Account::Sim(sim) => Some(sim),
            _ => None,
        }
    }

    /// A real AWS account, as opposed to a snapshot or its simulation.
    pub fn is_live(&self) -> bool {
        matches!(self, Account::Aws(_))
    }

    pub fn api_calls(&self) -> ApiCallStats {
        match self {
            Account::Snapshot(snapshot) => snapshot.api_calls().clone(),
            Account::Sim(sim) => sim.api_calls(),
            Account::Aws(aws) => aws.api_calls(),
        }
    }

    /// The regions to discover: `explicit`, else the spec's, else the snapshot's or
    /// AWS_REGION.
    pub fn regions(&self, spec: Option<&Spec>, explicit: &[String]) -> Vec<String> {
        if !explicit.is_empty() {
            return explicit.to_vec();
        }
        if let Some(regions) = spec
            .and_then(|s| s.provider.as_ref())
            .map(|p| p.regions.clone())
            .filter(|r| !r.is_empty())
        {
            return regions;
        }
        match self {
            Account::Snapshot(snapshot) => snapshot.regions().to_vec(),
            Account::Sim(sim) => sim.regions(),
            Account::Aws(aws) => aws.regions().to_vec(),
        }
    }

    /// The account guard: who the credentials belong to, checked against the guard
    /// before any other call; regions outside the spec's list are refused before any
    /// call. A [`Access::Change`] of a live account requires a guard.
    pub async fn guard(
        &mut self,
        guard: AccountGuard<'_>,
        regions: &[String],
        access: Access,
    ) -> Result<CallerIdentity, SessionError> {
        guard.check_regions(regions)?;
        let identity = match self {
            Account::Snapshot(snapshot) => Ok(snapshot.caller_identity()),
            Account::Sim(sim) => sim.caller_identity().await,
            Account::Aws(aws) => aws.caller_identity().await,
        }
        .map_err(SessionError::Identity)?;
        guard.check_account(&identity, access == Access::Change && self.is_live())?;
        Ok(identity)
    }

    /// Discovers what `request` asks for. A failure is an error, never a partial
    /// inventory: a missed page or region could hide a dependent.
    /// What `spec`'s plan needs of the account ([`crate::scope`]): the listings and
    /// the facts that can change the plan. A snapshot is read whole.
    pub async fn discover_for_spec(
        &mut self,
        spec: &Spec,
        options: &crate::plan::PlanOptions,
        request: &DiscoveryRequest,
        progress: &dyn DiscoveryProgress,
    ) -> Result<Inventory, SessionError> {
        let provider: Arc<dyn Provider> = match self {
            Account::Snapshot(snapshot) => return Ok(snapshot.discover(request)?),
            Account::Sim(sim) => sim.clone(),
            Account::Aws(aws) => aws.clone(),
        };
        crate::scope::discover_for_spec(provider.as_ref(), spec, options, request, progress)
            .await
            .map_err(SessionError::Discovery)
    }

    pub async fn discover(
        &mut self,
        request: &DiscoveryRequest,
        progress: &dyn DiscoveryProgress,
    ) -> Result<Inventory, SessionError> {
        match self {
            Account::Snapshot(snapshot) => Ok(snapshot.discover(request)?),
            Account::Sim(sim) => sim
                .discover(request, progress)
                .await
                .map_err(SessionError::Discovery),
            Account::Aws(aws) => aws
                .discover(request, progress)
                .await
                .map_err(SessionError::Discovery),
        }
    }
}
