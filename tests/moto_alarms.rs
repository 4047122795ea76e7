//! CloudWatch alarms and ECR repositories on moto: an ALB's target group with two
//! alarms on it (one selected by its tag, one left without a target: an orphan) and
//! a repository with images are planned and removed by `decom apply`, exactly them
//! and the balancer; the neighbour's alarm and repository stay.

use std::collections::BTreeSet;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic, Tag as AlarmTag};
use decom_testing::account::{MotoAccount, provider_block, read_json};
use decom_testing::sdk::Sdk;
use decom_testing::stack;

use crate::util::DecomOnMoto;

fn spec(allowed_account: &str) -> String {
    format!(
        r#"{}
decommission "web" {{
  absent "*" {{ tags = {{ stack = "web" }} }}
  keep   "*" {{ tags = {{ stack = "neighbour" }} }}

  # The untagged alarm on web-tg watches nothing once the group goes.
  orphans = "delete"

  allow {{ delete_images = true }}
}}
"#,
        provider_block(allowed_account)
    )
}

/// The part of an ELBv2 ARN a CloudWatch dimension names (`targetgroup/…`,
/// `app/…`).
fn dimension(arn: &str, after: &str) -> String {
    arn.split_once(after)
        .map(|(_, d)| d.to_string())
        .expect("an ELBv2 ARN")
}

async fn alarm(sdk: &Sdk, name: &str, dimensions: &[(&str, &str)], stack: Option<&str>) {
    let mut put = sdk
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/ApplicationELB")
        .metric_name("UnHealthyHostCount")
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .alarm_actions(format!("arn:aws:sns:{}:123456789012:pager", sdk.region));
    for (key, value) in dimensions {
        put = put.dimensions(Dimension::builder().name(*key).value(*value).build());
    }
    if let Some(stack) = stack {
        put = put.tags(AlarmTag::builder().key("stack").value(stack).build());
    }
    put.send().await.expect("put metric alarm");
}

async fn repository(sdk: &Sdk, name: &str, stack: &str, images: &[&str]) {
    sdk.ecr
        .create_repository()
        .repository_name(name)
        .tags(
            aws_sdk_ecr::types::Tag::builder()
                .key("stack")
                .value(stack)
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("create repository");
    for (n, tag) in images.iter().enumerate() {
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":{n},"digest":"sha256:{n:064x}"}},"layers":[]}}"#
        );
        sdk.ecr
            .put_image()
            .repository_name(name)
            .image_manifest(manifest)
            .image_tag(*tag)
            .send()
            .await
            .expect("put image");
    }
}

async fn alarm_names(sdk: &Sdk) -> BTreeSet<String> {
    sdk.cloudwatch
        .describe_alarms()
        .send()
        .await
        .expect("describe alarms")
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect()
}

async fn repository_names(sdk: &Sdk) -> BTreeSet<String> {
    sdk.ecr
        .describe_repositories()
        .send()
        .await
        .expect("describe repositories")
        .repositories()
        .iter()
        .filter_map(|r| r.repository_name().map(str::to_string))
        .collect()
}

#[test]
fn apply_removes_the_alarms_on_a_target_group_and_a_repository_with_its_images() {
    let moto = MotoAccount::new(
        "apply_removes_the_alarms_on_a_target_group_and_a_repository_with_its_images",
    );
    let sdk = moto.sdk();
    moto.block_on(async {
        let (vpc, subnets) = stack::vpc_with_subnets(&sdk).await;
        let sg = stack::security_group(&sdk, &vpc, "web-alb-sg", "web").await;
        let tg = stack::target_group(&sdk, &vpc, "web-tg", "web").await;
        let lb = stack::load_balancer(&sdk, "web-alb", &subnets, &sg, "web").await;
        sdk.elbv2
            .create_listener()
            .load_balancer_arn(&lb)
            .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
            .port(80)
            .default_actions(stack::forward_one(&tg))
            .send()
            .await
            .expect("create listener");
        let (tg_dim, lb_dim) = (
            dimension(&tg, ":targetgroup/"),
            dimension(&lb, ":loadbalancer/"),
        );
        let tg_dim = format!("targetgroup/{tg_dim}");
        let dims = [
            ("TargetGroup", tg_dim.as_str()),
            ("LoadBalancer", lb_dim.as_str()),
        ];
        alarm(&sdk, "web-unhealthy-hosts", &dims, Some("web")).await;
        alarm(&sdk, "web-tg-no-healthy-hosts", &dims[..1], None).await;
        repository(&sdk, "web", "web", &["v1", "v2"]).await;

        let keep_tg = stack::target_group(&sdk, &vpc, "billing-tg", "neighbour").await;
        let keep_dim = format!("targetgroup/{}", dimension(&keep_tg, ":targetgroup/"));
        alarm(
            &sdk,
            "billing-unhealthy-hosts",
            &[("TargetGroup", &keep_dim)],
            None,
        )
        .await;
        repository(&sdk, "billing", "neighbour", &["v7"]).await;
    });
    let spec = moto.write_spec("spec", &spec(&moto.account));
    let spec = spec.to_str().expect("utf-8 path");

    let plan = moto.decom(&["plan", spec, "-json"]);
    plan.expect_code(0, "the plan is made");
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout()).expect("plan JSON");
    assert_eq!(plan["applyable"], true, "{plan:#}");
    let removed: BTreeSet<(String, String)> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["change"] == "destroy")
        .map(|s| {
            (
                s["type"].as_str().expect("type").to_string(),
                s["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("aws_cloudwatch_metric_alarm", "web-unhealthy-hosts"),
        ("aws_cloudwatch_metric_alarm", "web-tg-no-healthy-hosts"),
        ("aws_ecr_repository", "web"),
        ("aws_lb", "web-alb"),
        ("aws_lb_listener", "HTTP:80"),
        ("aws_lb_target_group", "web-tg"),
        ("aws_security_group", "web-alb-sg"),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_string(), n.to_string()))
    .collect();
    assert_eq!(removed, expected, "{plan:#}");
    let actions: Vec<&str> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["action"].as_str())
        .collect();
    assert!(actions.contains(&"delete_with_images"), "{actions:?}");

    let state = moto.path("state");
    let state_dir = state.to_str().expect("utf-8 path");
    moto.decom(&["apply", spec, "-auto-approve", "-state-dir", state_dir])
        .expect_code(0, "apply succeeds");

    moto.block_on(async {
        assert_eq!(
            alarm_names(&sdk).await,
            BTreeSet::from(["billing-unhealthy-hosts".to_string()])
        );
        assert_eq!(
            repository_names(&sdk).await,
            BTreeSet::from(["billing".to_string()])
        );
    });
    // The archive holds the repository's images, read before it went.
    let archived = files_under(&state)
        .into_iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .any(|text| text.contains("\"aws_ecr_repository\"") && text.contains("\"v2\""));
    assert!(archived, "the archive lists the repository's images");

    // A second discovery finds nothing of the stack left.
    moto.decom(&["discover", spec, "-o", "after.json"])
        .expect_code(0, "discovery succeeds");
    let after = read_json(&moto.path("after.json"));
    let left: Vec<&serde_json::Value> = after["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["tags"]["stack"] == "web")
        .collect();
    assert!(left.is_empty(), "{left:#?}");
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
