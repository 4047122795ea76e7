//! The API calls a real discovery of the same inventory would make, counted per
//! `service:Operation` so that the engine's statistics and benchmarks stay honest.

use std::collections::{BTreeMap, BTreeSet};

use decom_provider::{
    Details, DiscoveryRequest, Fact, FactRequest, GLOBAL_REGION, Inventory, ResourceType, Service,
};

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

/// Per service and region (IAM once, as `global`), the listings that discover what
/// `found` holds for `request`: one call per page, at the page sizes the AWS
/// provider asks for. The facts they leave out are in [`fact_calls`].
pub(crate) fn listing_calls_for(
    request: &DiscoveryRequest,
    found: &Inventory,
) -> Vec<ServiceCalls> {
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
        let rules = |region: &str| -> usize {
            found
                .resources
                .iter()
                .filter(|r| r.region == region)
                .map(|r| match &r.details {
                    Details::SecurityGroup(sg) => sg.rules.len(),
                    _ => 0,
                })
                .sum()
        };
        if wants_service(Service::Ec2) {
            let mut calls = BTreeMap::new();
            if wants(ResourceType::SecurityGroup) {
                calls.insert(
                    "ec2:DescribeSecurityGroups",
                    pages(n(ResourceType::SecurityGroup), 1000),
                );
                calls.insert("ec2:DescribeSecurityGroupRules", pages(rules(region), 1000));
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
            }
            if wants(ResourceType::LaunchTemplate) {
                let templates = n(ResourceType::LaunchTemplate);
                calls.insert("ec2:DescribeLaunchTemplates", pages(templates, 200));
                // The default versions of all templates, in one listing.
                calls.insert("ec2:DescribeLaunchTemplateVersions", pages(templates, 200));
            }
            if wants(ResourceType::EbsVolume) {
                calls.insert(
                    "ec2:DescribeVolumes",
                    pages(n(ResourceType::EbsVolume), 500),
                );
            }
            if wants(ResourceType::EbsSnapshot) {
                calls.insert(
                    "ec2:DescribeSnapshots",
                    pages(n(ResourceType::EbsSnapshot), 1000),
                );
                // Which snapshots back the account's AMIs.
                calls.insert("ec2:DescribeImages", 1);
            }
            out.push(service_calls(Service::Ec2, region, &counts, calls));
        }
        if wants_service(Service::Elbv2) || wants(ResourceType::NetworkInterface) {
            let (lbs, tgs) = (n(ResourceType::Lb), n(ResourceType::LbTargetGroup));
            let mut calls = BTreeMap::new();
            let lb_side = [
                ResourceType::Lb,
                ResourceType::LbListener,
                ResourceType::LbListenerRule,
            ];
            if lb_side.into_iter().any(wants) || wants(ResourceType::NetworkInterface) {
                calls.insert(
                    "elasticloadbalancing:DescribeLoadBalancers",
                    pages(lbs, 400),
                );
            }
            if wants(ResourceType::LbTargetGroup) {
                calls.insert("elasticloadbalancing:DescribeTargetGroups", pages(tgs, 400));
            }
            calls.retain(|_, c| *c > 0);
            out.push(service_calls(Service::Elbv2, region, &counts, calls));
        }
        if wants_service(Service::Ecs) || wants(ResourceType::NetworkInterface) {
            out.push(ecs_calls(region, &counts, found, request));
        }
        if wants_service(Service::Autoscaling) {
            let mut calls = BTreeMap::new();
            if wants(ResourceType::AutoscalingGroup) {
                calls.insert(
                    "autoscaling:DescribeAutoScalingGroups",
                    pages(n(ResourceType::AutoscalingGroup), 100),
                );
            }
            if wants(ResourceType::LaunchConfiguration) {
                calls.insert(
                    "autoscaling:DescribeLaunchConfigurations",
                    pages(n(ResourceType::LaunchConfiguration), 100),
                );
            }
            out.push(service_calls(Service::Autoscaling, region, &counts, calls));
        }
        if wants_service(Service::Logs) {
            let groups = n(ResourceType::CloudwatchLogGroup);
            let mut calls = BTreeMap::new();
            calls.insert("logs:DescribeLogGroups", pages(groups, 50));
            out.push(service_calls(Service::Logs, region, &counts, calls));
        }
        if wants_service(Service::Cloudwatch) {
            // Metric and composite alarms in one listing, 100 a page.
            let alarms =
                n(ResourceType::CloudwatchMetricAlarm) + n(ResourceType::CloudwatchCompositeAlarm);
            let mut calls = BTreeMap::new();
            calls.insert("cloudwatch:DescribeAlarms", pages(alarms, 100));
            out.push(service_calls(Service::Cloudwatch, region, &counts, calls));
        }
        if wants_service(Service::Ecr) {
            let mut calls = BTreeMap::new();
            calls.insert(
                "ecr:DescribeRepositories",
                pages(n(ResourceType::EcrRepository), 1000),
            );
            out.push(service_calls(Service::Ecr, region, &counts, calls));
        }
    }
    if wants_service(Service::Iam) {
        let n = |ty: ResourceType| counts.get(&(GLOBAL_REGION, ty)).copied().unwrap_or(0);
        let mut calls = BTreeMap::new();
        if wants(ResourceType::IamRole) || wants(ResourceType::IamPolicy) {
            // Roles and policies (with their versions), up to 1 000 a page.
            calls.insert(
                "iam:GetAccountAuthorizationDetails",
                pages(n(ResourceType::IamRole) + n(ResourceType::IamPolicy), 1000),
            );
        }
        if wants(ResourceType::IamInstanceProfile) {
            calls.insert(
                "iam:ListInstanceProfiles",
                pages(n(ResourceType::IamInstanceProfile), 1000),
            );
        }
        out.push(service_calls(Service::Iam, GLOBAL_REGION, &counts, calls));
    }
    if wants_service(Service::Route53) {
        out.push(route53_calls(&counts, found));
    }
    out
}

/// Route53's calls (`decom_aws::route53`): the zones, 100 a page, then each zone's
/// record sets, 300 a page, its SOA and NS included (discovery leaves them out).
fn route53_calls(
    counts: &BTreeMap<(&str, ResourceType), usize>,
    found: &Inventory,
) -> ServiceCalls {
    let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
    for resource in &found.resources {
        match &resource.details {
            Details::Route53Zone(_) => {
                per_zone.entry(resource.id.as_str()).or_insert(2);
            }
            Details::Route53Record(record) => {
                *per_zone.entry(record.zone_id.as_str()).or_insert(2) += 1;
            }
            _ => {}
        }
    }
    let zones = counts
        .get(&(GLOBAL_REGION, ResourceType::Route53Zone))
        .copied()
        .unwrap_or(0);
    let mut calls = BTreeMap::new();
    calls.insert("route53:ListHostedZones", pages(zones, 100));
    let record_pages: u64 = per_zone.values().map(|&n| pages(n, 300)).sum();
    if record_pages > 0 {
        calls.insert("route53:ListResourceRecordSets", record_pages);
    }
    service_calls(Service::Route53, GLOBAL_REGION, counts, calls)
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

/// The calls of a full discovery: the listings, then every fact they leave unread.
pub(crate) fn calls_for(request: &DiscoveryRequest, found: &Inventory) -> Vec<ServiceCalls> {
    let types: BTreeSet<ResourceType> = found.types.iter().copied().collect();
    let every_fact: FactRequest = found
        .resources
        .iter()
        .map(|r| (r.key(), Fact::unlisted(r.ty(), &types)))
        .filter(|(_, facts)| !facts.is_empty())
        .collect();
    let mut calls = listing_calls_for(request, found);
    for ((service, region), more) in fact_calls(&every_fact) {
        if let Some(entry) = calls
            .iter_mut()
            .find(|c| c.service == service && c.region == region)
        {
            for (api, n) in more {
                *entry.calls.entry(api).or_default() += n;
            }
        }
    }
    calls
}

/// The calls that read `wanted`, per service and region: one per resource and fact,
/// except ELBv2 tags, 20 resources a `DescribeTags`.
pub(crate) fn fact_calls(
    wanted: &FactRequest,
) -> BTreeMap<(Service, String), BTreeMap<&'static str, u64>> {
    let mut out: BTreeMap<(Service, String), BTreeMap<&'static str, u64>> = BTreeMap::new();
    let mut elb_tagged: BTreeMap<String, u64> = BTreeMap::new();
    for (key, facts) in wanted {
        let calls = out
            .entry((key.ty.service(), key.region.clone()))
            .or_default();
        for fact in facts {
            let api = match (key.ty, fact) {
                (ty, Fact::Tags) if ty.service() == Service::Elbv2 => {
                    *elb_tagged.entry(key.region.clone()).or_default() += 1;
                    continue;
                }
                (_, Fact::Tags) if key.ty == ResourceType::IamPolicy => "iam:ListPolicyTags",
                (_, Fact::Tags) if key.ty.service() == Service::Cloudwatch => {
                    "cloudwatch:ListTagsForResource"
                }
                (_, Fact::Tags) if key.ty == ResourceType::EcrRepository => {
                    "ecr:ListTagsForResource"
                }
                // One page of 100 images per repository: more pages are not counted.
                (_, Fact::Images) => "ecr:DescribeImages",
                (_, Fact::Tags) => "logs:ListTagsForResource",
                (ResourceType::Instance, Fact::Protection) => "ec2:DescribeInstanceAttribute",
                (_, Fact::Protection) => "elasticloadbalancing:DescribeLoadBalancerAttributes",
                (_, Fact::Targets) => "elasticloadbalancing:DescribeTargetHealth",
                (_, Fact::Listeners) => "elasticloadbalancing:DescribeListeners",
                (_, Fact::Rules) => "elasticloadbalancing:DescribeRules",
            };
            *calls.entry(api).or_default() += 1;
        }
    }
    for (region, tagged) in elb_tagged {
        out.entry((Service::Elbv2, region))
            .or_default()
            .insert("elasticloadbalancing:DescribeTags", tagged.div_ceil(20));
    }
    out.retain(|_, calls| !calls.is_empty());
    out
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
