//! Discovery orchestration: one job per (service, region) for the regional services
//! and one for IAM, run with bounded concurrency, joined into one inventory. A partial
//! inventory is never returned: the first failing job fails the whole discovery,
//! except that calls refused for a missing permission are collected while every
//! other call is still made, and then fail it as one error that names them all.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use decom_provider::{
    DiscoveryProgress, DiscoveryRequest, ErrorKind, Fact, GLOBAL_REGION, Inventory, Provider,
    ProviderError, Resource, ResourceKey, ResourceType, Service,
};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::AwsProvider;

/// (service, region) jobs running at once.
const CONCURRENT_JOBS: usize = 4;

/// What one job found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) resources: Vec<Resource>,
    /// Load balancer ARNs of the region, listed to attribute ELB network interfaces
    /// even when load balancers themselves were not requested.
    pub(crate) lb_arns: Vec<String>,
}

/// Resources of one type in one region as a discovery moments before found them, by
/// id: what describing them may take instead of reading it again.
pub(crate) type Known<'a> = BTreeMap<&'a str, &'a Resource>;

/// Calls of one discovery refused for a missing permission. Discovery goes on with
/// the calls it can still make (those that need a refused call's answer cannot be),
/// so that one run names every missing permission instead of one per run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Denials(Arc<Mutex<Vec<ProviderError>>>);

impl Denials {
    /// The answer of a call, or `None` when it was refused for a missing permission
    /// (kept for the final error). Any other failure stays an error.
    pub(crate) fn unless_denied<T>(
        &self,
        result: Result<T, ProviderError>,
    ) -> Result<Option<T>, ProviderError> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(mut error) if error.kind == ErrorKind::AccessDenied => {
                let more = std::mem::take(&mut error.detail_mut().also_denied);
                let mut denied = self.0.lock().expect("denials lock");
                denied.push(error);
                denied.extend(more);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// Every refusal as one error, the first by call and region with the others in
    /// its `also_denied`; `None` when nothing was refused.
    pub(crate) fn into_error(self) -> Option<ProviderError> {
        let mut denied = std::mem::take(&mut *self.0.lock().expect("denials lock"));
        denied.sort_by(|a, b| (&a.operation, &a.region).cmp(&(&b.operation, &b.region)));
        denied.dedup_by(|a, b| (&a.operation, &a.region) == (&b.operation, &b.region));
        let mut denied = denied.into_iter();
        let mut first = denied.next()?;
        first.detail_mut().also_denied = denied.collect();
        Some(first)
    }
}

enum Event {
    Started(Service, String),
    Finished(Service, String, usize),
}

/// Discovers `request`; without `facts`, the listings only, with what they leave
/// out recorded in [`Inventory::unread`] (read later by `crate::facts`).
pub(crate) async fn discover(
    provider: &AwsProvider,
    request: &DiscoveryRequest,
    progress: &dyn DiscoveryProgress,
    facts: bool,
) -> Result<Inventory, ProviderError> {
    let identity = provider.caller_identity().await?;
    let account_id = identity.account_id;
    let types = Arc::new(request.types.clone());
    let mut regions: Vec<String> = if request.regions.is_empty() {
        provider.regions().to_vec()
    } else {
        request.regions.clone()
    };
    regions.sort();
    regions.dedup();

    let wants = |service: Service| types.iter().any(|t| t.service() == service);
    let needs_lbs = |types: &BTreeSet<ResourceType>| {
        types.iter().any(|t| t.service() == Service::Elbv2)
            || types.contains(&ResourceType::NetworkInterface)
            // A record names its load balancer by DNS name.
            || types.contains(&ResourceType::Route53Record)
    };

    let denials = Denials::default();
    let permits = Arc::new(Semaphore::new(CONCURRENT_JOBS));
    let (events, mut heard) = mpsc::unbounded_channel::<Event>();
    let mut jobs: JoinSet<Result<(String, Found), ProviderError>> = JoinSet::new();

    let mut spawn = |service: Service, region: String, job: JobFuture| {
        let permits = permits.clone();
        let events = events.clone();
        jobs.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let _ = events.send(Event::Started(service, region.clone()));
            let found = job.await?;
            let _ = events.send(Event::Finished(
                service,
                region.clone(),
                found.resources.len(),
            ));
            Ok((region, found))
        });
    };

    // IAM first: it is global, often the longest job, and has no region to wait for.
    if wants(Service::Iam) {
        let (client, types, denials) = (provider.iam().clone(), types.clone(), denials.clone());
        spawn(
            Service::Iam,
            GLOBAL_REGION.to_string(),
            Box::pin(async move { crate::iam::discover(&client, &types, &denials, facts).await }),
        );
    }
    if wants(Service::Route53) {
        let (client, types, denials) = (provider.route53().clone(), types.clone(), denials.clone());
        spawn(
            Service::Route53,
            GLOBAL_REGION.to_string(),
            Box::pin(async move { crate::route53::discover(&client, &types, &denials).await }),
        );
    }
    for region in &regions {
        let clients = provider.region_clients(region);
        if wants(Service::Ec2) {
            let (client, types, account) = (clients.ec2.clone(), types.clone(), account_id.clone());
            let (r, denials) = (region.clone(), denials.clone());
            spawn(
                Service::Ec2,
                region.clone(),
                Box::pin(async move {
                    crate::ec2::discover(&client, &r, &account, &types, &denials, facts).await
                }),
            );
        }
        if needs_lbs(&types) {
            let (client, types) = (clients.elbv2.clone(), types.clone());
            let (r, denials) = (region.clone(), denials.clone());
            spawn(
                Service::Elbv2,
                region.clone(),
                Box::pin(async move {
                    crate::elbv2::discover(&client, &r, &types, &denials, facts).await
                }),
            );
        }
        if wants(Service::Autoscaling) {
            let (client, types) = (clients.autoscaling.clone(), types.clone());
            let (r, denials) = (region.clone(), denials.clone());
            spawn(
                Service::Autoscaling,
                region.clone(),
                Box::pin(async move {
                    crate::autoscaling::discover(&client, &r, &types, &denials).await
                }),
            );
        }
        if wants(Service::Ecs) || types.contains(&ResourceType::NetworkInterface) {
            let (client, types) = (clients.ecs.clone(), types.clone());
            let (r, denials) = (region.clone(), denials.clone());
            spawn(
                Service::Ecs,
                region.clone(),
                Box::pin(async move { crate::ecs::discover(&client, &r, &types, &denials).await }),
            );
        }
        if wants(Service::Logs) {
            let client = clients.logs.clone();
            let (r, denials) = (region.clone(), denials.clone());
            spawn(
                Service::Logs,
                region.clone(),
                Box::pin(async move { crate::logs::discover(&client, &r, &denials, facts).await }),
            );
        }
        if wants(Service::Cloudwatch) {
            let client = clients.cloudwatch.clone();
            let (r, denials) = (region.clone(), denials.clone());
            spawn(
                Service::Cloudwatch,
                region.clone(),
                Box::pin(
                    async move { crate::cloudwatch::discover(&client, &r, &denials, facts).await },
                ),
            );
        }
        if wants(Service::Ecr) {
            let client = clients.ecr.clone();
            let (r, denials) = (region.clone(), denials.clone());
            spawn(
                Service::Ecr,
                region.clone(),
                Box::pin(async move { crate::ecr::discover(&client, &r, &denials, facts).await }),
            );
        }
    }
    drop(events);

    let mut resources = Vec::new();
    let mut lb_arns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    loop {
        tokio::select! {
            Some(event) = heard.recv() => report(progress, event),
            joined = jobs.join_next() => match joined {
                None => break,
                Some(joined) => {
                    let (region, found) = joined
                        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
                    resources.extend(found.resources);
                    lb_arns.entry(region).or_default().extend(found.lb_arns);
                }
            },
        }
    }
    while let Ok(event) = heard.try_recv() {
        report(progress, event);
    }
    if let Some(denied) = denials.into_error() {
        return Err(denied);
    }

    attribute_elb_interfaces(&mut resources, &lb_arns);
    attribute_task_interfaces(&mut resources);
    resolve_launch_templates(&mut resources);
    decom_provider::resolve_record_targets(&mut resources);
    resources.retain(|r| types.contains(&r.ty()));

    let mut inventory = Inventory::new(account_id, regions);
    inventory.types = types.iter().copied().collect();
    inventory.resources = resources;
    if !facts {
        for resource in &inventory.resources {
            let unread = Fact::unlisted(resource.ty(), &types);
            if !unread.is_empty() {
                inventory.unread.insert(resource.key(), unread);
            }
        }
    }
    inventory.normalize();
    Ok(inventory)
}

type JobFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Found, ProviderError>> + Send>>;

fn report(progress: &dyn DiscoveryProgress, event: Event) {
    match event {
        Event::Started(service, region) => progress.started(service, &region),
        Event::Finished(service, region, count) => progress.finished(service, &region, count),
    }
}

/// Sets `managed_by` on a load balancer's network interfaces: AWS describes them as
/// `ELB app/<name>/<id>` (`ELB net/…` for NLBs), the tail of the balancer's ARN
/// `…:loadbalancer/app/<name>/<id>`.
pub(crate) fn attribute_elb_interfaces(
    resources: &mut [Resource],
    lb_arns: &BTreeMap<String, Vec<String>>,
) {
    for resource in resources.iter_mut() {
        let region = resource.region.clone();
        if let decom_provider::Details::NetworkInterface(eni) = &mut resource.details
            && let Some(suffix) = eni.description.strip_prefix("ELB ")
        {
            let wanted = format!(":loadbalancer/{suffix}");
            eni.managed_by = lb_arns
                .get(&region)
                .and_then(|arns| arns.iter().find(|arn| arn.ends_with(&wanted)))
                .map(|arn| ResourceKey::new(ResourceType::Lb, region.clone(), arn.clone()));
        }
    }
}

/// Sets `managed_by` on the interfaces of ECS tasks (`awsvpc`): DescribeTasks names
/// each running task's interface and service.
pub(crate) fn attribute_task_interfaces(resources: &mut [Resource]) {
    let mut managers: BTreeMap<(String, String), ResourceKey> = BTreeMap::new();
    for resource in resources.iter() {
        if let decom_provider::Details::EcsService(service) = &resource.details {
            for eni in &service.task_interfaces {
                managers.insert((resource.region.clone(), eni.clone()), resource.key());
            }
        }
    }
    for resource in resources.iter_mut() {
        let key = (resource.region.clone(), resource.id.clone());
        if let decom_provider::Details::NetworkInterface(eni) = &mut resource.details
            && let Some(service) = managers.get(&key)
        {
            eni.managed_by = Some(service.clone());
        }
    }
}

/// A group that names its launch template by name points at the template's id, as
/// the templates discovered in its region say (a template discovery did not see
/// keeps its name: a link to nothing in the inventory).
pub(crate) fn resolve_launch_templates(resources: &mut [Resource]) {
    let ids: BTreeMap<(String, String), String> = resources
        .iter()
        .filter(|r| r.ty() == ResourceType::LaunchTemplate)
        .map(|r| ((r.region.clone(), r.name.clone()), r.id.clone()))
        .collect();
    for resource in resources.iter_mut() {
        let region = resource.region.clone();
        if let decom_provider::Details::AutoscalingGroup(group) = &mut resource.details
            && let Some(template) = &mut group.launch_template
            && let Some(name) = template.strip_prefix(crate::autoscaling::TEMPLATE_NAME)
            && let Some(id) = ids.get(&(region, name.to_string()))
        {
            *template = id.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use decom_provider::{Details, NetworkInterface};

    fn eni(description: &str) -> Resource {
        Resource {
            id: "eni-1".into(),
            name: String::new(),
            region: "eu-west-1".into(),
            tags: BTreeMap::new(),
            details: Details::NetworkInterface(NetworkInterface {
                description: description.into(),
                requester_managed: true,
                ..Default::default()
            }),
        }
    }

    fn refused(operation: &str, region: Option<&str>) -> ProviderError {
        ProviderError::new(operation, region, "AccessDenied", "no")
    }

    /// Refusals are kept while discovery goes on; any other failure still ends it;
    /// the final error names every refused call once, in a stable order.
    #[test]
    fn denials_are_collected_into_one_error() {
        let denials = Denials::default();
        assert_eq!(
            denials.unless_denied(Ok::<_, ProviderError>(1)),
            Ok(Some(1))
        );
        let mut pair = refused("logs:DescribeLogGroups", Some("us-east-1"));
        pair.detail_mut().also_denied = vec![refused("iam:ListRoles", None)];
        for error in [
            refused("logs:DescribeLogGroups", Some("eu-west-1")),
            pair,
            refused("logs:DescribeLogGroups", Some("eu-west-1")),
        ] {
            assert_eq!(denials.unless_denied(Err::<(), _>(error)), Ok(None));
        }
        let throttled = ProviderError::new("ec2:DescribeInstances", None, "Throttling", "slow");
        assert_eq!(
            denials.unless_denied(Err::<(), _>(throttled.clone())),
            Err(throttled)
        );
        let error = denials.into_error().expect("refusals");
        let named: Vec<(String, Option<String>)> = error
            .denials()
            .map(|e| (e.operation.clone(), e.region.clone()))
            .collect();
        assert_eq!(
            named,
            [
                ("iam:ListRoles".to_string(), None),
                (
                    "logs:DescribeLogGroups".to_string(),
                    Some("eu-west-1".to_string())
                ),
                (
                    "logs:DescribeLogGroups".to_string(),
                    Some("us-east-1".to_string())
                ),
            ]
        );
        assert_eq!(Denials::default().into_error(), None);
    }

    #[test]
    fn elb_interfaces_point_at_their_balancer() {
        let arn = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/web/50dc6c495c0c9188";
        let lbs = BTreeMap::from([("eu-west-1".to_string(), vec![arn.to_string()])]);
        let mut resources = vec![
            eni("ELB app/web/50dc6c495c0c9188"),
            eni("ELB app/other/1"),
            eni("Interface for NAT Gateway"),
        ];
        attribute_elb_interfaces(&mut resources, &lbs);
        let managers: Vec<_> = resources
            .iter()
            .map(|r| match &r.details {
                Details::NetworkInterface(e) => e.managed_by.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            managers,
            vec![
                Some(ResourceKey::new(ResourceType::Lb, "eu-west-1", arn)),
                None,
                None
            ]
        );
    }
}
