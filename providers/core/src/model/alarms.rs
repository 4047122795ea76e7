//! The details of CloudWatch alarms (metric and composite) and ECR repositories: the
//! loose ends a decommissioning leaves behind.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ResourceType;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricAlarm {
    pub arn: String,
    pub namespace: String,
    pub metric_name: String,
    /// The metric's dimensions, name to value (`TargetGroup` → `targetgroup/web/…`).
    pub dimensions: BTreeMap<String, String>,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    /// The ARNs its alarm, OK and insufficient-data actions notify (SNS topics among
    /// them): recorded, never followed.
    pub actions: Vec<String>,
    pub state_updated: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompositeAlarm {
    pub arn: String,
    /// The rule, as written (`ALARM("a") OR ALARM("b")`).
    pub alarm_rule: String,
    pub state: String,
    pub actions: Vec<String>,
    pub state_updated: Option<String>,
}

impl CompositeAlarm {
    /// The alarms its rule names (`ALARM(name)`, `OK("name")`, by name or ARN), sorted,
    /// once each.
    pub fn children(&self) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = self.alarm_rule.as_str();
        while let Some(open) = rest.find('(') {
            let before = rest[..open].trim_end();
            let function = before
                .rsplit(|c: char| !c.is_ascii_alphabetic() && c != '_')
                .next()
                .unwrap_or("");
            let after = &rest[open + 1..];
            let Some(close) = after.find(')') else { break };
            if matches!(function, "ALARM" | "OK" | "INSUFFICIENT_DATA") {
                let name = after[..close]
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'');
                let name = name.rsplit(":alarm:").next().unwrap_or(name);
                if !name.is_empty() {
                    names.push(name.to_string());
                }
                rest = &after[close + 1..];
            } else {
                rest = after;
            }
        }
        names.sort();
        names.dedup();
        names
    }
}

impl MetricAlarm {
    /// The resources its dimensions name, as (type, id): a load balancer or target
    /// group (by ARN, rebuilt from the dimension and the alarm's own ARN), an
    /// instance, an Auto Scaling group, an ECS cluster or service.
    pub fn targets(&self) -> Vec<(ResourceType, String)> {
        let mut targets = Vec::new();
        // arn:aws:cloudwatch:<region>:<account>:alarm:<name>
        let mut parts = self.arn.splitn(6, ':');
        let (partition, region, account) = match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some(_), Some(partition), Some(_), Some(region), Some(account)) => {
                (partition, region, account)
            }
            _ => ("aws", "", ""),
        };
        let elb_arn = |resource: &str| {
            format!("arn:{partition}:elasticloadbalancing:{region}:{account}:{resource}")
        };
        for (name, value) in &self.dimensions {
            match name.as_str() {
                "LoadBalancer" => {
                    targets.push((ResourceType::Lb, elb_arn(&format!("loadbalancer/{value}"))))
                }
                "TargetGroup" => targets.push((ResourceType::LbTargetGroup, elb_arn(value))),
                "InstanceId" => targets.push((ResourceType::Instance, value.clone())),
                "AutoScalingGroupName" => {
                    targets.push((ResourceType::AutoscalingGroup, value.clone()))
                }
                "ClusterName" => {
                    let cluster = format!("arn:{partition}:ecs:{region}:{account}:cluster/{value}");
                    match self.dimensions.get("ServiceName") {
                        Some(service) => targets.push((
                            ResourceType::EcsService,
                            format!(
                                "arn:{partition}:ecs:{region}:{account}:service/{value}/{service}"
                            ),
                        )),
                        None => targets.push((ResourceType::EcsCluster, cluster)),
                    }
                }
                _ => {}
            }
        }
        targets
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EcrRepository {
    pub arn: String,
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<name>`.
    pub uri: String,
    pub created: Option<String>,
    /// Its images (`ecr:DescribeImages`, a call per repository): data, archived
    /// before the repository goes.
    pub images: Vec<EcrImage>,
}

impl EcrRepository {
    /// The most recent pull of any of its images, if AWS recorded one.
    pub fn last_pull(&self) -> Option<&str> {
        self.images
            .iter()
            .filter_map(|i| i.last_pull.as_deref())
            .max()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EcrImage {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed: Option<String>,
    /// `lastRecordedPullTime`.
    pub last_pull: Option<String>,
    pub size_bytes: Option<i64>,
}

/// The ECR repository an image URI names, as (region, repository name):
/// `<account>.dkr.ecr.<region>.amazonaws.com/<name>[:tag|@digest]`.
pub fn ecr_repository_of(image: &str) -> Option<(&str, &str)> {
    let (host, path) = image.split_once('/')?;
    let mut labels = host.split('.');
    let (_account, dkr, ecr, region) = (
        labels.next()?,
        labels.next()?,
        labels.next()?,
        labels.next()?,
    );
    if dkr != "dkr" || ecr != "ecr" {
        return None;
    }
    let path = path.split('@').next().unwrap_or(path);
    let name = match path.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => path,
    };
    (!name.is_empty()).then_some((region, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_composite_rule_names_its_children() {
        let alarm = CompositeAlarm {
            alarm_rule: r#"ALARM("cpu-high") OR (OK(mem) AND NOT ALARM("arn:aws:cloudwatch:eu-west-1:1:alarm:disk"))"#.into(),
            ..CompositeAlarm::default()
        };
        assert_eq!(alarm.children(), ["cpu-high", "disk", "mem"]);
    }

    #[test]
    fn dimensions_name_balancers_and_services_by_arn() {
        let alarm = MetricAlarm {
            arn: "arn:aws:cloudwatch:eu-west-1:123:alarm:x".into(),
            dimensions: [
                ("TargetGroup".to_string(), "targetgroup/web/abc".to_string()),
                ("LoadBalancer".to_string(), "app/web/def".to_string()),
                ("ClusterName".to_string(), "c".to_string()),
                ("ServiceName".to_string(), "s".to_string()),
            ]
            .into(),
            ..MetricAlarm::default()
        };
        let targets = alarm.targets();
        assert!(targets.contains(&(
            ResourceType::LbTargetGroup,
            "arn:aws:elasticloadbalancing:eu-west-1:123:targetgroup/web/abc".into()
        )));
        assert!(targets.contains(&(
            ResourceType::Lb,
            "arn:aws:elasticloadbalancing:eu-west-1:123:loadbalancer/app/web/def".into()
        )));
        assert!(targets.contains(&(
            ResourceType::EcsService,
            "arn:aws:ecs:eu-west-1:123:service/c/s".into()
        )));
    }

    #[test]
    fn image_uris_name_their_repository() {
        assert_eq!(
            ecr_repository_of("1.dkr.ecr.eu-west-1.amazonaws.com/team/web:1.2"),
            Some(("eu-west-1", "team/web"))
        );
        assert_eq!(
            ecr_repository_of("1.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:ab"),
            Some(("eu-west-1", "web"))
        );
        assert_eq!(ecr_repository_of("nginx:latest"), None);
        assert_eq!(ecr_repository_of("docker.io/library/nginx"), None);
    }
}
