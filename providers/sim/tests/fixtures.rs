//! The fixtures under `fixtures/`: built here through the typed model, checked against
//! the files on disk, loaded with `Inventory::load` and exercised on the simulator.
//!
//! After changing a builder, regenerate the files with
//! `DECOM_UPDATE_FIXTURES=1 cargo test -p decom-sim --test fixtures`.

use std::path::{Path, PathBuf};

use decom_provider::{
    Action, Details, InstanceState, Inventory, NetworkInterface, Operation, Provider, ResourceKey,
    ResourceType,
};
use decom_sim::SimProvider;
use decom_sim::build::{
    AccountBuilder, GroupSpec, LaunchSource, Routing, ServiceSpec, TargetSpec, TaskDefinitionSpec,
    tags,
};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const ECS_ROLE_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role";
const TASK_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Story 5.8: the lego-api ECS stack after its blue/green cutover, beside the kept
/// `billing` service and shared resources that reference it.
fn ecs_story() -> Inventory {
    let mut b = AccountBuilder::new(ACCOUNT, REGION, 58);
    let lego = || tags(&[("Service", "lego-api"), ("Environment", "production")]);
    let billing = || tags(&[("Service", "billing"), ("Environment", "production")]);
    let platform = || tags(&[("Team", "platform")]);
    b.default_security_group();

    // Security groups.
    let alb_sg = b.security_group("lego-api-alb-sg", "lego-api ALB ingress", lego());
    b.allow_from_cidr(&alb_sg, "0.0.0.0/0", 443, "HTTPS from anywhere");
    let app_sg = b.security_group(
        "lego-api-app-sg",
        "lego-api ECS container instances",
        lego(),
    );
    let bastion_sg = b.security_group("bastion-sg", "lego-api bastion host", lego());
    b.allow_from_group(&app_sg, &alb_sg, 8080, "from lego-api-alb");
    b.allow_from_group(&app_sg, &bastion_sg, 22, "SSH from the bastion");
    b.allow_from_cidr(&bastion_sg, "203.0.113.0/24", 22, "office VPN");
    b.allow_from_group(&bastion_sg, &app_sg, 22, "SSH back from app hosts");
    let monitoring_sg = b.security_group("monitoring-sg", "Prometheus node exporters", platform());
    b.allow_from_group(&monitoring_sg, &app_sg, 9100, "node_exporter from lego-api");
    b.allow_from_cidr(&monitoring_sg, "10.0.0.0/16", 9090, "Prometheus UI");

    // IAM.
    let policy = b.policy(
        "lego-api-ecs-policy",
        &[
            "ecr:GetAuthorizationToken",
            "ecr:BatchGetImage",
            "ecs:Poll",
            "ssm:GetParameters",
        ],
        0,
        lego(),
    );
    let instance_role = b.role("lego-api-ecs-instance-role", "ec2.amazonaws.com", lego());
    b.attach_role_policy(&instance_role, &policy);
    b.attach_role_policy(&instance_role, ECS_ROLE_POLICY);
    b.inline_policy(
        &instance_role,
        "lego-api-logs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
    );
    let task_role = b.role("lego-api-ecs-task-role", "ecs-tasks.amazonaws.com", lego());
    b.inline_policy(&task_role, "lego-api-assets-read", &["s3:GetObject"]);
    let profile = b.instance_profile(
        "lego-api-ecs-instance-profile",
        Some(&instance_role),
        lego(),
    );
    let execution_role = b.role(
        "shared-ecs-execution-role",
        "ecs-tasks.amazonaws.com",
        platform(),
    );
    b.attach_role_policy(&execution_role, TASK_EXECUTION_POLICY);
    b.attach_role_policy(&execution_role, &policy);

    // Compute and load balancing.
    let instances: Vec<String> = (1..=2)
        .map(|k| {
            b.instance(
                &format!("lego-api-ecs-{k}"),
                "m5.large",
                &[&app_sg],
                Some(&profile),
                lego(),
            )
        })
        .collect();
    // Traffic moved to the new platform: blue drains, green is unused.
    let targets = |health| -> Vec<TargetSpec<'_>> {
        instances
            .iter()
            .map(|id| TargetSpec {
                id,
                port: 8080,
                health,
            })
            .collect()
    };
    let blue = b.target_group("lego-api-blue", "HTTP", 8080, &targets("draining"), lego());
    let green = b.target_group("lego-api-green", "HTTP", 8080, &targets("unused"), lego());
    let alb = b.load_balancer_with_id(
        "lego-api-alb",
        "application",
        "50dc6c495c0c9188",
        &[&alb_sg],
        lego(),
    );
    let https = b.listener(&alb, "HTTPS", 443, &[&blue]);
    b.listener_rule(&https, 10, &["path-pattern=/api/*"], &[&green]);
    // HTTP:80 redirects to HTTPS: no target group.
    b.listener(&alb, "HTTP", 80, &[]);
    b.log_group("/ecs/lego-api", Some(30), 734_003_200, lego());
    b.log_group("/ecs/lego-api-migrations", Some(14), 2_097_152, lego());

    // The kept neighbour.
    let billing_alb_sg = b.security_group("billing-alb-sg", "billing ALB ingress", billing());
    b.allow_from_cidr(&billing_alb_sg, "0.0.0.0/0", 443, "HTTPS from anywhere");
    let billing_app_sg = b.security_group(
        "billing-app-sg",
        "billing ECS container instances",
        billing(),
    );
    b.allow_from_group(&billing_app_sg, &billing_alb_sg, 8080, "from billing-alb");
    let billing_role = b.role("billing-ecs-instance-role", "ec2.amazonaws.com", billing());
    b.attach_role_policy(&billing_role, ECS_ROLE_POLICY);
    let billing_profile = b.instance_profile(
        "billing-ecs-instance-profile",
        Some(&billing_role),
        billing(),
    );
    let billing_instance = b.instance(
        "billing-ecs-1",
        "m5.large",
        &[&billing_app_sg],
        Some(&billing_profile),
        billing(),
    );
    let billing_tg = b.target_group(
        "billing-tg",
        "HTTP",
        8080,
        &[TargetSpec {
            id: &billing_instance,
            port: 8080,
            health: "healthy",
        }],
        billing(),
    );
    let billing_alb = b.load_balancer("billing-alb", "application", &[&billing_alb_sg], billing());
    b.listener(&billing_alb, "HTTPS", 443, &[&billing_tg]);
    b.log_group("/ecs/billing", Some(90), 1_258_291_200, billing());

    // The container instances' Auto Scaling group, launched from a template, and the
    // volumes the runbook snapshots first (seed 004): the first host's data volume
    // outlives it (not deleted on termination), with an older snapshot of it.
    let template = b.launch_template("lego-api-ecs-lt", &[&app_sg], Some(&profile), lego());
    let group_instances = b.autoscaling_group(
        &GroupSpec {
            name: "lego-api-ecs-asg",
            source: LaunchSource::Template(&template),
            target_groups: &[&green],
            capacity: 2,
            instance_type: "m5.large",
            root_volume_gib: 30,
        },
        lego(),
    );
    let mut data_tags = lego();
    data_tags.insert("Name".into(), "lego-api-ecs-1-data".into());
    let data = b.volume(100, Some((&instances[0], "/dev/xvdf", false)), data_tags);
    b.snapshot(&data, 100, &[], lego());
    // ECS (built last, so that the ids drawn before stay as they were): the
    // lego-api cluster on the two hosts and the group's two instances, the Fargate
    // service behind lego-api-blue with three revisions of its task definition, and
    // the worker.
    let instance_ids: Vec<&str> = instances
        .iter()
        .chain(&group_instances)
        .map(String::as_str)
        .collect();
    let cluster = b.ecs_cluster("lego-api", &instance_ids, lego());
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/lego-api";
    let mut api_revision = String::new();
    for revision in 1..=3 {
        api_revision = b.task_definition(
            &TaskDefinitionSpec {
                family: "lego-api",
                revision,
                active: revision == 3,
                task_role: Some(&task_role),
                execution_role: Some(&execution_role),
                log_group: Some("/ecs/lego-api"),
                image: &format!("{image}:v{revision}"),
            },
            lego(),
        );
    }
    b.ecs_service(
        &ServiceSpec {
            name: "lego-api",
            cluster: &cluster,
            task_definition: &api_revision,
            launch_type: "FARGATE",
            desired_count: 2,
            target_groups: &[&blue],
            security_groups: &[&app_sg],
        },
        lego(),
    );
    let worker_revision = b.task_definition(
        &TaskDefinitionSpec {
            family: "lego-api-worker",
            revision: 1,
            active: true,
            task_role: Some(&task_role),
            execution_role: Some(&execution_role),
            log_group: Some("/ecs/lego-api"),
            image: &format!("{image}-worker:v1"),
        },
        lego(),
    );
    b.ecs_service(
        &ServiceSpec {
            name: "lego-api-worker",
            cluster: &cluster,
            task_definition: &worker_revision,
            launch_type: "EC2",
            desired_count: 1,
            target_groups: &[],
            security_groups: &[],
        },
        lego(),
    );
    // The loose ends (built after ECS, for the same reason): the images the task
    // definitions run, an ECS CPU alarm on the service, the target health alarm on
    // lego-api-blue that nobody tagged (an orphan once the group goes), and the
    // neighbour's alarm.
    b.ecr_repository(
        "lego-api",
        &["v1", "v2", "v3"],
        Some("2024-06-02T08:00:00Z"),
        lego(),
    );
    b.ecr_repository("lego-api-worker", &["v1"], None, lego());
    let pager = "arn:aws:sns:us-east-1:123456789012:platform-pager";
    b.metric_alarm(
        "lego-api-cpu-high",
        ("AWS/ECS", "CPUUtilization"),
        &[("ClusterName", "lego-api"), ("ServiceName", "lego-api")],
        &[pager],
        lego(),
    );
    let dimension = |arn: &str, after: &str| arn.split_once(after).map(|(_, d)| d.to_string());
    let blue_dim = dimension(&blue, ":123456789012:").unwrap_or_default();
    let alb_dim = dimension(&alb, ":loadbalancer/").unwrap_or_default();
    b.metric_alarm(
        "lego-api-blue-unhealthy-hosts",
        ("AWS/ApplicationELB", "UnHealthyHostCount"),
        &[("TargetGroup", &blue_dim), ("LoadBalancer", &alb_dim)],
        &[pager],
        platform(),
    );
    let billing_tg_dim = dimension(&billing_tg, ":123456789012:").unwrap_or_default();
    b.metric_alarm(
        "billing-unhealthy-hosts",
        ("AWS/ApplicationELB", "UnHealthyHostCount"),
        &[("TargetGroup", &billing_tg_dim)],
        &[pager],
        billing(),
    );
    // Route53, last (ids drawn before stay as they were): the blue/green weighted
    // aliases of the cutover, both on the lego-api ALB, and billing's alias.
    let zone = b.hosted_zone("lego.example.com", false);
    let (alb_dns, billing_dns) = (lb_dns_name(&mut b, &alb), lb_dns_name(&mut b, &billing_alb));
    let api = "api.lego.example.com";
    b.alias_record(
        &zone,
        api,
        &alb_dns,
        Routing::Weighted {
            set: "blue",
            weight: 100,
        },
    );
    b.alias_record(
        &zone,
        api,
        &alb_dns,
        Routing::Weighted {
            set: "green",
            weight: 0,
        },
    );
    b.alias_record(
        &zone,
        "billing.lego.example.com",
        &billing_dns,
        Routing::Simple,
    );
    b.finish()
}

fn lb_dns_name(b: &mut AccountBuilder, arn: &str) -> String {
    match b.details_mut(ResourceType::Lb, arn) {
        Details::Lb(lb) => lb.dns_name.clone(),
        _ => unreachable!("a load balancer's details"),
    }
}

/// Phase 3 of the OpenTelemetry cutover: the legacy telemetry stack behind an NLB.
fn otel_telemetry() -> Inventory {
    let mut b = AccountBuilder::new(ACCOUNT, REGION, 4317);
    let telemetry = || tags(&[("Service", "telemetry"), ("Environment", "production")]);
    b.default_security_group();
    let collector_sg = b.security_group(
        "telemetry-collector-sg",
        "legacy telemetry collectors",
        telemetry(),
    );
    b.allow_from_cidr(&collector_sg, "10.0.0.0/8", 4317, "OTLP gRPC");
    b.allow_from_cidr(&collector_sg, "10.0.0.0/8", 55680, "legacy OpenCensus/OTLP");
    let grafana_sg = b.security_group(
        "grafana-sg",
        "Grafana",
        tags(&[("Service", "grafana"), ("Team", "observability")]),
    );
    b.allow_from_cidr(&grafana_sg, "10.0.0.0/16", 3000, "Grafana UI");

    let policy = b.policy(
        "telemetry-collector-policy",
        &[
            "cloudwatch:PutMetricData",
            "xray:PutTraceSegments",
            "logs:PutLogEvents",
        ],
        2,
        telemetry(),
    );
    let role = b.role("telemetry-collector-role", "ec2.amazonaws.com", telemetry());
    b.attach_role_policy(&role, &policy);
    b.attach_role_policy(&role, "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy");
    // Created by the console, the profile is named after the role.
    let profile = b.instance_profile("telemetry-collector-role", Some(&role), telemetry());

    // Week 10: the legacy collectors were stopped.
    let collectors: Vec<String> = (1..=3)
        .map(|k| {
            let id = b.instance(
                &format!("telemetry-collector-{k}"),
                "c5.large",
                &[&collector_sg],
                Some(&profile),
                telemetry(),
            );
            if let Details::Instance(i) = b.details_mut(ResourceType::Instance, &id) {
                i.state = InstanceState::Stopped;
            }
            id
        })
        .collect();
    let targets: Vec<TargetSpec<'_>> = collectors
        .iter()
        .map(|id| TargetSpec {
            id,
            port: 4317,
            health: "unused",
        })
        .collect();
    let tg = b.target_group("telemetry-collectors", "TCP", 4317, &targets, telemetry());
    let nlb = b.load_balancer("telemetry-nlb", "network", &[], telemetry());
    if let Details::Lb(lb) = b.details_mut(ResourceType::Lb, &nlb) {
        lb.scheme = "internal".into();
    }
    b.listener(&nlb, "TCP", 4317, &[&tg]);
    b.listener(&nlb, "TCP", 55680, &[&tg]);
    b.log_group(
        "/aws/telemetry/collector",
        Some(30),
        5_368_709_120,
        telemetry(),
    );
    b.log_group("/ecs/telemetry-agent", Some(7), 104_857_600, telemetry());

    // The new OpenTelemetry stack and Grafana stay.
    b.instance(
        "grafana-1",
        "t3.medium",
        &[&grafana_sg],
        None,
        tags(&[("Service", "grafana"), ("Team", "observability")]),
    );
    b.log_group(
        "/aws/otel/collector",
        Some(30),
        209_715_200,
        tags(&[("Service", "otel")]),
    );
    // The private zone the collectors were reached by; Grafana's record stays.
    let zone = b.hosted_zone("telemetry.internal", true);
    let nlb_dns = lb_dns_name(&mut b, &nlb);
    b.cname_record(&zone, "otlp.telemetry.internal", &nlb_dns);
    b.cname_record(
        &zone,
        "grafana.telemetry.internal",
        "grafana-1.ec2.internal",
    );
    b.finish()
}

/// Edge cases: cycles, protection flags, shared policies, ENIs decom cannot delete,
/// a kept instance in a targeted group, live traffic.
fn tricky() -> Inventory {
    let mut b = AccountBuilder::new(ACCOUNT, REGION, 1337);
    let legacy = || tags(&[("Service", "legacy")]);
    b.default_security_group();

    // a-sg and b-sg admit each other (selected by name, untagged); a-sg also itself.
    let a_sg = b.security_group("a-sg", "legacy app tier", tags(&[]));
    let b_sg = b.security_group("b-sg", "legacy database tier", tags(&[]));
    b.allow_from_group(&a_sg, &b_sg, 5432, "replies from b");
    b.allow_from_group(&b_sg, &a_sg, 5432, "PostgreSQL from a");
    b.allow_from_group(&a_sg, &a_sg, 7946, "gossip between app nodes");
    let alb_sg = b.security_group("legacy-alb-sg", "legacy ALB ingress", legacy());
    b.allow_from_cidr(&alb_sg, "0.0.0.0/0", 80, "HTTP from anywhere");
    b.allow_from_group(&a_sg, &alb_sg, 8080, "from legacy-alb");
    // A kept group with a rule naming a targeted one.
    let ops_sg = b.security_group("ops-sg", "ops jump hosts", tags(&[("Team", "ops")]));
    b.allow_from_group(&ops_sg, &a_sg, 22, "SSH from legacy app hosts");
    // A targeted group that a kept instance uses.
    let legacy_ops_sg = b.security_group("legacy-ops-sg", "legacy ops access", legacy());
    b.allow_from_cidr(&legacy_ops_sg, "203.0.113.0/24", 22, "office VPN");

    // IAM: a policy shared with a kept role; a targeted policy attached to a user.
    let shared = b.policy(
        "shared-read-policy",
        &["s3:GetObject", "s3:ListBucket"],
        0,
        tags(&[("Team", "data")]),
    );
    let app_role = b.role("legacy-app-role", "ec2.amazonaws.com", legacy());
    b.attach_role_policy(&app_role, &shared);
    let reporting = b.role(
        "reporting-role",
        "ec2.amazonaws.com",
        tags(&[("Team", "data")]),
    );
    b.attach_role_policy(&reporting, &shared);
    let deploy = b.policy(
        "legacy-deploy-policy",
        &["codedeploy:*", "s3:PutObject"],
        0,
        legacy(),
    );
    b.attach_user_policy(&deploy, "ci-deployer");
    let profile = b.instance_profile("legacy-app-profile", Some(&app_role), legacy());

    // A termination-protected worker serving live traffic behind a protected ALB.
    let worker = b.instance(
        "legacy-worker-1",
        "m5.xlarge",
        &[&a_sg],
        Some(&profile),
        legacy(),
    );
    if let Details::Instance(i) = b.details_mut(ResourceType::Instance, &worker) {
        i.termination_protection = true;
    }
    let tg = b.target_group(
        "legacy-tg",
        "HTTP",
        8080,
        &[TargetSpec {
            id: &worker,
            port: 8080,
            health: "healthy",
        }],
        legacy(),
    );
    let alb = b.load_balancer("legacy-alb", "application", &[&alb_sg], legacy());
    if let Details::Lb(lb) = b.details_mut(ResourceType::Lb, &alb) {
        lb.deletion_protection = true;
    }
    b.listener(&alb, "HTTP", 80, &[&tg]);

    // A Lambda function's ENI in b-sg: only Lambda can delete it.
    let vpc = b.vpc_id().to_string();
    b.network_interface(NetworkInterface {
        vpc_id: Some(vpc),
        subnet_id: None,
        description: "AWS Lambda VPC ENI-legacy-fn-6f1d2c3a-8b4e-4f7a-9c2d-1e5b7a9c0d3f".into(),
        interface_type: "lambda".into(),
        status: "in-use".into(),
        requester_managed: true,
        requester_id: Some("AROAXKJ4N2EXAMPLE7Q5P:legacy-fn".into()),
        security_groups: vec![b_sg.clone()],
        attachment: None,
        managed_by: None,
    });

    // A kept jump host in a targeted group.
    b.instance(
        "ops-jumpbox",
        "t3.micro",
        &[&ops_sg, &legacy_ops_sg],
        None,
        tags(&[("Team", "ops")]),
    );
    b.log_group("/legacy/app", Some(365), 9_663_676_416, legacy());
    b.finish()
}

fn fixtures() -> Vec<(&'static str, Inventory)> {
    vec![
        ("ecs-story-5.8", ecs_story()),
        ("otel-telemetry", otel_telemetry()),
        ("tricky", tricky()),
    ]
}

#[test]
fn fixtures_on_disk_match_their_builders() {
    let update = std::env::var_os("DECOM_UPDATE_FIXTURES").is_some();
    for (name, inventory) in fixtures() {
        let path = fixtures_dir().join(name).join("inventory.json");
        let built = inventory.to_json();
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &built).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        assert!(
            on_disk == built,
            "{} differs from its builder\n  hint: DECOM_UPDATE_FIXTURES=1 cargo test -p decom-sim --test fixtures",
            path.display()
        );
    }
}

/// Every fixture directory has a loadable snapshot and a spec.
#[test]
fn every_fixture_loads_and_has_a_spec() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let dir = entry.unwrap().path();
        // fixtures/audit is the labelled account of `decom audit`: labels, no spec
        // (tests/audit.rs generates and checks it).
        if !dir.is_dir() || dir.ends_with("audit") {
            continue;
        }
        let inventory = Inventory::load(&dir.join("inventory.json")).unwrap();
        assert_eq!(inventory.account_id, ACCOUNT);
        assert_eq!(inventory.regions, vec![REGION.to_string()]);
        assert_eq!(inventory.types.len(), ResourceType::ALL.len());
        let spec = std::fs::read_to_string(dir.join("spec/main.hcl")).unwrap();
        assert!(spec.contains("allowed_account_ids = [\"123456789012\"]"));
        names.push(dir.file_name().unwrap().to_string_lossy().into_owned());
    }
    names.sort();
    assert_eq!(names, ["ecs-story-5.8", "otel-telemetry", "tricky"]);
}

fn by_name(inventory: &Inventory, ty: ResourceType, name: &str) -> ResourceKey {
    inventory
        .resources
        .iter()
        .find(|r| r.ty() == ty && r.name == name)
        .unwrap_or_else(|| panic!("no {ty} named {name}"))
        .key()
}

async fn code_of(sim: &SimProvider, target: &ResourceKey, action: Action) -> String {
    match sim.execute(&Operation::new(target.clone(), action)).await {
        Ok(()) => "ok".into(),
        Err(e) => e.code,
    }
}

#[tokio::test]
async fn ecs_story_refusals_match_aws() {
    let inventory = ecs_story();
    let alb = by_name(&inventory, ResourceType::Lb, "lego-api-alb");
    assert_eq!(
        alb.id,
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/lego-api-alb/50dc6c495c0c9188"
    );
    let sim = SimProvider::from_inventory(inventory.clone());
    let k = |ty, name| by_name(&inventory, ty, name);
    use ResourceType::*;
    assert_eq!(
        code_of(&sim, &k(SecurityGroup, "lego-api-app-sg"), Action::Delete).await,
        "DependencyViolation"
    );
    assert_eq!(
        code_of(&sim, &k(SecurityGroup, "default"), Action::Delete).await,
        "CannotDelete"
    );
    assert_eq!(
        code_of(&sim, &k(LbTargetGroup, "lego-api-blue"), Action::Delete).await,
        "ResourceInUse"
    );
    assert_eq!(
        code_of(
            &sim,
            &k(IamRole, "lego-api-ecs-instance-role"),
            Action::Delete
        )
        .await,
        "DeleteConflict"
    );
    assert_eq!(
        code_of(&sim, &k(IamPolicy, "lego-api-ecs-policy"), Action::Delete).await,
        "DeleteConflict"
    );
    // The task role has only an inline policy.
    let task_role = k(IamRole, "lego-api-ecs-task-role");
    assert_eq!(
        code_of(&sim, &task_role, Action::Delete).await,
        "DeleteConflict"
    );
    let inline = Action::DeleteInlinePolicy {
        policy_name: "lego-api-assets-read".into(),
    };
    assert_eq!(code_of(&sim, &task_role, inline).await, "ok");
    assert_eq!(code_of(&sim, &task_role, Action::Delete).await, "ok");
    // The ALB goes at once; its ENIs linger and keep its group.
    assert_eq!(code_of(&sim, &alb, Action::Delete).await, "ok");
    let alb_sg = k(SecurityGroup, "lego-api-alb-sg");
    let blockers: Vec<String> = sim
        .obstacles(&alb_sg)
        .iter()
        .map(|o| o.describe())
        .collect();
    assert_eq!(
        blockers.len(),
        3,
        "two ALB ENIs and the app group's rule: {blockers:?}"
    );
    let tgs = [
        k(LbTargetGroup, "lego-api-blue"),
        k(LbTargetGroup, "lego-api-green"),
    ];
    for tg in &tgs {
        assert_eq!(code_of(&sim, tg, Action::Delete).await, "ok");
    }
    // An Auto Scaling group is deleted only once it is scaled to 0 and its instances
    // are gone; its template and the data volume are refused nothing but the volume's
    // attachment.
    let group = k(AutoscalingGroup, "lego-api-ecs-asg");
    assert_eq!(code_of(&sim, &group, Action::Delete).await, "ResourceInUse");
    let data = k(EbsVolume, "lego-api-ecs-1-data");
    assert_eq!(code_of(&sim, &data, Action::Delete).await, "VolumeInUse");
    assert_eq!(code_of(&sim, &group, Action::ScaleToZero).await, "ok");
    let members: Vec<ResourceKey> = inventory
        .resources
        .iter()
        .filter(|r| r.autoscaling_group() == Some("lego-api-ecs-asg"))
        .map(|r| r.key())
        .collect();
    assert_eq!(members.len(), 2);
    // Terminating: AWS still refuses the group until they are gone.
    assert_eq!(code_of(&sim, &group, Action::Delete).await, "ResourceInUse");
    for member in &members {
        let wait = Operation::new(member.clone(), Action::AwaitDeletion);
        while !sim.is_settled(&wait).await.unwrap() {}
    }
    assert_eq!(code_of(&sim, &group, Action::Delete).await, "ok");
    // The kept neighbour is untouched.
    for name in ["billing-alb", "billing-tg", "billing-app-sg"] {
        assert!(inventory.resources.iter().any(|r| r.name == name));
    }
    let history = sim.history();
    assert!(
        history
            .iter()
            .all(|e| e.operation.target != k(Lb, "billing-alb"))
    );
}

/// What moto does not enforce for ECS (a cluster with services or container
/// instances, a service scaled above 0, a registered revision, the interfaces of
/// running tasks), the simulator does, from the same rules as the planner.
#[tokio::test]
async fn ecs_story_ecs_refusals_match_aws() {
    let inventory = ecs_story();
    let sim = SimProvider::from_inventory(inventory.clone());
    let k = |ty, name| by_name(&inventory, ty, name);
    use ResourceType::*;
    let cluster = k(EcsCluster, "lego-api");
    let service = k(EcsService, "lego-api");
    let worker = k(EcsService, "lego-api-worker");
    assert_eq!(
        code_of(&sim, &cluster, Action::Delete).await,
        "ClusterContainsServicesException"
    );
    assert_eq!(
        code_of(&sim, &service, Action::Delete).await,
        "InvalidParameterException"
    );
    assert_eq!(
        code_of(&sim, &k(EcsTaskDefinition, "lego-api:3"), Action::Delete).await,
        "ClientException"
    );
    // An inactive revision goes at once, although the service ran it once.
    assert_eq!(
        code_of(&sim, &k(EcsTaskDefinition, "lego-api:1"), Action::Delete).await,
        "ok"
    );
    // The task interfaces keep the app group in use until the service is gone.
    let app_sg = k(SecurityGroup, "lego-api-app-sg");
    let task_enis = sim
        .obstacles(&app_sg)
        .iter()
        .filter(|o| o.describe().contains("aws_network_interface"))
        .count();
    assert!(task_enis >= 2, "{:?}", sim.obstacles(&app_sg));
    for svc in [&service, &worker] {
        assert_eq!(code_of(&sim, svc, Action::ScaleToZero).await, "ok");
        assert_eq!(code_of(&sim, svc, Action::Delete).await, "ok");
    }
    assert_eq!(
        code_of(&sim, &cluster, Action::Delete).await,
        "ClusterContainsContainerInstancesException"
    );
    for name in ["lego-api-ecs-1", "lego-api-ecs-2"] {
        let instance = k(Instance, name);
        assert_eq!(code_of(&sim, &instance, Action::Delete).await, "ok");
        let terminate = Operation::new(instance, Action::Delete);
        while !sim.is_settled(&terminate).await.unwrap() {}
    }
    // The group's instances are container instances too: gone once it is at 0.
    assert_eq!(
        code_of(&sim, &cluster, Action::Delete).await,
        "ClusterContainsContainerInstancesException"
    );
    let group = k(AutoscalingGroup, "lego-api-ecs-asg");
    assert_eq!(code_of(&sim, &group, Action::ScaleToZero).await, "ok");
    for name in ["lego-api-ecs-asg-0", "lego-api-ecs-asg-1"] {
        let awaited = Operation::new(k(Instance, name), Action::AwaitDeletion);
        while !sim.is_settled(&awaited).await.unwrap() {}
    }
    assert_eq!(code_of(&sim, &cluster, Action::Delete).await, "ok");
}

/// The whole legacy telemetry stack goes in dependency order without a single
/// refusal and without any opt-in: the fixture is applyable as it stands.
#[tokio::test]
async fn otel_telemetry_is_deletable_in_dependency_order() {
    let inventory = otel_telemetry();
    let sim = SimProvider::from_inventory(inventory.clone());
    use ResourceType::*;
    let k = |ty, name| by_name(&inventory, ty, name);
    let of_type = |ty: ResourceType| -> Vec<ResourceKey> {
        inventory
            .resources
            .iter()
            .filter(|r| {
                r.ty() == ty && r.tags.get("Service").map(String::as_str) == Some("telemetry")
            })
            .map(|r| r.key())
            .collect()
    };
    let nlb = k(Lb, "telemetry-nlb");
    let nlb_enis: Vec<ResourceKey> = inventory
        .resources
        .iter()
        .filter(|r| matches!(&r.details, Details::NetworkInterface(e) if e.managed_by.as_ref() == Some(&nlb)))
        .map(|r| r.key())
        .collect();
    assert_eq!(nlb_enis.len(), 2);
    let role = k(IamRole, "telemetry-collector-role");
    let policy = k(IamPolicy, "telemetry-collector-policy");
    let profile = k(IamInstanceProfile, "telemetry-collector-role");
    let op = |target: &ResourceKey, action: Action| Operation::new(target.clone(), action);

    // The record naming the NLB first: it would point at nothing.
    let otlp = k(Route53Record, "otlp.telemetry.internal");
    let mut steps = vec![op(&otlp, Action::Delete), op(&nlb, Action::Delete)];
    steps.extend(nlb_enis.iter().map(|e| op(e, Action::AwaitDeletion)));
    steps.extend(of_type(LbTargetGroup).iter().map(|t| op(t, Action::Delete)));
    steps.extend(of_type(Instance).iter().map(|i| op(i, Action::Delete)));
    steps.extend(of_type(SecurityGroup).iter().map(|g| op(g, Action::Delete)));
    steps.push(op(
        &role,
        Action::DetachRolePolicy {
            policy_arn: policy.id.clone(),
        },
    ));
    steps.push(op(
        &role,
        Action::DetachRolePolicy {
            policy_arn: "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy".into(),
        },
    ));
    steps.push(op(
        &profile,
        Action::RemoveRoleFromProfile {
            role: role.id.clone(),
        },
    ));
    steps.push(op(&profile, Action::Delete));
    steps.push(op(&role, Action::Delete));
    for version in ["v1", "v2"] {
        steps.push(op(
            &policy,
            Action::DeletePolicyVersion {
                version_id: version.into(),
            },
        ));
    }
    steps.push(op(&policy, Action::Delete));
    steps.extend(
        of_type(CloudwatchLogGroup)
            .iter()
            .map(|g| op(g, Action::Delete)),
    );

    for step in &steps {
        sim.execute(step)
            .await
            .unwrap_or_else(|e| panic!("{step}: {e}"));
        if step.wait().is_some() {
            while !sim.is_settled(step).await.unwrap() {}
        }
    }
    let history = sim.history();
    assert!(
        history
            .iter()
            .all(|e| e.succeeded() && !e.is_dependency_error())
    );
    let left = sim.snapshot();
    assert!(
        left.resources
            .iter()
            .all(|r| r.tags.get("Service").map(String::as_str) != Some("telemetry")),
        "every Service=telemetry resource is gone"
    );
    for kept in ["grafana-sg", "grafana-1", "/aws/otel/collector", "default"] {
        assert!(
            left.resources.iter().any(|r| r.name == kept),
            "{kept} stays"
        );
    }
    // Only the kept side remains: default SG, Grafana's SG, instance and ENI, the OTel
    // log group, the private zone and Grafana's record in it.
    assert_eq!(
        left.resources.len(),
        7,
        "{:#?}",
        left.resources.iter().map(|r| r.key()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn tricky_refusals_match_aws() {
    let inventory = tricky();
    let sim = SimProvider::from_inventory(inventory.clone());
    use ResourceType::*;
    let k = |ty, name| by_name(&inventory, ty, name);
    let alb = k(Lb, "legacy-alb");
    let worker = k(Instance, "legacy-worker-1");
    assert_eq!(
        code_of(&sim, &alb, Action::Delete).await,
        "OperationNotPermitted"
    );
    assert_eq!(
        code_of(&sim, &worker, Action::Delete).await,
        "OperationNotPermitted"
    );
    assert_eq!(
        code_of(&sim, &k(LbTargetGroup, "legacy-tg"), Action::Delete).await,
        "ResourceInUse"
    );
    let deploy = k(IamPolicy, "legacy-deploy-policy");
    assert_eq!(
        code_of(&sim, &deploy, Action::Delete).await,
        "DeleteConflict"
    );
    assert_eq!(
        code_of(
            &sim,
            &deploy,
            Action::DetachUserPolicy {
                user: "ci-deployer".into()
            }
        )
        .await,
        "ok"
    );
    assert_eq!(code_of(&sim, &deploy, Action::Delete).await, "ok");
    // The Lambda ENI: requester-managed, attributed to nothing decom models.
    let lambda_eni = inventory
        .resources
        .iter()
        .find(
            |r| matches!(&r.details, Details::NetworkInterface(e) if e.interface_type == "lambda"),
        )
        .unwrap();
    let Details::NetworkInterface(eni) = &lambda_eni.details else {
        unreachable!()
    };
    assert!(eni.unmodelled_manager());
    assert_eq!(
        code_of(&sim, &lambda_eni.key(), Action::Delete).await,
        "OperationNotPermitted"
    );
    // b-sg: referenced by a-sg's rule and used by the Lambda ENI; a-sg's self rule
    // does not count.
    let a_sg = k(SecurityGroup, "a-sg");
    let b_sg = k(SecurityGroup, "b-sg");
    let b_blockers = sim.obstacles(&b_sg);
    assert_eq!(b_blockers.len(), 2, "{b_blockers:?}");
    assert!(
        sim.obstacles(&a_sg)
            .iter()
            .all(|o| !o.describe().contains(&format!("{a_sg} ")))
    );
    // A kept instance in a targeted group.
    let legacy_ops = k(SecurityGroup, "legacy-ops-sg");
    let jumpbox = k(Instance, "ops-jumpbox");
    assert!(
        sim.obstacles(&legacy_ops)
            .iter()
            .any(|o| o.describe().contains(&jumpbox.id))
    );
    // With the protections turned off, the ALB and the worker go.
    assert_eq!(
        code_of(&sim, &alb, Action::DisableDeletionProtection).await,
        "ok"
    );
    assert_eq!(code_of(&sim, &alb, Action::Delete).await, "ok");
    assert_eq!(
        code_of(&sim, &worker, Action::DisableTerminationProtection).await,
        "ok"
    );
    assert_eq!(code_of(&sim, &worker, Action::Delete).await, "ok");
}

#[test]
fn generated_snapshots_are_what_load_reads() {
    for (name, inventory) in fixtures() {
        let loaded = Inventory::from_json(&inventory.to_json(), name).unwrap();
        assert_eq!(loaded, inventory, "{name}");
        // No reference dangles: every link names a resource of the fixture.
        let index = decom_provider::InventoryIndex::new(&inventory);
        for r in &inventory.resources {
            for reference in r.references() {
                assert!(
                    index.contains(&reference.to),
                    "{name}: {} -> {}",
                    r.key(),
                    reference.to
                );
            }
        }
    }
}
