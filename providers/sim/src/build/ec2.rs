//! EC2 in the builder: security groups and their rules, instances with their primary
//! interface, free-standing interfaces.

use std::collections::BTreeMap;

use decom_provider::{
    Details, EniAttachment, GroupReference, Instance, InstanceState, NetworkInterface,
    ResourceType, RuleDirection, SecurityGroup, SecurityGroupRule,
};

use super::{AccountBuilder, CREATED};

impl AccountBuilder {
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
}
