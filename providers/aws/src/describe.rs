//! The archive's batch describes: the resources of one type in one region with the
//! service's batch calls, falling back to one describe per resource.

use std::collections::BTreeMap;

use decom_provider::{Provider, ProviderError, ResourceKey, ResourceType};

use crate::{AwsProvider, autoscaling, discover, ec2, elbv2, iam, logs, unsupported_describe};

/// Describes in flight when a batch failed and its resources are described one by one.
const FALLBACK_CONCURRENCY: usize = 8;

impl AwsProvider {
    /// Describes `targets[i]` for each of `indices`, all of type `ty` in `region`, in
    /// the order of `indices`: with the service's batch calls, or, when the batch
    /// fails (a throttled call, a resource gone in the meantime), with one describe
    /// per resource and an error of its own.
    pub(crate) async fn describe_batch(
        &self,
        targets: &[ResourceKey],
        ty: ResourceType,
        region: &str,
        indices: &[usize],
        known: &discover::Known<'_>,
    ) -> Vec<Result<Option<serde_json::Value>, ProviderError>> {
        use futures_util::StreamExt;
        // Each id once: EC2 refuses a list that names an instance twice.
        let ids: Vec<String> = indices
            .iter()
            .map(|&i| targets[i].id.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let batch = match ty.service() {
            decom_provider::Service::Ec2 => {
                let client = self.region_clients(region).ec2;
                ec2::describe_batch(&client, region, ty, &ids, known).await
            }
            decom_provider::Service::Elbv2 => {
                let client = self.region_clients(region).elbv2;
                elbv2::describe_batch(&client, region, ty, &ids, known).await
            }
            decom_provider::Service::Iam => iam::describe_batch(self.iam(), ty, &ids, known).await,
            decom_provider::Service::Logs => {
                let client = self.region_clients(region).logs;
                logs::describe_batch(&client, region, &ids, known).await
            }
            decom_provider::Service::Autoscaling => {
                let client = self.region_clients(region).autoscaling;
                autoscaling::describe_batch(&client, region, ty, &ids).await
            }
            // Described one by one below: DescribeTaskDefinition has no batch form, and
            // archives hold few clusters, services, alarms, repositories and records.
            decom_provider::Service::Ecs
            | decom_provider::Service::Cloudwatch
            | decom_provider::Service::Ecr
            | decom_provider::Service::Route53 => Err(unsupported_describe(&targets[indices[0]])),
        };
        match batch {
            Ok(descriptions) => {
                let by_id: BTreeMap<&String, Option<serde_json::Value>> =
                    ids.iter().zip(descriptions).collect();
                indices
                    .iter()
                    .map(|&i| Ok(by_id[&targets[i].id].clone()))
                    .collect()
            }
            Err(_) => {
                futures_util::stream::iter(indices.iter().copied())
                    .map(|i| Provider::describe(self, &targets[i]))
                    .buffered(FALLBACK_CONCURRENCY)
                    .collect()
                    .await
            }
        }
    }
}
