//! Builds realistic account snapshots through the typed model: AWS-shaped ids and
//! ARNs, the ENIs AWS creates by itself, and the fields AWS derives (a target group's
//! load balancers, a policy's attachment count). Used for the fixtures and by
//! [`crate::synth`].

mod alarms;
mod autoscaling;
mod ec2;
mod ecs;
mod elbv2;
mod iam;
mod route53;

pub use ecs::{ServiceSpec, TaskDefinitionSpec};

use std::collections::BTreeMap;

pub use autoscaling::{GroupSpec, LaunchSource};
use decom_provider::{
    Details, GLOBAL_REGION, Inventory, LogGroup, Resource, ResourceKey, ResourceType,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
pub use route53::Routing;
use serde_json::json;

/// The creation time stamped on everything built (snapshots must be deterministic).
pub const CREATED: &str = "2024-03-11T10:24:07Z";

/// Tags from `(key, value)` pairs.
pub fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A target registered in a target group: id, port, health.
pub struct TargetSpec<'a> {
    pub id: &'a str,
    pub port: i32,
    pub health: &'a str,
}

/// An account under construction, in one region and one VPC.
pub struct AccountBuilder {
    account_id: String,
    region: String,
    vpc_id: String,
    subnets: [String; 2],
    rng: SmallRng,
    resources: Vec<Resource>,
    index: BTreeMap<ResourceKey, usize>,
}

impl AccountBuilder {
    /// Ids are drawn from `seed`: the same seed builds the same account.
    pub fn new(account_id: &str, region: &str, seed: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let vpc_id = format!("vpc-0{:016x}", rng.random::<u64>());
        let subnets = [
            format!("subnet-0{:016x}", rng.random::<u64>()),
            format!("subnet-0{:016x}", rng.random::<u64>()),
        ];
        AccountBuilder {
            account_id: account_id.to_string(),
            region: region.to_string(),
            vpc_id,
            subnets,
            rng,
            resources: Vec::new(),
            index: BTreeMap::new(),
        }
    }

    /// Makes room for `additional` more resources (large synthetic accounts).
    pub fn reserve(&mut self, additional: usize) {
        self.resources.reserve(additional);
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn vpc_id(&self) -> &str {
        &self.vpc_id
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// 16 hex digits, as in AWS's ids and ARNs.
    pub fn hex16(&mut self) -> String {
        format!("{:016x}", self.rng.random::<u64>())
    }

    /// `sg-0…`, `i-0…`, `eni-0…`, `sgr-0…`: AWS's 17-digit ids.
    pub fn aws_id(&mut self, prefix: &str) -> String {
        format!("{prefix}-0{:016x}", self.rng.random::<u64>())
    }

    fn elb_arn(&self, path: &str) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{}:{}:{path}",
            self.region, self.account_id
        )
    }

    fn iam_arn(&self, path: &str) -> String {
        format!("arn:aws:iam::{}:{path}", self.account_id)
    }

    fn push(&mut self, resource: Resource) {
        let key = resource.key();
        assert!(
            !self.index.contains_key(&key),
            "the builder made `{key}` twice"
        );
        self.index.insert(key, self.resources.len());
        self.resources.push(resource);
    }

    fn regional(
        &self,
        id: String,
        name: &str,
        tags: BTreeMap<String, String>,
        details: Details,
    ) -> Resource {
        Resource {
            id,
            name: name.to_string(),
            region: self.region.clone(),
            tags,
            details,
        }
    }

    fn global(
        id: String,
        name: &str,
        tags: BTreeMap<String, String>,
        details: Details,
    ) -> Resource {
        Resource {
            id,
            name: name.to_string(),
            region: GLOBAL_REGION.to_string(),
            tags,
            details,
        }
    }

    /// The resource built under `key`, to adjust a field the builder does not set.
    pub fn details_mut(&mut self, ty: ResourceType, id: &str) -> &mut Details {
        let key = ResourceKey::new(ty, self.region.clone(), id);
        let i = *self
            .index
            .get(&key)
            .unwrap_or_else(|| panic!("`{key}` was not built"));
        &mut self.resources[i].details
    }

    /// The global resource of type `ty` built under `id`.
    fn global_details_mut(&mut self, ty: ResourceType, id: &str) -> &mut Details {
        let key = ResourceKey::new(ty, GLOBAL_REGION, id);
        let i = *self
            .index
            .get(&key)
            .unwrap_or_else(|| panic!("`{key}` was not built"));
        &mut self.resources[i].details
    }

    /// A log group; returns its name, which is its id.
    pub fn log_group(
        &mut self,
        name: &str,
        retention_days: Option<i32>,
        stored_bytes: u64,
        tags: BTreeMap<String, String>,
    ) -> String {
        let details = Details::CloudwatchLogGroup(LogGroup {
            arn: format!(
                "arn:aws:logs:{}:{}:log-group:{name}",
                self.region, self.account_id
            ),
            retention_days,
            stored_bytes: Some(stored_bytes),
            created: Some(CREATED.into()),
            last_event: Some("2025-02-14T23:59:58Z".into()),
            kms_key_id: None,
        });
        let resource = self.regional(name.into(), name, tags, details);
        self.push(resource);
        name.into()
    }

    /// The snapshot, with the fields AWS derives filled in: each target group's load
    /// balancers, each customer policy's attachment count, each Auto Scaling group's
    /// instances.
    pub fn finish(mut self) -> Inventory {
        let mut lb_of_listener: BTreeMap<String, String> = BTreeMap::new();
        let mut lbs_of_tg: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut attachments: BTreeMap<String, u32> = BTreeMap::new();
        let mut group_instances: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for resource in &self.resources {
            if let Some(group) = resource.autoscaling_group() {
                group_instances
                    .entry(group.to_string())
                    .or_default()
                    .push(resource.id.clone());
            }
            match &resource.details {
                Details::LbListener(l) => {
                    lb_of_listener.insert(resource.id.clone(), l.load_balancer.clone());
                    for tg in &l.forward_target_groups {
                        lbs_of_tg
                            .entry(tg.clone())
                            .or_default()
                            .push(l.load_balancer.clone());
                    }
                }
                Details::IamRole(role) => {
                    for policy in &role.attached_policies {
                        *attachments.entry(policy.clone()).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        for resource in &self.resources {
            if let Details::LbListenerRule(r) = &resource.details
                && let Some(lb) = lb_of_listener.get(&r.listener)
            {
                for tg in &r.forward_target_groups {
                    lbs_of_tg.entry(tg.clone()).or_default().push(lb.clone());
                }
            }
        }
        for resource in &mut self.resources {
            match &mut resource.details {
                Details::LbTargetGroup(tg) => {
                    let mut lbs = lbs_of_tg.remove(&resource.id).unwrap_or_default();
                    lbs.sort();
                    lbs.dedup();
                    tg.load_balancers = lbs;
                }
                Details::IamPolicy(policy) => {
                    policy.attachment_count = attachments.get(&resource.id).copied().unwrap_or(0)
                        + (policy.attached_users.len() + policy.attached_groups.len()) as u32;
                }
                Details::AutoscalingGroup(group) => {
                    let mut instances = group_instances.remove(&resource.id).unwrap_or_default();
                    instances.sort();
                    group.instances = instances;
                }
                _ => {}
            }
        }
        decom_provider::resolve_record_targets(&mut self.resources);
        // The canonical order of `Inventory::normalize`, on cached keys (normalize
        // would rebuild both keys of every comparison).
        self.resources.sort_by_cached_key(Resource::key);
        let mut inventory = Inventory::new(self.account_id, vec![self.region]);
        inventory.resources = self.resources;
        inventory
    }
}

/// `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": …, "Resource": "*"}]}`
pub fn policy_document(actions: &[&str]) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }]
    })
}
