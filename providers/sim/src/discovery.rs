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
