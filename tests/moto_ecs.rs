//! ECS on moto: a cluster, a service behind a target group and two task definition
//! revisions are discovered, planned and removed by `decom apply` — exactly them
//! and what the spec targets around them, never the neighbour's.

use std::collections::BTreeSet;

use decom_testing::account::{MotoAccount, provider_block, read_json};
use decom_testing::stack::{self, ecs};

use crate::util::DecomOnMoto;

const TRUST_ECS_TASKS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn ecs_spec(allowed_account: &str) -> String {
    format!(
        r#"{}
decommission "orders" {{
  absent "*" {{ tags = {{ stack = "orders" }} }}
  keep   "*" {{ tags = {{ stack = "neighbour" }} }}

  # The service runs a task: live traffic until it is scaled to 0.
  allow {{ delete_live_traffic = true }}
}}
"#,
        provider_block(allowed_account)
    )
}

async fn role(sdk: &decom_testing::sdk::Sdk, name: &str, stack: &str) -> String {
    sdk.iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST_ECS_TASKS)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("stack")
                .value(stack)
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("create role")
        .role
        .map(|r| r.arn)
        .expect("role arn")
}

async fn log_group(sdk: &decom_testing::sdk::Sdk, name: &str, stack: &str) {
    sdk.logs
        .create_log_group()
        .log_group_name(name)
        .tags("stack", stack)
        .send()
        .await
        .expect("create log group");
}

/// The statuses of `arns`' task definitions: `None` once deleted.
async fn task_definition_status(sdk: &decom_testing::sdk::Sdk, arn: &str) -> Option<String> {
    let answer = sdk
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .ok()?;
    let status = answer.task_definition()?.status()?.as_str().to_string();
    (status != "DELETE_IN_PROGRESS").then_some(status)
}

#[test]
fn apply_removes_the_ecs_service_its_task_definitions_and_its_cluster() {
    let moto =
        MotoAccount::new("apply_removes_the_ecs_service_its_task_definitions_and_its_cluster");
    let sdk = moto.sdk();
    let (orders, neighbour) = moto.block_on(async {
        let (vpc, subnets) = stack::vpc_with_subnets(&sdk).await;
        let sg = stack::security_group(&sdk, &vpc, "orders-sg", "orders").await;
        let tg = stack::target_group(&sdk, &vpc, "orders-tg", "orders").await;
        let task_role = role(&sdk, "orders-task-role", "orders").await;
        log_group(&sdk, "/ecs/orders", "orders").await;
        let orders = ecs::build(
            &sdk,
            "orders",
            "orders",
            2,
            &task_role,
            "/ecs/orders",
            &subnets,
            &sg,
            &tg,
        )
        .await;
        let keep_sg = stack::security_group(&sdk, &vpc, "billing-sg", "neighbour").await;
        let keep_tg = stack::target_group(&sdk, &vpc, "billing-tg", "neighbour").await;
        let keep_role = role(&sdk, "billing-task-role", "neighbour").await;
        log_group(&sdk, "/ecs/billing", "neighbour").await;
        let neighbour = ecs::build(
            &sdk,
            "billing",
            "neighbour",
            1,
            &keep_role,
            "/ecs/billing",
            &subnets,
            &keep_sg,
            &keep_tg,
        )
        .await;
        (orders, neighbour)
    });
    let spec = moto.write_spec("spec", &ecs_spec(&moto.account));
    let spec = spec.to_str().expect("utf-8 path");

    let plan = moto.decom(&["plan", spec, "-json"]);
    plan.expect_code(0, "the plan is made");
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout()).expect("plan JSON");
    assert_eq!(plan["applyable"], true, "{plan:#}");
    let destroyed: BTreeSet<(String, String)> = plan["steps"]
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
        ("aws_ecs_cluster", "orders"),
        ("aws_ecs_service", "orders"),
        ("aws_ecs_task_definition", "orders:1"),
        ("aws_ecs_task_definition", "orders:2"),
        ("aws_lb_target_group", "orders-tg"),
        ("aws_security_group", "orders-sg"),
        ("aws_iam_role", "orders-task-role"),
        ("aws_cloudwatch_log_group", "/ecs/orders"),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_string(), n.to_string()))
    .collect();
    assert_eq!(destroyed, expected, "{plan:#}");
    let actions: Vec<&str> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["action"].as_str())
        .collect();
    assert!(actions.contains(&"scale_to_zero"), "{actions:?}");
    assert!(
        actions.contains(&"deregister_task_definition"),
        "{actions:?}"
    );

    moto.decom(&["apply", spec, "-auto-approve"])
        .expect_code(0, "apply succeeds");

    moto.block_on(async {
        let services = sdk
            .ecs
            .describe_services()
            .cluster(&orders.cluster)
            .services(&orders.service)
            .send()
            .await
            .expect("describe services");
        assert!(
            services
                .services()
                .iter()
                .all(|s| s.status() == Some("INACTIVE")),
            "{services:?}"
        );
        let clusters = sdk
            .ecs
            .describe_clusters()
            .clusters(&orders.cluster)
            .clusters(&neighbour.cluster)
            .send()
            .await
            .expect("describe clusters");
        let status = |arn: &str| {
            clusters
                .clusters()
                .iter()
                .find(|c| c.cluster_arn() == Some(arn))
                .and_then(|c| c.status())
                .map(str::to_string)
        };
        assert_ne!(status(&orders.cluster).as_deref(), Some("ACTIVE"));
        assert_eq!(status(&neighbour.cluster).as_deref(), Some("ACTIVE"));
        for arn in &orders.task_definitions {
            assert_eq!(task_definition_status(&sdk, arn).await, None, "{arn}");
        }
        for arn in &neighbour.task_definitions {
            assert_eq!(
                task_definition_status(&sdk, arn).await.as_deref(),
                Some("ACTIVE"),
                "{arn}"
            );
        }
        let kept = sdk
            .ecs
            .describe_services()
            .cluster(&neighbour.cluster)
            .services(&neighbour.service)
            .send()
            .await
            .expect("describe services");
        assert_eq!(kept.services()[0].status(), Some("ACTIVE"));
        assert_eq!(kept.services()[0].desired_count(), 1);
    });

    // A second discovery finds nothing of the stack left.
    moto.decom(&["discover", spec, "-o", "after.json"])
        .expect_code(0, "discovery succeeds");
    let after = read_json(&moto.path("after.json"));
    let left: Vec<&serde_json::Value> = after["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["tags"]["stack"] == "orders")
        .collect();
    assert!(left.is_empty(), "{left:#?}");
}
