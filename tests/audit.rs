//! `decom audit` (issue 5): the labelled fixture under `fixtures/audit/` with 100%
//! precision and recall, Terraform states, `.decomignore`, the emitted spec planned
//! back against the same snapshot, the JSON shape, the text table and the CLI.
//!
//! The fixture is generated here; after changing the builder, regenerate with
//! `DECOM_UPDATE_FIXTURES=1 cargo test -p decom-cli --test integration audit`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use decom::audit::{
    self, AuditOptions, AuditReport, FindingKind, IgnoreRules, TerraformState, TerraformStates,
};
use decom::plan::Change;
use decom::spec::{LoadOptions, SourceFile};
use decom_provider::{Details, Inventory, NetworkInterface, ResourceKey, ResourceType, Role};
use decom_sim::build::{AccountBuilder, Routing, TargetSpec, tags};
use serde::Deserialize;

use crate::util::{decom, fixtures_dir, plan_spec_on, test_now, text};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// The fixture's "now" (`test_now`): yesterday is 2026-11-20.
const AS_OF: &str = "2026-11-21T12:00:00Z";

fn audit_dir() -> PathBuf {
    fixtures_dir().join("audit")
}

fn set_role(b: &mut AccountBuilder, name: &str, edit: impl FnOnce(&mut Role)) {
    match b.details_mut(ResourceType::IamRole, name) {
        Details::IamRole(role) => edit(role),
        _ => unreachable!("roles hold roles"),
    }
}

fn set_log_group(b: &mut AccountBuilder, name: &str, stored_bytes: u64, last_event: Option<&str>) {
    match b.details_mut(ResourceType::CloudwatchLogGroup, name) {
        Details::CloudwatchLogGroup(group) => {
            group.stored_bytes = Some(stored_bytes);
            group.last_event = last_event.map(str::to_string);
        }
        _ => unreachable!("log groups hold log groups"),
    }
}

/// The labelled account: a live web service, a batch system retired by halves, and
/// the traps (fixtures/audit/README.md tells each resource's story).
fn labelled_account() -> Inventory {
    let mut b = AccountBuilder::new(ACCOUNT, REGION, 505);
    let web = || tags(&[("Service", "web")]);
    let batch = || tags(&[("Service", "batch")]);
    let platform = || tags(&[("Team", "platform")]);
    b.default_security_group();

    // Security groups.
    let web_alb_sg = b.security_group("web-alb-sg", "web ALB ingress", web());
    b.allow_from_cidr(&web_alb_sg, "0.0.0.0/0", 443, "HTTPS from anywhere");
    let web_sg = b.security_group("web-sg", "web instances", web());
    b.allow_from_group(&web_sg, &web_alb_sg, 8080, "from the web ALB");
    let db_sg = b.security_group("db-sg", "Postgres hosts", platform());
    let db_clients_sg = b.security_group("db-clients-sg", "may reach Postgres", platform());
    b.allow_from_group(&db_sg, &db_clients_sg, 5432, "Postgres clients");
    let lambda_sg = b.security_group("lambda-sg", "report-fn Lambda", platform());
    let old_batch_sg = b.security_group("old-batch-sg", "retired batch workers", batch());
    b.allow_from_cidr(&old_batch_sg, "10.0.0.0/16", 22, "SSH from the VPC");
    let staging_alb_sg = b.security_group("staging-alb-sg", "staging ALB", web());

    // IAM.
    let web_policy = b.policy("web-policy", &["s3:GetObject"], 0, web());
    let web_role = b.role("web-role", "ec2.amazonaws.com", web());
    b.attach_role_policy(&web_role, &web_policy);
    let web_profile = b.instance_profile("web-profile", Some(&web_role), web());
    b.role("deploy-role", "codebuild.amazonaws.com", platform());
    let etl_role = b.role("legacy-etl-role", "glue.amazonaws.com", batch());
    b.inline_policy(&etl_role, "etl-s3", &["s3:*"]);
    b.role("never-used-role", "ec2.amazonaws.com", batch());
    b.role(
        "AWSServiceRoleForElasticLoadBalancing",
        "elasticloadbalancing.amazonaws.com",
        Default::default(),
    );
    let batch_role = b.role("batch-role", "ec2.amazonaws.com", batch());
    b.instance_profile("batch-profile", Some(&batch_role), batch());
    b.instance_profile("old-worker-profile", None, batch());
    b.policy("old-s3-policy", &["s3:PutObject"], 1, batch());
    let ci_policy = b.policy("ci-policy", &["ecr:PutImage"], 0, platform());
    b.attach_user_policy(&ci_policy, "ci-deployer");

    // Compute.
    let web_1 = b.instance("web-1", "m5.large", &[&web_sg], Some(&web_profile), web());
    b.instance("db-1", "r5.large", &[&db_sg], None, platform());
    b.network_interface(NetworkInterface {
        vpc_id: Some(b.vpc_id().to_string()),
        subnet_id: None,
        description: "AWS Lambda VPC ENI-report-fn-6d1c1f0e-2a7b-4c55-9a38-5f0e4b1d2c3a".into(),
        interface_type: "lambda".into(),
        status: "in-use".into(),
        requester_managed: true,
        requester_id: Some("AROAEXAMPLEID:report-fn".into()),
        security_groups: vec![lambda_sg.clone()],
        attachment: None,
        managed_by: None,
    });

    // Load balancing.
    let healthy = [TargetSpec {
        id: &web_1,
        port: 8080,
        health: "healthy",
    }];
    let web_tg = b.target_group("web-tg", "HTTP", 8080, &healthy, web());
    let api_v2_tg = b.target_group("api-v2-tg", "HTTP", 8080, &healthy, web());
    let web_alb = b.load_balancer("web-alb", "application", &[&web_alb_sg], web());
    let https = b.listener(&web_alb, "HTTPS", 443, &[&web_tg]);
    b.listener_rule(&https, 10, &["path-pattern=/api/v2/*"], &[&api_v2_tg]);
    b.target_group("old-api-tg", "HTTP", 8080, &[], batch());
    b.load_balancer("staging-alb", "application", &[&staging_alb_sg], web());
    let nlb = b.load_balancer("legacy-nlb", "network", &[], batch());
    let nlb_tg = b.target_group("legacy-nlb-tg", "TCP", 4317, &[], batch());
    b.listener(&nlb, "TCP", 4317, &[&nlb_tg]);

    // Logs.
    b.log_group("/app/web", Some(30), 52_428_800, web());
    b.log_group("/aws/lambda/old-fn", None, 0, batch());
    b.log_group("/app/legacy-batch", Some(365), 7_340_032, batch());

    // What the builder does not set: usage dates.
    let yesterday = "2026-11-20T09:14:00Z";
    set_role(&mut b, "web-role", |r| {
        r.last_used = Some("2026-11-21T11:02:00Z".into())
    });
    set_role(&mut b, "deploy-role", |r| {
        r.last_used = Some(yesterday.into())
    });
    set_role(&mut b, "batch-role", |r| {
        r.last_used = Some("2026-11-11T03:00:00Z".into())
    });
    set_role(&mut b, "legacy-etl-role", |r| {
        r.last_used = Some("2025-06-01T02:00:00Z".into())
    });
    set_role(&mut b, "never-used-role", |r| r.last_used = None);
    set_role(&mut b, "AWSServiceRoleForElasticLoadBalancing", |r| {
        r.path = "/aws-service-role/elasticloadbalancing.amazonaws.com/".into();
        r.arn = format!(
            "arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing"
        );
        r.service_linked = true;
        r.last_used = None;
    });
    set_log_group(&mut b, "/app/web", 52_428_800, Some(yesterday));
    set_log_group(&mut b, "/aws/lambda/old-fn", 0, None);
    set_log_group(
        &mut b,
        "/app/legacy-batch",
        7_340_032,
        Some("2025-01-31T23:59:59Z"),
    );

    // Alarms and repositories (last: the digests draw ids). An alarm on a target
    // group deleted long ago, one on the live web stack, one with no resource.
    let dimension = |arn: &str, after: &str| arn.split_once(after).map(|(_, d)| d.to_string());
    let web_tg_dim = dimension(&web_tg, &format!(":{ACCOUNT}:")).unwrap_or_default();
    let web_alb_dim = dimension(&web_alb, ":loadbalancer/").unwrap_or_default();
    let pager = "arn:aws:sns:us-east-1:123456789012:pager";
    let elb = ("AWS/ApplicationELB", "UnHealthyHostCount");
    b.metric_alarm(
        "web-tg-unhealthy",
        elb,
        &[("TargetGroup", &web_tg_dim), ("LoadBalancer", &web_alb_dim)],
        &[pager],
        web(),
    );
    b.metric_alarm(
        "old-api-5xx",
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        &[("TargetGroup", "targetgroup/deleted-api-tg/0f1e2d3c4b5a6978")],
        &[pager],
        batch(),
    );
    b.metric_alarm(
        "estimated-charges",
        ("AWS/Billing", "EstimatedCharges"),
        &[("Currency", "USD")],
        &[pager],
        platform(),
    );
    b.ecr_repository("web", &["v41", "v42"], Some(yesterday), web());
    b.ecr_repository(
        "legacy-batch",
        &["2024.03"],
        Some("2025-02-01T08:00:00Z"),
        batch(),
    );
    b.ecr_repository("scratch", &[], None, platform());
    // Route53, last (the ids drawn before stay): the web's alias, a CNAME of the web
    // ALB written in upper case, a CNAME to a balancer of a region not audited, and
    // the dangling CNAME of the batch system's deleted ALB.
    let zone = b.hosted_zone("example.com", false);
    let dns = |b: &mut AccountBuilder, arn: &str| match b.details_mut(ResourceType::Lb, arn) {
        Details::Lb(lb) => lb.dns_name.clone(),
        _ => unreachable!("load balancers hold load balancers"),
    };
    let web_dns = dns(&mut b, &web_alb);
    b.alias_record(&zone, "www.example.com", &web_dns, Routing::Simple);
    b.cname_record(&zone, "app.example.com", &web_dns.to_uppercase());
    b.cname_record(
        &zone,
        "partner.example.com",
        "partner-alb-1234567890.eu-west-1.elb.amazonaws.com",
    );
    b.cname_record(
        &zone,
        "batch.example.com",
        "legacy-batch-alb-987654321.us-east-1.elb.amazonaws.com",
    );
    b.finish()
}

/// Builds the fixture and checks it against `fixtures/audit/inventory.json`
/// (or rewrites the file with `DECOM_UPDATE_FIXTURES=1`).
fn fixture_inventory() -> Inventory {
    let built = labelled_account();
    let path = audit_dir().join("inventory.json");
    let json = built.to_json();
    if std::env::var_os("DECOM_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &json).expect("write fixture");
    }
    let on_disk = std::fs::read_to_string(&path)
        .expect("fixtures/audit/inventory.json exists (regenerate with DECOM_UPDATE_FIXTURES=1)");
    assert!(
        on_disk == json,
        "fixtures/audit/inventory.json drifted from its builder; regenerate with DECOM_UPDATE_FIXTURES=1"
    );
    Inventory::load(&path).expect("fixture loads")
}

#[derive(Debug, Deserialize)]
struct Labels {
    orphans: Vec<Label>,
    traps: Vec<Trap>,
}

#[derive(Debug, Deserialize)]
struct Label {
    #[serde(rename = "type")]
    ty: ResourceType,
    name: String,
    kind: FindingKind,
}

#[derive(Debug, Deserialize)]
struct Trap {
    #[serde(rename = "type")]
    ty: ResourceType,
    name: String,
}

fn labels() -> Labels {
    let text = std::fs::read_to_string(audit_dir().join("labels.json")).expect("labels");
    serde_json::from_str(&text).expect("labels parse")
}

fn options() -> AuditOptions {
    AuditOptions::new(test_now())
}

fn fixture_report() -> (Inventory, AuditReport) {
    let inventory = fixture_inventory();
    let report = audit::audit(&inventory, &options());
    (inventory, report)
}

#[test]
fn audit_fixture_has_full_precision_and_recall() {
    let (inventory, report) = fixture_report();
    let labels = labels();
    let expected: BTreeSet<(ResourceType, String, FindingKind)> = labels
        .orphans
        .iter()
        .map(|l| (l.ty, l.name.clone(), l.kind))
        .collect();
    let found: BTreeSet<(ResourceType, String, FindingKind)> = report
        .findings
        .iter()
        .map(|f| (f.ty, f.name.clone(), f.kind))
        .collect();
    let true_positives = expected.intersection(&found).count();
    let precision = true_positives as f64 / found.len().max(1) as f64;
    let recall = true_positives as f64 / expected.len().max(1) as f64;
    assert!(
        precision == 1.0 && recall == 1.0,
        "precision {precision:.2}, recall {recall:.2}\n  false positives: {:?}\n  missed: {:?}",
        found.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&found).collect::<Vec<_>>()
    );
    // Every labelled resource, orphan or trap, exists: a trap that is not in the
    // account would pass for the wrong reason.
    let present: BTreeSet<(ResourceType, &str)> = inventory
        .resources
        .iter()
        .map(|r| (r.ty(), r.name.as_str()))
        .collect();
    for (ty, name) in labels
        .orphans
        .iter()
        .map(|l| (l.ty, &l.name))
        .chain(labels.traps.iter().map(|t| (t.ty, &t.name)))
    {
        assert!(
            present.contains(&(ty, name.as_str())),
            "{ty} {name} is not in the fixture"
        );
    }
    for trap in &labels.traps {
        assert!(
            !found
                .iter()
                .any(|(ty, name, _)| *ty == trap.ty && *name == trap.name),
            "trap {} {} was reported",
            trap.ty,
            trap.name
        );
    }
    assert!(report.not_checked.is_empty());
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.why.is_empty() && !f.evidence.is_empty())
    );
}

#[tokio::test]
async fn audit_account_discovers_through_the_provider() {
    let inventory = fixture_inventory();
    let sim = decom_sim::SimProvider::new(inventory.clone(), decom_sim::Knobs::default());
    let live = audit::audit_account(&sim, vec![REGION.into()], &options())
        .await
        .expect("discovers");
    assert_eq!(live, audit::audit(&inventory, &options()));
}

#[test]
fn audit_is_deterministic_and_independent_of_resource_order() {
    let (mut inventory, report) = fixture_report();
    inventory.resources.reverse();
    let again = audit::audit(&inventory, &options());
    assert_eq!(again.to_json(), report.to_json());
}

#[test]
fn audit_threshold_moves_roles_and_log_groups() {
    let inventory = fixture_inventory();
    let strict = audit::audit(
        &inventory,
        &AuditOptions {
            unused_days: 5,
            ..options()
        },
    );
    let roles: BTreeSet<&str> = strict
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::RoleUnused)
        .map(|f| f.name.as_str())
        .collect();
    // batch-role was used 10 days ago; deploy-role yesterday still counts as used.
    assert_eq!(
        roles,
        BTreeSet::from(["batch-role", "legacy-etl-role", "never-used-role"])
    );
}

#[test]
fn audit_text_table_renders_as_reviewed() {
    let (_, report) = fixture_report();
    insta::assert_snapshot!("audit-fixture.txt", audit::text(&report));
    insta::assert_snapshot!("audit-fixture.md", audit::markdown(&report));
}

#[test]
fn audit_json_is_versioned_and_shaped_as_documented() {
    let (_, report) = fixture_report();
    let value: serde_json::Value = serde_json::from_str(&report.to_json()).expect("json");
    assert_eq!(value["format_version"], 1);
    assert_eq!(value["account_id"], ACCOUNT);
    assert_eq!(value["as_of"], AS_OF);
    assert_eq!(value["unused_days"], 90);
    let findings = value["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), labels().orphans.len());
    for f in findings {
        for field in ["kind", "type", "id", "name", "region", "address", "why"] {
            assert!(f[field].is_string(), "{field} in {f}");
        }
        assert!(f["evidence"].is_object());
        assert_eq!(f["terraform"]["status"], "unknown");
    }
    let staging = findings
        .iter()
        .find(|f| f["name"] == "staging-alb")
        .expect("staging-alb");
    assert_eq!(staging["kind"], "load_balancer_without_listeners");
    assert_eq!(staging["cost"]["monthly_usd"], 16.43);
    assert_eq!(staging["cost"]["hourly_usd"], 0.0225);
    assert!(
        staging["cost"]["assumption"]
            .as_str()
            .is_some_and(|a| a.contains("us-east-1") && a.contains("LCU charges excluded"))
    );
    assert_eq!(value["summary"]["findings"], findings.len());
    assert_eq!(value["summary"]["estimated_monthly_usd"], 32.86);
    assert!(value["missing"].as_array().is_some_and(Vec::is_empty));
}

fn name_to_id(inventory: &Inventory, ty: ResourceType, name: &str) -> String {
    inventory
        .resources
        .iter()
        .find(|r| r.ty() == ty && r.name == name)
        .unwrap_or_else(|| panic!("{ty} {name}"))
        .id
        .clone()
}

/// A v4 state managing three findings and two resources that no longer exist, plus
/// entries the audit must skip (a data source, an unmodelled type).
fn write_state(dir: &Path, inventory: &Inventory) -> PathBuf {
    let staging = name_to_id(inventory, ResourceType::Lb, "staging-alb");
    let policy = name_to_id(inventory, ResourceType::IamPolicy, "old-s3-policy");
    let state = serde_json::json!({
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": 12,
        "lineage": "3f1c2a4e-0000-4000-8000-000000000000",
        "outputs": {},
        "resources": [
            {"mode": "managed", "type": "aws_alb", "name": "staging", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {"id": staging, "arn": staging, "name": "staging-alb"}}]},
            {"module": "module.batch", "mode": "managed", "type": "aws_iam_policy", "name": "s3", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {"id": policy, "arn": policy, "name": "old-s3-policy"}}]},
            {"module": "module.batch", "mode": "managed", "type": "aws_iam_role", "name": "etl", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {"id": "legacy-etl-role", "arn": "arn:aws:iam::123456789012:role/legacy-etl-role"}}]},
            {"mode": "managed", "type": "aws_security_group", "name": "gone", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 1, "attributes": {"id": "sg-0000000000000dead", "arn": "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0000000000000dead"}}]},
            {"mode": "managed", "type": "aws_cloudwatch_log_group", "name": "gone", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"index_key": "old", "schema_version": 0, "attributes": {"id": "/app/removed-by-hand", "arn": "arn:aws:logs:us-east-1:123456789012:log-group:/app/removed-by-hand"}}]},
            {"mode": "managed", "type": "aws_security_group", "name": "elsewhere", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 1, "attributes": {"id": "sg-0000000000000beef", "arn": "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0000000000000beef"}}]},
            {"mode": "data", "type": "aws_iam_role", "name": "lookup", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 0, "attributes": {"id": "some-data-role"}}]},
            {"mode": "managed", "type": "aws_vpc", "name": "main", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"schema_version": 1, "attributes": {"id": "vpc-0123"}}]}
        ]
    });
    let path = dir.join("terraform.tfstate");
    std::fs::write(&path, serde_json::to_string_pretty(&state).expect("json")).expect("write");
    path
}

#[test]
fn audit_tfstate_marks_managed_and_reports_missing_entries() {
    let inventory = fixture_inventory();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = TerraformState::load(&write_state(dir.path(), &inventory)).expect("state");
    let total = labels().orphans.len();
    let mut with_state = options();
    with_state.terraform = TerraformStates::new(vec![state]);

    let report = audit::audit(&inventory, &with_state);
    assert_eq!(report.summary.managed, 3);
    assert_eq!(report.summary.managed_not_listed, 3);
    assert_eq!(report.summary.unmanaged, total - 3);
    assert_eq!(report.findings.len(), total - 3);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.terraform == audit::Management::Unmanaged)
    );
    let missing: Vec<(&str, &str)> = report
        .missing
        .iter()
        .map(|m| (m.address.as_str(), m.id.as_str()))
        .collect();
    // The eu-west-1 group is outside the audited regions: not reported missing.
    assert_eq!(
        missing,
        [
            (
                "aws_cloudwatch_log_group.gone[\"old\"]",
                "/app/removed-by-hand"
            ),
            ("aws_security_group.gone", "sg-0000000000000dead"),
        ]
    );

    with_state.include_managed = true;
    let report = audit::audit(&inventory, &with_state);
    assert_eq!(report.findings.len(), total);
    let managed: Vec<&str> = report
        .findings
        .iter()
        .skip(total - 3)
        .map(|f| match &f.terraform {
            audit::Management::Managed { address, .. } => address.as_str(),
            other => panic!("{} is {other:?}", f.address),
        })
        .collect();
    assert_eq!(
        managed,
        [
            "aws_alb.staging",
            "module.batch.aws_iam_role.etl",
            "module.batch.aws_iam_policy.s3"
        ],
        "managed findings come last, by type"
    );
}

#[test]
fn audit_ignore_file_silences_known_exceptions() {
    let inventory = fixture_inventory();
    let mut with_ignore = options();
    with_ignore.ignore = IgnoreRules::parse(
        "# Kept on purpose\naws_iam_role.*\n!aws_iam_role.never-used-role\n\naws_cloudwatch_log_group./app/*\naws_security_group.old-batch-sg\n",
        ".decomignore",
    )
    .expect("parses");
    let report = audit::audit(&inventory, &with_ignore);
    let sg = name_to_id(&inventory, ResourceType::SecurityGroup, "old-batch-sg");
    assert_eq!(
        report.ignored,
        [
            "aws_cloudwatch_log_group./app/legacy-batch".to_string(),
            "aws_iam_role.legacy-etl-role".to_string(),
            format!("aws_security_group.{sg}"),
        ]
    );
    assert_eq!(report.summary.ignored, 3);
    assert_eq!(report.findings.len(), labels().orphans.len() - 3);
    assert!(
        report.findings.iter().any(|f| f.name == "never-used-role"),
        "`!` re-includes"
    );
}

#[test]
fn audit_emitted_spec_loads_and_plans_exactly_the_findings() {
    let (inventory, report) = fixture_report();
    let text = audit::emit_spec(&report).expect("findings give a spec");
    let spec = decom::spec::parse_sources(
        vec![SourceFile {
            display_path: "audit/main.hcl".into(),
            file_name: "main.hcl".into(),
            text: text.clone(),
        }],
        &LoadOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d}\n{text}"));
    let provider = spec.provider.as_ref().expect("provider block");
    assert_eq!(provider.regions, [REGION]);
    assert_eq!(provider.allowed_account_ids, [ACCOUNT]);

    let findings: BTreeSet<ResourceKey> = report.findings.iter().map(|f| f.key()).collect();
    let selected: BTreeSet<ResourceKey> = decom::select::select(&spec, &inventory)
        .selection
        .targets
        .into_keys()
        .collect();
    assert_eq!(selected, findings);

    let plan = plan_spec_on(&spec, &inventory);
    assert!(plan.blockers.is_empty(), "{:#?}", plan.blockers);
    assert!(plan.applyable);
    let destroyed: BTreeSet<ResourceKey> = plan
        .steps
        .iter()
        .filter(|s| s.change == Change::Destroy)
        .map(|s| s.key())
        .collect();
    assert!(destroyed.is_superset(&findings));
    // Beyond the findings, only what a found load balancer owns goes with it: its
    // listeners and the ENIs AWS removes.
    let found_lbs: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.ty == ResourceType::Lb)
        .map(|f| f.id.as_str())
        .collect();
    for extra in destroyed.difference(&findings) {
        let resource = inventory
            .resources
            .iter()
            .find(|r| r.key() == *extra)
            .expect("planned resource exists");
        let owner = match &resource.details {
            Details::LbListener(l) => Some(l.load_balancer.clone()),
            Details::NetworkInterface(eni) => eni.managed_by.as_ref().map(|k| k.id.clone()),
            _ => None,
        };
        assert!(
            owner.is_some_and(|o| found_lbs.contains(o.as_str())),
            "{extra} is destroyed but is neither a finding nor owned by one"
        );
    }
    // The next round's orphans are reported by the plan, never deleted.
    let orphans: BTreeSet<&str> = plan.orphans.iter().map(|o| o.name.as_str()).collect();
    assert!(orphans.contains("staging-alb-sg"), "{orphans:?}");
    assert!(plan.orphans.iter().all(|o| !o.deleted));
}

#[test]
fn audit_emits_no_spec_without_findings() {
    let (_, mut report) = fixture_report();
    report.findings.clear();
    assert_eq!(audit::emit_spec(&report), None);
}

#[test]
fn audit_cli_exit_codes_formats_ignore_file_and_emit_spec() {
    fixture_inventory();
    let inventory = audit_dir().join("inventory.json").display().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let base: [&str; 5] = ["audit", "-inventory", &inventory, "-as-of", AS_OF];

    let plain = decom(&base, cwd);
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));
    let (_, report) = fixture_report();
    assert_eq!(text(&plain.stdout), audit::text(&report));

    let detailed = decom(&[&base[..], &["-detailed-exitcode"]].concat(), cwd);
    assert_eq!(
        detailed.status.code(),
        Some(2),
        "{}",
        text(&detailed.stderr)
    );

    let json = decom(&[&base[..], &["-json"]].concat(), cwd);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["summary"]["findings"], labels().orphans.len());

    let md = decom(&[&base[..], &["-markdown"]].concat(), cwd);
    assert!(text(&md.stdout).starts_with("### decom audit of account 123456789012"));

    // Spec out, then plan it against the same snapshot: applyable, with changes.
    let emit = decom(&[&base[..], &["-emit-spec", "orphans.hcl"]].concat(), cwd);
    assert_eq!(emit.status.code(), Some(0), "{}", text(&emit.stderr));
    let plan = decom(
        &[
            "plan",
            "orphans.hcl",
            "-inventory",
            &inventory,
            "-detailed-exitcode",
        ],
        cwd,
    );
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan.stderr));

    // A .decomignore in the working directory silencing everything: nothing found.
    std::fs::write(cwd.join(".decomignore"), "*\n").expect("write");
    let quiet = decom(&[&base[..], &["-detailed-exitcode"]].concat(), cwd);
    assert_eq!(quiet.status.code(), Some(0), "{}", text(&quiet.stderr));
    assert!(text(&quiet.stdout).contains("No unused resources found."));

    // Errors exit 1 and name the file.
    let missing = decom(&[&base[..], &["-tfstate", "nope.tfstate"]].concat(), cwd);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("nope.tfstate"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn audit_cli_reads_the_spec_directory_ignore_file_and_tfstate() {
    let inventory_value = fixture_inventory();
    let inventory = audit_dir().join("inventory.json").display().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let spec_dir = cwd.join("spec");
    std::fs::create_dir(&spec_dir).expect("mkdir");
    std::fs::write(
        spec_dir.join("main.hcl"),
        "provider \"aws\" {\n  regions = [\"us-east-1\"]\n  allowed_account_ids = [\"123456789012\"]\n}\n\ndecommission \"audit\" {\n  absent \"aws_lb\" { names = [\"retired-alb\"] }\n}\n",
    )
    .expect("write spec");
    std::fs::write(spec_dir.join(".decomignore"), "aws_lb.*\n").expect("write ignore");
    let state = write_state(cwd, &inventory_value).display().to_string();
    let out = decom(
        &[
            "audit",
            "spec",
            "-inventory",
            &inventory,
            "-as-of",
            AS_OF,
            "-tfstate",
            &state,
            "-json",
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(value["summary"]["ignored"], 2, "both load balancers");
    assert_eq!(value["summary"]["managed"], 2, "the policy and the role");
    assert_eq!(value["missing"].as_array().map(Vec::len), Some(2));

    // A 5-day threshold adds batch-role (used 10 days ago); managed findings listed.
    let out = decom(
        &[
            "audit",
            "spec",
            "-inventory",
            &inventory,
            "-as-of",
            AS_OF,
            "-tfstate",
            &state,
            "-unused-days",
            "5",
            "-include-managed",
            "-json",
        ],
        cwd,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(value["unused_days"], 5);
    assert_eq!(value["summary"]["findings"], labels().orphans.len() + 1 - 2);
    assert_eq!(value["summary"]["managed_not_listed"], 0);
    let findings = value["findings"].as_array().expect("findings");
    assert!(findings.iter().any(|f| f["name"] == "batch-role"));
    assert_eq!(
        findings.last().map(|f| f["terraform"]["status"].clone()),
        Some(serde_json::json!("managed")),
        "managed findings come last"
    );
}
