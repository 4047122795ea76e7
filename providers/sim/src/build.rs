//! Builds realistic account snapshots through the typed model: AWS-shaped ids and
//! ARNs, the ENIs AWS creates by itself, and the fields AWS derives (a target group's
//! load balancers, a policy's attachment count). Used for the fixtures and by
//! [`crate::synth`].

use std::collections::BTreeMap;

use decom_provider::{
    Details, EniAttachment, GLOBAL_REGION, GroupReference, InlinePolicy, Instance, InstanceProfile,
    InstanceState, Inventory, Listener, ListenerRule, LoadBalancer, LogGroup, NetworkInterface,
    Policy, PolicyVersion, Resource, ResourceKey, ResourceType, Role, RuleDirection, SecurityGroup,
    SecurityGroupRule, Target, TargetGroup,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

/// The creation time stamped on everything built (snapshots must be deterministic).
pub const CREATED: &str = "2024-03-11T10:24:07Z";

/// Tags from `(key, value)` pairs.
pub fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A target registered in a target group: id, port, health.
pub struct TargetSpec<'a> {
    pub id: &'a str,
    pub port: i32,
    pub health: &'a str,
}

/// An account under construction, in one region and one VPC.
pub struct AccountBuilder {
    account_id: String,
    region: String,
    vpc_id: String,
    subnets: [String; 2],
    rng: SmallRng,
    resources: Vec<Resource>,
    index: BTreeMap<ResourceKey, usize>,
}

impl AccountBuilder {
    /// Ids are drawn from `seed`: the same seed builds the same account.
    pub fn new(account_id: &str, region: &str, seed: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let vpc_id = format!("vpc-0{:016x}", rng.random::<u64>());
        let subnets = [
            format!("subnet-0{:016x}", rng.random::<u64>()),
            format!("subnet-0{:016x}", rng.random::<u64>()),
        ];
        AccountBuilder {
            account_id: account_id.to_string(),
            region: region.to_string(),
            vpc_id,
            subnets,
            rng,
            resources: Vec::new(),
            index: BTreeMap::new(),
        }
    }

    /// Makes room for `additional` more resources (large synthetic accounts).
    pub fn reserve(&mut self, additional: usize) {
        self.resources.reserve(additional);
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn vpc_id(&self) -> &str {
        &self.vpc_id
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// 16 hex digits, as in AWS's ids and ARNs.
    pub fn hex16(&mut self) -> String {
        format!("{:016x}", self.rng.random::<u64>())
    }

    /// `sg-0…`, `i-0…`, `eni-0…`, `sgr-0…`: AWS's 17-digit ids.
    pub fn aws_id(&mut self, prefix: &str) -> String {
        format!("{prefix}-0{:016x}", self.rng.random::<u64>())
    }

    fn elb_arn(&self, path: &str) -> String {
        format!(
            "arn:aws:elasticloadbalancing:{}:{}:{path}",
            self.region, self.account_id
        )
    }

    fn iam_arn(&self, path: &str) -> String {
        format!("arn:aws:iam::{}:{path}", self.account_id)
    }

    fn push(&mut self, resource: Resource) {
        let key = resource.key();
        assert!(
            !self.index.contains_key(&key),
            "the builder made `{key}` twice"
        );
        self.index.insert(key, self.resources.len());
        self.resources.push(resource);
    }

    fn regional(
        &self,
        id: String,
        name: &str,
        tags: BTreeMap<String, String>,
        details: Details,
    ) -> Resource {
        Resource {
            id,
            name: name.to_string(),
            region: self.region.clone(),
            tags,
            details,
        }
    }

    fn global(
        id: String,
        name: &str,
        tags: BTreeMap<String, String>,
        details: Details,
    ) -> Resource {
        Resource {
            id,
            name: name.to_string(),
            region: GLOBAL_REGION.to_string(),
            tags,
            details,
        }
    }

    /// The resource built under `key`, to adjust a field the builder does not set.
    pub fn details_mut(&mut self, ty: ResourceType, id: &str) -> &mut Details {
        let key = ResourceKey::new(ty, self.region.clone(), id);
        let i = *self
            .index
            .get(&key)
            .unwrap_or_else(|| panic!("`{key}` was not built"));
        &mut self.resources[i].details
    }

    fn security_group_mut(&mut self, id: &str) -> &mut SecurityGroup {
        match self.details_mut(ResourceType::SecurityGroup, id) {
            Details::SecurityGroup(sg) => sg,
            _ => unreachable!("keys of type aws_security_group hold security groups"),
        }
    }

    /// The VPC's default group: admits itself, allows all egress; AWS never deletes it.
    pub fn default_security_group(&mut self) -> String {
        let id = self.aws_id("sg");
        let rules = vec![
            SecurityGroupRule {
                rule_id: self.aws_id("sgr"),
                direction: RuleDirection::Ingress,
                protocol: "-1".into(),
                referenced_group: Some(GroupReference {
                    group_id: id.clone(),
                    account_id: None,
                }),
                ..Default::default()
            },
            self.egress_all_rule(),
        ];
        let details = Details::SecurityGroup(SecurityGroup {
            vpc_id: Some(self.vpc_id.clone()),
            description: "default VPC security group".into(),
            is_default: true,
            rules,
        });
        let resource = self.regional(id.clone(), "default", BTreeMap::new(), details);
        self.push(resource);
        id
    }

    fn egress_all_rule(&mut self) -> SecurityGroupRule {
        SecurityGroupRule {
            rule_id: self.aws_id("sgr"),
            direction: RuleDirection::Egress,
            protocol: "-1".into(),
            cidr_ipv4: Some("0.0.0.0/0".into()),
            ..Default::default()
        }
    }

    /// A security group with AWS's default egress rule (all traffic to 0.0.0.0/0).
    pub fn security_group(
        &mut self,
        name: &str,
        description: &str,
        tags: BTreeMap<String, String>,
    ) -> String {
        let id = self.aws_id("sg");
        let rules = vec![self.egress_all_rule()];
        let details = Details::SecurityGroup(SecurityGroup {
            vpc_id: Some(self.vpc_id.clone()),
            description: description.into(),
            is_default: false,
            rules,
        });
        let resource = self.regional(id.clone(), name, tags, details);
        self.push(resource);
        id
    }

    /// An ingress rule on `group` admitting `source` (a group id) on a TCP port;
    /// returns the rule id.
    pub fn allow_from_group(
        &mut self,
        group: &str,
        source: &str,
        port: i32,
        description: &str,
    ) -> String {
        let rule = SecurityGroupRule {
            rule_id: self.aws_id("sgr"),
            direction: RuleDirection::Ingress,
            protocol: "tcp".into(),
            from_port: Some(port),
            to_port: Some(port),
            referenced_group: Some(GroupReference {
                group_id: source.into(),
                account_id: None,
            }),
            description: Some(description.into()),
            ..Default::default()
        };
        let rule_id = rule.rule_id.clone();
        self.security_group_mut(group).rules.push(rule);
        rule_id
    }

    /// An ingress rule on `group` admitting a CIDR on a TCP port; returns the rule id.
    pub fn allow_from_cidr(
        &mut self,
        group: &str,
        cidr: &str,
        port: i32,
        description: &str,
    ) -> String {
        let rule = SecurityGroupRule {
            rule_id: self.aws_id("sgr"),
            direction: RuleDirection::Ingress,
            protocol: "tcp".into(),
            from_port: Some(port),
            to_port: Some(port),
            cidr_ipv4: Some(cidr.into()),
            description: Some(description.into()),
            ..Default::default()
        };
        let rule_id = rule.rule_id.clone();
        self.security_group_mut(group).rules.push(rule);
        rule_id
    }

    /// A running instance (named by its `Name` tag) with its primary ENI, which AWS
    /// deletes on termination. Returns the instance id.
    pub fn instance(
        &mut self,
        name: &str,
        instance_type: &str,
        security_groups: &[&str],
        instance_profile: Option<&str>,
        mut tags: BTreeMap<String, String>,
    ) -> String {
        let id = self.aws_id("i");
        tags.insert("Name".into(), name.into());
        let security_groups: Vec<String> = security_groups.iter().map(|s| s.to_string()).collect();
        let details = Details::Instance(Instance {
            state: InstanceState::Running,
            instance_type: instance_type.into(),
            vpc_id: Some(self.vpc_id.clone()),
            security_groups: security_groups.clone(),
            instance_profile: instance_profile.map(str::to_string),
            termination_protection: false,
            launch_time: Some(CREATED.into()),
        });
        let resource = self.regional(id.clone(), name, tags, details);
        self.push(resource);
        let eni_id = self.aws_id("eni");
        let eni = Details::NetworkInterface(NetworkInterface {
            vpc_id: Some(self.vpc_id.clone()),
            subnet_id: Some(self.subnets[0].clone()),
            description: "Primary network interface".into(),
            interface_type: "interface".into(),
            status: "in-use".into(),
            requester_managed: false,
            requester_id: None,
            security_groups,
            attachment: Some(EniAttachment {
                instance_id: Some(id.clone()),
                device_index: Some(0),
                delete_on_termination: true,
            }),
            managed_by: None,
        });
        let resource = self.regional(eni_id, "", BTreeMap::new(), eni);
        self.push(resource);
        id
    }

    /// A free-standing ENI (a Lambda function's, a hand-made one, …); returns its id.
    pub fn network_interface(&mut self, eni: NetworkInterface) -> String {
        let id = self.aws_id("eni");
        let resource = self.regional(
            id.clone(),
            "",
            BTreeMap::new(),
            Details::NetworkInterface(eni),
        );
        self.push(resource);
        id
    }

    /// A load balancer (`application` or `network`) with one requester-managed ENI per
    /// subnet, as AWS creates them. Returns its ARN.
    pub fn load_balancer(
        &mut self,
        name: &str,
        lb_type: &str,
        security_groups: &[&str],
        tags: BTreeMap<String, String>,
    ) -> String {
        let lb_id = self.hex16();
        self.load_balancer_with_id(name, lb_type, &lb_id, security_groups, tags)
    }

    /// [`Self::load_balancer`] with the id part of the ARN given.
    pub fn load_balancer_with_id(
        &mut self,
        name: &str,
        lb_type: &str,
        lb_id: &str,
        security_groups: &[&str],
        tags: BTreeMap<String, String>,
    ) -> String {
        let short = if lb_type == "network" { "net" } else { "app" };
        let arn = self.elb_arn(&format!("loadbalancer/{short}/{name}/{lb_id}"));
        let security_groups: Vec<String> = security_groups.iter().map(|s| s.to_string()).collect();
        let dns_name = if lb_type == "network" {
            format!("{name}-{lb_id}.elb.{}.amazonaws.com", self.region)
        } else {
            let n = self.rng.random_range(1_000_000_000u64..10_000_000_000);
            format!("{name}-{n}.{}.elb.amazonaws.com", self.region)
        };
        let details = Details::Lb(LoadBalancer {
            lb_type: lb_type.into(),
            scheme: "internet-facing".into(),
            dns_name,
            vpc_id: Some(self.vpc_id.clone()),
            security_groups: security_groups.clone(),
            deletion_protection: false,
            state: "active".into(),
            created: Some(CREATED.into()),
        });
        let resource = self.regional(arn.clone(), name, tags, details);
        self.push(resource);
        let lb_key = ResourceKey::new(ResourceType::Lb, self.region.clone(), arn.clone());
        let (interface_type, requester) = if lb_type == "network" {
            ("network_load_balancer", "amazon-aws")
        } else {
            ("interface", "amazon-elb")
        };
        for subnet in self.subnets.clone() {
            let eni = NetworkInterface {
                vpc_id: Some(self.vpc_id.clone()),
                subnet_id: Some(subnet),
                description: format!("ELB {short}/{name}/{lb_id}"),
                interface_type: interface_type.into(),
                status: "in-use".into(),
                requester_managed: true,
                requester_id: Some(requester.into()),
                security_groups: security_groups.clone(),
                attachment: None,
                managed_by: Some(lb_key.clone()),
            };
            self.network_interface(eni);
        }
        arn
    }

    /// A listener whose default action forwards to `forward` (target group ARNs).
    pub fn listener(
        &mut self,
        load_balancer: &str,
        protocol: &str,
        port: i32,
        forward: &[&str],
    ) -> String {
        let suffix = load_balancer
            .split_once(":loadbalancer/")
            .map(|(_, s)| s.to_string())
            .unwrap_or_default();
        let listener_id = self.hex16();
        let arn = self.elb_arn(&format!("listener/{suffix}/{listener_id}"));
        let details = Details::LbListener(Listener {
            load_balancer: load_balancer.into(),
            port: Some(port),
            protocol: protocol.into(),
            forward_target_groups: forward.iter().map(|s| s.to_string()).collect(),
        });
        // Named as decom-aws names listeners: `HTTPS:443`.
        let name = format!("{protocol}:{port}");
        let resource = self.regional(arn.clone(), &name, BTreeMap::new(), details);
        self.push(resource);
        arn
    }

    /// A listener rule forwarding to `forward` when `conditions` match.
    pub fn listener_rule(
        &mut self,
        listener: &str,
        priority: u32,
        conditions: &[&str],
        forward: &[&str],
    ) -> String {
        let suffix = listener
            .split_once(":listener/")
            .map(|(_, s)| s.to_string())
            .unwrap_or_default();
        let rule_id = self.hex16();
        let arn = self.elb_arn(&format!("listener-rule/{suffix}/{rule_id}"));
        let details = Details::LbListenerRule(ListenerRule {
            listener: listener.into(),
            priority: priority.to_string(),
            conditions: conditions.iter().map(|s| s.to_string()).collect(),
            forward_target_groups: forward.iter().map(|s| s.to_string()).collect(),
        });
        let name = format!("priority {priority}");
        let resource = self.regional(arn.clone(), &name, BTreeMap::new(), details);
        self.push(resource);
        arn
    }

    /// An instance-type target group; its `load_balancers` are filled in by
    /// [`Self::finish`] from the listeners and rules that forward to it.
    pub fn target_group(
        &mut self,
        name: &str,
        protocol: &str,
        port: i32,
        targets: &[TargetSpec<'_>],
        tags: BTreeMap<String, String>,
    ) -> String {
        let tg_id = self.hex16();
        let arn = self.elb_arn(&format!("targetgroup/{name}/{tg_id}"));
        let details = Details::LbTargetGroup(TargetGroup {
            target_type: "instance".into(),
            protocol: Some(protocol.into()),
            port: Some(port),
            vpc_id: Some(self.vpc_id.clone()),
            load_balancers: Vec::new(),
            targets: targets
                .iter()
                .map(|t| Target {
                    id: t.id.into(),
                    port: Some(t.port),
                    health: t.health.into(),
                })
                .collect(),
        });
        let resource = self.regional(arn.clone(), name, tags, details);
        self.push(resource);
        arn
    }

    /// A role that `service` (`ec2.amazonaws.com`, `ecs-tasks.amazonaws.com`) may
    /// assume. Returns its name, which is its id.
    pub fn role(&mut self, name: &str, service: &str, tags: BTreeMap<String, String>) -> String {
        let details = Details::IamRole(Role {
            arn: self.iam_arn(&format!("role/{name}")),
            path: "/".into(),
            trust_policy: Some(json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": { "Service": service },
                    "Action": "sts:AssumeRole"
                }]
            })),
            attached_policies: Vec::new(),
            inline_policies: Vec::new(),
            last_used: Some("2025-02-14T18:02:11Z".into()),
            created: Some(CREATED.into()),
            service_linked: false,
        });
        self.push(Self::global(name.into(), name, tags, details));
        name.into()
    }

    fn role_mut(&mut self, name: &str) -> &mut Role {
        match self.details_mut(ResourceType::IamRole, name) {
            Details::IamRole(role) => role,
            _ => unreachable!("keys of type aws_iam_role hold roles"),
        }
    }

    fn policy_mut(&mut self, arn: &str) -> &mut Policy {
        match self.details_mut(ResourceType::IamPolicy, arn) {
            Details::IamPolicy(policy) => policy,
            _ => unreachable!("keys of type aws_iam_policy hold policies"),
        }
    }

    pub fn attach_role_policy(&mut self, role: &str, policy_arn: &str) {
        self.role_mut(role)
            .attached_policies
            .push(policy_arn.into());
    }

    /// An inline policy allowing `actions` on everything.
    pub fn inline_policy(&mut self, role: &str, name: &str, actions: &[&str]) {
        let document = policy_document(actions);
        self.role_mut(role).inline_policies.push(InlinePolicy {
            name: name.into(),
            document: Some(document),
        });
    }

    /// A customer managed policy allowing `actions`, with `older_versions` versions
    /// before the default one. Returns its ARN.
    pub fn policy(
        &mut self,
        name: &str,
        actions: &[&str],
        older_versions: usize,
        tags: BTreeMap<String, String>,
    ) -> String {
        let arn = self.iam_arn(&format!("policy/{name}"));
        let versions: Vec<PolicyVersion> = (1..=older_versions + 1)
            .map(|v| PolicyVersion {
                version_id: format!("v{v}"),
                is_default: v == older_versions + 1,
                created: Some(CREATED.into()),
            })
            .collect();
        let details = Details::IamPolicy(Policy {
            path: "/".into(),
            default_version_id: format!("v{}", older_versions + 1),
            versions,
            attachment_count: 0,
            attached_users: Vec::new(),
            attached_groups: Vec::new(),
            document: Some(policy_document(actions)),
            created: Some(CREATED.into()),
        });
        self.push(Self::global(arn.clone(), name, tags, details));
        arn
    }

    /// Attaches a customer policy to an IAM user (users are not modelled resources).
    pub fn attach_user_policy(&mut self, policy_arn: &str, user: &str) {
        self.policy_mut(policy_arn).attached_users.push(user.into());
    }

    /// Attaches a customer policy to an IAM group (groups are not modelled resources).
    pub fn attach_group_policy(&mut self, policy_arn: &str, group: &str) {
        self.policy_mut(policy_arn)
            .attached_groups
            .push(group.into());
    }

    /// An instance profile holding `role`. Returns its name, which is its id.
    pub fn instance_profile(
        &mut self,
        name: &str,
        role: Option<&str>,
        tags: BTreeMap<String, String>,
    ) -> String {
        let details = Details::IamInstanceProfile(InstanceProfile {
            arn: self.iam_arn(&format!("instance-profile/{name}")),
            path: "/".into(),
            roles: role.into_iter().map(str::to_string).collect(),
            created: Some(CREATED.into()),
        });
        self.push(Self::global(name.into(), name, tags, details));
        name.into()
    }

    /// A log group; returns its name, which is its id.
    pub fn log_group(
        &mut self,
        name: &str,
        retention_days: Option<i32>,
        stored_bytes: u64,
        tags: BTreeMap<String, String>,
    ) -> String {
        let details = Details::CloudwatchLogGroup(LogGroup {
            arn: format!(
                "arn:aws:logs:{}:{}:log-group:{name}",
                self.region, self.account_id
            ),
            retention_days,
            stored_bytes: Some(stored_bytes),
            created: Some(CREATED.into()),
            last_event: Some("2025-02-14T23:59:58Z".into()),
            kms_key_id: None,
        });
        let resource = self.regional(name.into(), name, tags, details);
        self.push(resource);
        name.into()
    }

    /// The snapshot, with the fields AWS derives filled in: each target group's load
    /// balancers, each customer policy's attachment count.
    pub fn finish(mut self) -> Inventory {
        let mut lb_of_listener: BTreeMap<String, String> = BTreeMap::new();
        let mut lbs_of_tg: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut attachments: BTreeMap<String, u32> = BTreeMap::new();
        for resource in &self.resources {
            match &resource.details {
                Details::LbListener(l) => {
                    lb_of_listener.insert(resource.id.clone(), l.load_balancer.clone());
                    for tg in &l.forward_target_groups {
                        lbs_of_tg
                            .entry(tg.clone())
                            .or_default()
                            .push(l.load_balancer.clone());
                    }
                }
                Details::IamRole(role) => {
                    for policy in &role.attached_policies {
                        *attachments.entry(policy.clone()).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        for resource in &self.resources {
            if let Details::LbListenerRule(r) = &resource.details
                && let Some(lb) = lb_of_listener.get(&r.listener)
            {
                for tg in &r.forward_target_groups {
                    lbs_of_tg.entry(tg.clone()).or_default().push(lb.clone());
                }
            }
        }
        for resource in &mut self.resources {
            match &mut resource.details {
                Details::LbTargetGroup(tg) => {
                    let mut lbs = lbs_of_tg.remove(&resource.id).unwrap_or_default();
                    lbs.sort();
                    lbs.dedup();
                    tg.load_balancers = lbs;
                }
                Details::IamPolicy(policy) => {
                    policy.attachment_count = attachments.get(&resource.id).copied().unwrap_or(0)
                        + (policy.attached_users.len() + policy.attached_groups.len()) as u32;
                }
                _ => {}
            }
        }
        // The canonical order of `Inventory::normalize`, on cached keys (normalize
        // would rebuild both keys of every comparison).
        self.resources.sort_by_cached_key(Resource::key);
        let mut inventory = Inventory::new(self.account_id, vec![self.region]);
        inventory.resources = self.resources;
        inventory
    }
}

/// `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": …, "Resource": "*"}]}`
pub fn policy_document(actions: &[&str]) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }]
    })
}
