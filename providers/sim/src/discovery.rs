//! The API calls a real discovery of the same inventory would make, counted per
//! `service:Operation` so that the engine's statistics and benchmarks stay honest.

use std::collections::BTreeMap;

use decom_provider::{DiscoveryRequest, GLOBAL_REGION, Inventory, ResourceType, Service};

/// The calls one service makes in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceCalls {
    pub service: Service,
    pub region: String,
    pub resources: usize,
    pub calls: BTreeMap<&'static str, u64>,
}

fn pages(items: usize, page_size: usize) -> u64 {
    items.div_ceil(page_size).max(1) as u64
}

/// Per service and region (IAM once, as `global`), the calls that discover what
/// `found` holds for `request`: one per page of a list call, plus the per-resource
/// calls AWS has no batch form of (attributes, listeners, rules, target health, tags).
pub(crate) fn calls_for(request: &DiscoveryRequest, found: &Inventory) -> Vec<ServiceCalls> {
    let mut counts: BTreeMap<(&str, ResourceType), usize> = BTreeMap::new();
    for resource in &found.resources {
        let key = resource.key_ref();
        *counts.entry((key.region, key.ty)).or_default() += 1;
    }
    let wants = |ty: ResourceType| request.types.contains(&ty);
    let wants_service = |s: Service| request.types.iter().any(|t| t.service() == s);
    let mut out = Vec::new();
    let mut regions = request.regions.clone();
    regions.sort();
    regions.dedup();
    for region in &regions {
        let n = |ty: ResourceType| counts.get(&(region.as_str(), ty)).copied().unwrap_or(0);
        if wants_service(Service::Ec2) {
            let mut calls = BTreeMap::new();
            if wants(ResourceType::SecurityGroup) {
                calls.insert(
                    "ec2:DescribeSecurityGroups",
                    pages(n(ResourceType::SecurityGroup), 1000),
                );
            }
            if wants(ResourceType::NetworkInterface) {
                calls.insert(
                    "ec2:DescribeNetworkInterfaces",
                    pages(n(ResourceType::NetworkInterface), 1000),
                );
            }
            if wants(ResourceType::Instance) {
                let instances = n(ResourceType::Instance);
                calls.insert("ec2:DescribeInstances", pages(instances, 1000));
                // disableApiTermination is only in DescribeInstanceAttribute.
                if instances > 0 {
                    calls.insert("ec2:DescribeInstanceAttribute", instances as u64);
                }
            }
            out.push(service_calls(Service::Ec2, region, &counts, calls));
        }
        if wants_service(Service::Elbv2) {
            let (lbs, listeners, rules, tgs) = (
                n(ResourceType::Lb),
                n(ResourceType::LbListener),
                n(ResourceType::LbListenerRule),
                n(ResourceType::LbTargetGroup),
            );
            let mut calls = BTreeMap::new();
            let mut tagged = 0;
            let lb_side = [
                ResourceType::Lb,
                ResourceType::LbListener,
                ResourceType::LbListenerRule,
            ];
            if lb_side.into_iter().any(wants) {
                calls.insert(
                    "elasticloadbalancing:DescribeLoadBalancers",
                    pages(lbs, 400),
                );
            }
            if wants(ResourceType::Lb) {
                tagged += lbs;
                calls.insert(
                    "elasticloadbalancing:DescribeLoadBalancerAttributes",
                    lbs as u64,
                );
            }
            if wants(ResourceType::LbListener) || wants(ResourceType::LbListenerRule) {
                calls.insert("elasticloadbalancing:DescribeListeners", lbs as u64);
            }
            if wants(ResourceType::LbListener) {
                tagged += listeners;
            }
            if wants(ResourceType::LbListenerRule) {
                tagged += rules;
                calls.insert("elasticloadbalancing:DescribeRules", listeners as u64);
            }
            if wants(ResourceType::LbTargetGroup) {
                tagged += tgs;
                calls.insert("elasticloadbalancing:DescribeTargetGroups", pages(tgs, 400));
                calls.insert("elasticloadbalancing:DescribeTargetHealth", tgs as u64);
            }
            if tagged > 0 {
                // DescribeTags takes up to 20 ARNs.
                calls.insert(
                    "elasticloadbalancing:DescribeTags",
                    tagged.div_ceil(20) as u64,
                );
            }
            calls.retain(|_, c| *c > 0);
            out.push(service_calls(Service::Elbv2, region, &counts, calls));
        }
        if wants_service(Service::Ecs) || wants(ResourceType::NetworkInterface) {
            out.push(ecs_calls(region, &counts, found, request));
        }
        if wants_service(Service::Logs) {
            let groups = n(ResourceType::CloudwatchLogGroup);
            let mut calls = BTreeMap::new();
            calls.insert("logs:DescribeLogGroups", pages(groups, 50));
            if groups > 0 {
                calls.insert("logs:ListTagsForResource", groups as u64);
            }
            out.push(service_calls(Service::Logs, region, &counts, calls));
        }
    }
    if wants_service(Service::Iam) {
        let items: usize = counts
            .iter()
            .filter(|((region, ty), _)| *region == GLOBAL_REGION && ty.is_global())
            .map(|(_, n)| n)
            .sum();
        let mut calls = BTreeMap::new();
        // Roles, policies (with versions) and instance profiles, 100 items a page.
        calls.insert("iam:GetAccountAuthorizationDetails", pages(items, 100));
        out.push(service_calls(Service::Iam, GLOBAL_REGION, &counts, calls));
    }
    out
}

/// ECS's calls (`decom_aws::ecs`): the clusters listed and described 100 at a time;
/// per cluster its services (10 per DescribeServices), its tasks while any runs and
/// its container instances while any is registered; the task definitions listed for
/// both statuses and described one by one.
fn ecs_calls(
    region: &str,
    counts: &BTreeMap<(&str, ResourceType), usize>,
    found: &Inventory,
    request: &DiscoveryRequest,
) -> ServiceCalls {
    use decom_provider::Details;
    let mut calls: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut add = |call: &'static str, n: u64| *calls.entry(call).or_default() += n;
    let clusters: Vec<&decom_provider::Resource> = found
        .resources
        .iter()
        .filter(|r| r.region == region && r.ty() == ResourceType::EcsCluster)
        .collect();
    let wants_clusters = [
        ResourceType::EcsCluster,
        ResourceType::EcsService,
        ResourceType::NetworkInterface,
    ]
    .iter()
    .any(|t| request.types.contains(t));
    if wants_clusters {
        add("ecs:ListClusters", pages(clusters.len(), 100));
        if !clusters.is_empty() {
            add("ecs:DescribeClusters", pages(clusters.len(), 100));
        }
    }
    for cluster in clusters {
        let services = found
            .resources
            .iter()
            .filter(|r| matches!(&r.details, Details::EcsService(s) if s.cluster == cluster.id))
            .count();
        add("ecs:ListServices", pages(services, 100));
        if services > 0 {
            add("ecs:DescribeServices", pages(services, 10));
        }
        if let Details::EcsCluster(c) = &cluster.details {
            if c.running_tasks > 0 {
                add("ecs:ListTasks", pages(c.running_tasks as usize, 100));
                add("ecs:DescribeTasks", pages(c.running_tasks as usize, 100));
            }
            if !c.container_instances.is_empty() {
                let n = c.container_instances.len();
                add("ecs:ListContainerInstances", pages(n, 100));
                add("ecs:DescribeContainerInstances", pages(n, 100));
            }
        }
    }
    if request.types.contains(&ResourceType::EcsTaskDefinition) {
        let revisions = counts
            .get(&(region, ResourceType::EcsTaskDefinition))
            .copied()
            .unwrap_or(0);
        // ACTIVE and INACTIVE are listed separately, 100 a page.
        add("ecs:ListTaskDefinitions", 2 * pages(revisions, 100));
        if revisions > 0 {
            add("ecs:DescribeTaskDefinition", revisions as u64);
        }
    }
    service_calls(Service::Ecs, region, counts, calls)
}

fn service_calls(
    service: Service,
    region: &str,
    counts: &BTreeMap<(&str, ResourceType), usize>,
    calls: BTreeMap<&'static str, u64>,
) -> ServiceCalls {
    let resources = counts
        .iter()
        .filter(|((r, ty), _)| *r == region && ty.service() == service)
        .map(|(_, n)| n)
        .sum();
    ServiceCalls {
        service,
        region: region.to_string(),
        resources,
        calls,
    }
}
