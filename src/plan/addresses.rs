//! Addresses people read, in plans, reasons, blockers and reports: the type and the
//! resource's name, as Terraform's `aws_lb.web` — `aws_lb.lego-api-alb`,
//! `aws_lb_listener.lego-api-alb:443`, `aws_lb_listener_rule.lego-api-alb:443/10`,
//! `aws_security_group.lego-api-app-sg` — instead of ARNs. A name that more than one
//! resource of the type has in the account is told apart by region
//! (`aws_lb.web[eu-west-1]`), else by id (`aws_security_group.default[sg-0abc]`);
//! a resource without a name is addressed by its id. The id itself stays in the
//! JSON plan and on its own line in the text plan.

use std::borrow::Cow;
use std::hash::BuildHasher;

use decom_provider::{Details, InventoryIndex, KeyRef, ResourceId, ResourceType};
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};

/// Every resource's readable name, and how many resources of its type share it.
pub(super) struct Addresses<'i> {
    /// By resource id; empty: the resource is known by its id.
    names: Vec<Cow<'i, str>>,
    /// Resources per (type, name), and per (type, name, region). Names are counted by
    /// hash: a collision only adds a qualifier no address needed.
    per_name: HashMap<(ResourceType, u64), u32>,
    per_region: HashMap<(ResourceType, u64, &'i str), u32>,
}

fn hash(name: &str) -> u64 {
    FxBuildHasher.hash_one(name)
}

impl<'i> Addresses<'i> {
    pub(super) fn new(index: &InventoryIndex<'i>) -> Self {
        let names: Vec<Cow<'i, str>> = index.ids().map(|id| readable_name(index, id)).collect();
        let mut per_name: HashMap<(ResourceType, u64), u32> = HashMap::default();
        let mut per_region: HashMap<(ResourceType, u64, &'i str), u32> = HashMap::default();
        for (id, name) in index.ids().zip(&names) {
            if name.is_empty() {
                continue;
            }
            let key = index.key_ref(id);
            let h = hash(name);
            *per_name.entry((key.ty, h)).or_default() += 1;
            *per_region.entry((key.ty, h, key.region)).or_default() += 1;
        }
        Addresses {
            names,
            per_name,
            per_region,
        }
    }

    /// The address of `id`: `type.name`, disambiguated where the name is shared.
    pub(super) fn address(&self, key: KeyRef<'_>, id: ResourceId) -> String {
        let name = &self.names[id.index()];
        if name.is_empty() {
            return key.address();
        }
        let h = hash(name);
        let shared = |count: Option<&u32>| count.copied().unwrap_or(1) > 1;
        let qualifier = if !shared(self.per_name.get(&(key.ty, h))) {
            None
        } else if !shared(self.per_region.get(&(key.ty, h, key.region))) {
            Some(key.region)
        } else {
            Some(key.id)
        };
        let ty = key.ty.as_str();
        let mut address =
            String::with_capacity(ty.len() + 1 + name.len() + qualifier.map_or(0, |q| q.len() + 2));
        address.push_str(ty);
        address.push('.');
        address.push_str(name);
        if let Some(qualifier) = qualifier {
            address.push('[');
            address.push_str(qualifier);
            address.push(']');
        }
        address
    }
}

/// The name a person knows a resource by: its `Name` (or AWS name) where it has one;
/// a listener by its load balancer and port, a rule by its listener and priority;
/// nothing for a resource known only by its id (an interface).
fn readable_name<'i>(index: &InventoryIndex<'i>, id: ResourceId) -> Cow<'i, str> {
    let resource = index.resource(id);
    let built = match &resource.details {
        Details::LbListener(listener) => listener_name(&listener.load_balancer, listener.port),
        Details::LbListenerRule(rule) => index
            .find(ResourceType::LbListener, &resource.region, &rule.listener)
            .map(|l| &index.resource(l).details)
            .and_then(|details| match details {
                Details::LbListener(l) => listener_name(&l.load_balancer, l.port),
                _ => None,
            })
            .filter(|_| !rule.priority.is_empty())
            .map(|listener| format!("{listener}/{}", rule.priority)),
        _ if resource.name == resource.id => return Cow::Borrowed(""),
        _ => return Cow::Borrowed(resource.name.as_str()),
    };
    built.map_or(Cow::Borrowed(""), Cow::Owned)
}

/// `lego-api-alb:443`: the load balancer's name (from its ARN,
/// `…:loadbalancer/app/<name>/<id>`) and the port.
fn listener_name(load_balancer: &str, port: Option<i32>) -> Option<String> {
    let name = load_balancer.rsplit('/').nth(1)?;
    Some(format!("{name}:{}", port?))
}
