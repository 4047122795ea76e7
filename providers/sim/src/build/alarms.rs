//! CloudWatch alarms and ECR repositories in the builder.

use std::collections::BTreeMap;

use decom_provider::{CompositeAlarm, Details, EcrImage, EcrRepository, MetricAlarm};

use super::{AccountBuilder, CREATED};

impl AccountBuilder {
    /// A metric alarm on `namespace`/`metric` with `dimensions`, notifying
    /// `actions`; returns its name.
    pub fn metric_alarm(
        &mut self,
        name: &str,
        (namespace, metric): (&str, &str),
        dimensions: &[(&str, &str)],
        actions: &[&str],
        tags: BTreeMap<String, String>,
    ) -> String {
        let details = Details::CloudwatchMetricAlarm(MetricAlarm {
            arn: self.alarm_arn(name),
            namespace: namespace.into(),
            metric_name: metric.into(),
            dimensions: dimensions
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            state: "OK".into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
            state_updated: Some(CREATED.into()),
        });
        let resource = self.regional(name.into(), name, tags, details);
        self.push(resource);
        name.into()
    }

    /// A composite alarm with `rule` (`ALARM("a") OR ALARM("b")`); returns its name.
    pub fn composite_alarm(
        &mut self,
        name: &str,
        rule: &str,
        tags: BTreeMap<String, String>,
    ) -> String {
        let details = Details::CloudwatchCompositeAlarm(CompositeAlarm {
            arn: self.alarm_arn(name),
            alarm_rule: rule.into(),
            state: "OK".into(),
            actions: Vec::new(),
            state_updated: Some(CREATED.into()),
        });
        let resource = self.regional(name.into(), name, tags, details);
        self.push(resource);
        name.into()
    }

    /// An ECR repository holding one image per tag (pushed and last pulled at
    /// `pulled`, when given); returns its URI.
    pub fn ecr_repository(
        &mut self,
        name: &str,
        image_tags: &[&str],
        pulled: Option<&str>,
        tags: BTreeMap<String, String>,
    ) -> String {
        let uri = format!(
            "{}.dkr.ecr.{}.amazonaws.com/{name}",
            self.account_id, self.region
        );
        let images = image_tags
            .iter()
            .map(|tag| EcrImage {
                digest: format!("sha256:{}{}", self.hex16(), self.hex16()),
                tags: vec![tag.to_string()],
                pushed: Some(CREATED.into()),
                last_pull: pulled.map(str::to_string),
                size_bytes: Some(52_428_800),
            })
            .collect();
        let details = Details::EcrRepository(EcrRepository {
            arn: format!(
                "arn:aws:ecr:{}:{}:repository/{name}",
                self.region, self.account_id
            ),
            uri: uri.clone(),
            created: Some(CREATED.into()),
            images,
        });
        let resource = self.regional(name.into(), name, tags, details);
        self.push(resource);
        uri
    }

    fn alarm_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:cloudwatch:{}:{}:alarm:{name}",
            self.region, self.account_id
        )
    }
}
