//! ELBv2 in the builder: load balancers with the interfaces AWS creates for them,
//! listeners, rules and target groups.

use std::collections::BTreeMap;

use decom_provider::{
    Details, Listener, ListenerRule, LoadBalancer, NetworkInterface, ResourceKey, ResourceType,
    Target, TargetGroup,
};

use rand::Rng;

use super::{AccountBuilder, CREATED, TargetSpec};

impl AccountBuilder {
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
}
