//! Addresses people read, in plans, reasons, blockers and reports: the type and the
//! resource's name, as Terraform's `aws_lb.web` — `aws_lb.lego-api-alb`,
//! `aws_lb_listener.lego-api-alb:443`, `aws_lb_listener_rule.lego-api-alb:443/10`,
//! `aws_security_group.lego-api-app-sg` — instead of ARNs. A name that more than one
//! resource of the type has in the account is told apart by region
//! (`aws_lb.web[eu-west-1]`), else by id (`aws_security_group.default[sg-0abc]`);
//! a resource without a name is addressed by its id. The id itself stays in the
//! JSON plan and on its own line in the text plan.
//!
//! Names are counted by hash, without building them: a plan addresses a fraction of
//! the account, and a collision only adds a qualifier no address needed.

use std::borrow::Cow;
use std::hash::BuildHasher;

use decom_provider::{Details, InventoryIndex, KeyRef, ResourceId, ResourceType};
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};

/// How many resources of a type share a name, and whether they are in one region.
struct Sharing<'i> {
    count: u32,
    region: &'i str,
    several_regions: bool,
}

/// How many resources of its type share each resource's readable name.
pub(super) struct Addresses<'i> {
    /// By resource id: the hash of its readable name; `None`: known by its id.
    hashes: Vec<Option<u64>>,
    per_name: HashMap<(ResourceType, u64), Sharing<'i>>,
    /// Per (type, name, region), only for names found in more than one region.
    per_region: HashMap<(ResourceType, u64, &'i str), u32>,
}

impl<'i> Addresses<'i> {
    pub(super) fn new(index: &InventoryIndex<'i>) -> Self {
        let mut per_name: HashMap<(ResourceType, u64), Sharing<'i>> =
            HashMap::with_capacity_and_hasher(index.len(), FxBuildHasher);
        let mut several_regions = false;
        let hashes: Vec<Option<u64>> = index.ids().map(|id| name_hash(index, id)).collect();
        for (id, h) in index.ids().zip(&hashes) {
            let Some(h) = *h else {
                continue;
            };
            let key = index.key_ref(id);
            let sharing = per_name.entry((key.ty, h)).or_insert(Sharing {
                count: 0,
                region: key.region,
                several_regions: false,
            });
            sharing.count += 1;
            if sharing.region != key.region {
                sharing.several_regions = true;
                several_regions = true;
            }
        }
        let mut per_region: HashMap<(ResourceType, u64, &'i str), u32> = HashMap::default();
        if several_regions {
            for (id, h) in index.ids().zip(&hashes) {
                let Some(h) = *h else {
                    continue;
                };
                let key = index.key_ref(id);
                if per_name[&(key.ty, h)].several_regions {
                    *per_region.entry((key.ty, h, key.region)).or_default() += 1;
                }
            }
        }
        Addresses {
            hashes,
            per_name,
            per_region,
        }
    }

    /// The address of `id`: `type.name`, disambiguated where the name is shared.
    pub(super) fn address(
        &self,
        index: &InventoryIndex<'i>,
        key: KeyRef<'_>,
        id: ResourceId,
    ) -> String {
        let Some(h) = self.hashes[id.index()] else {
            return key.address();
        };
        let Some(name) = readable_name(index, id) else {
            return key.address();
        };
        let qualifier = match self.per_name.get(&(key.ty, h)) {
            Some(sharing) if sharing.count > 1 => {
                let in_region = if sharing.several_regions {
                    self.per_region
                        .get(&(key.ty, h, key.region))
                        .copied()
                        .unwrap_or(1)
                } else {
                    sharing.count
                };
                Some(if in_region > 1 { key.id } else { key.region })
            }
            _ => None,
        };
        let ty = key.ty.as_str();
        let mut address =
            String::with_capacity(ty.len() + 1 + name.len() + qualifier.map_or(0, |q| q.len() + 2));
        address.push_str(ty);
        address.push('.');
        address.push_str(&name);
        if let Some(qualifier) = qualifier {
            address.push('[');
            address.push_str(qualifier);
            address.push(']');
        }
        address
    }
}

/// What a readable name is made of: a listener is known by its load balancer and
/// port, a rule by its listener and priority, anything else by its name.
enum NameParts<'i> {
    Name(&'i str),
    Listener(&'i str, i32),
    Rule(&'i str, i32, &'i str),
}

/// The parts of the name a person knows a resource by: its `Name` (or AWS name)
/// where it has one; nothing for a resource known only by its id (an interface).
fn name_parts<'i>(index: &InventoryIndex<'i>, id: ResourceId) -> Option<NameParts<'i>> {
    let resource = index.resource(id);
    match &resource.details {
        Details::LbListener(listener) => Some(NameParts::Listener(
            lb_name(&listener.load_balancer)?,
            listener.port?,
        )),
        Details::LbListenerRule(rule) => {
            if rule.priority.is_empty() {
                return None;
            }
            let listener =
                index.find(ResourceType::LbListener, &resource.region, &rule.listener)?;
            match &index.resource(listener).details {
                Details::LbListener(l) => Some(NameParts::Rule(
                    lb_name(&l.load_balancer)?,
                    l.port?,
                    &rule.priority,
                )),
                _ => None,
            }
        }
        _ if resource.name.is_empty() || resource.name == resource.id => None,
        _ => Some(NameParts::Name(&resource.name)),
    }
}

fn name_hash(index: &InventoryIndex<'_>, id: ResourceId) -> Option<u64> {
    Some(match name_parts(index, id)? {
        NameParts::Name(name) => FxBuildHasher.hash_one(name),
        NameParts::Listener(lb, port) => FxBuildHasher.hash_one((lb, port)),
        NameParts::Rule(lb, port, priority) => FxBuildHasher.hash_one((lb, port, priority)),
    })
}

/// The readable name: `lego-api-alb:443` for a listener, `lego-api-alb:443/10` for
/// a rule.
fn readable_name<'i>(index: &InventoryIndex<'i>, id: ResourceId) -> Option<Cow<'i, str>> {
    Some(match name_parts(index, id)? {
        NameParts::Name(name) => Cow::Borrowed(name),
        NameParts::Listener(lb, port) => Cow::Owned(format!("{lb}:{port}")),
        NameParts::Rule(lb, port, priority) => Cow::Owned(format!("{lb}:{port}/{priority}")),
    })
}

/// The load balancer's name, from its ARN (`…:loadbalancer/app/<name>/<id>`).
fn lb_name(load_balancer: &str) -> Option<&str> {
    load_balancer.rsplit('/').nth(1)
}
