//! What AWS deletes along with an owner, written once: a load balancer takes its
//! listeners, a listener its rules, an instance the interfaces and volumes marked
//! delete on termination, an Auto Scaling group scaled to 0 its instances, and a load
//! balancer's managed interfaces are released some time after it. The planner removes the owned resources with their owner (deleted before it,
//! or awaited after it); the simulator carries the same deletions out.

use crate::model::{Details, KeyRef, Resource, ResourceType};
use crate::provider::Action;

/// How an owned resource goes when its owner goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Deleted in the owner's own deletion call: a load balancer's listeners, a
    /// listener's rules.
    DeletedWithOwner,
    /// Deleted by AWS when the instance it is attached to terminates (the
    /// attachment's `delete_on_termination`).
    DeletedOnTermination,
    /// Released by AWS some time after its owner is deleted: a load balancer's
    /// requester-managed interfaces.
    ReleasedAfterOwner,
    /// Terminated by its Auto Scaling group once the group is scaled to 0; the group
    /// is deleted after its instances are gone.
    TerminatedByGroup,
}

impl Fate {
    /// How decom removes an owned resource when the plan removes its owner: a child
    /// the owner's call would take is deleted explicitly before the owner, so nothing
    /// is left half-owned; what AWS deletes by itself is awaited after the owner.
    pub fn removal(self) -> Action {
        match self {
            Fate::DeletedWithOwner => Action::Delete,
            Fate::DeletedOnTermination | Fate::ReleasedAfterOwner | Fate::TerminatedByGroup => {
                Action::AwaitDeletion
            }
        }
    }
}

/// The resource that takes another with it, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    pub key: KeyRef<'a>,
    pub fate: Fate,
}

/// The resource AWS deletes `resource` with, if any. The owner need not be in the
/// inventory (a listener of a load balancer discovery did not see).
pub fn owner(resource: &Resource) -> Option<Owner<'_>> {
    let region = resource.region.as_str();
    match &resource.details {
        Details::LbListener(listener) => Some(Owner {
            key: KeyRef::new(ResourceType::Lb, region, &listener.load_balancer),
            fate: Fate::DeletedWithOwner,
        }),
        Details::LbListenerRule(rule) => Some(Owner {
            key: KeyRef::new(ResourceType::LbListener, region, &rule.listener),
            fate: Fate::DeletedWithOwner,
        }),
        Details::NetworkInterface(eni) => match &eni.managed_by {
            Some(manager) => Some(Owner {
                key: manager.as_key_ref(),
                fate: Fate::ReleasedAfterOwner,
            }),
            None => eni
                .attachment
                .as_ref()
                .filter(|a| a.delete_on_termination)
                .and_then(|a| a.instance_id.as_deref())
                .map(|instance| Owner {
                    key: KeyRef::new(ResourceType::Instance, region, instance),
                    fate: Fate::DeletedOnTermination,
                }),
        },
        Details::Instance(_) => resource.autoscaling_group().map(|group| Owner {
            key: KeyRef::new(ResourceType::AutoscalingGroup, region, group),
            fate: Fate::TerminatedByGroup,
        }),
        Details::EbsVolume(volume) => volume
            .attached_instance()
            .filter(|a| a.delete_on_termination)
            .map(|a| Owner {
                key: KeyRef::new(ResourceType::Instance, region, &a.instance_id),
                fate: Fate::DeletedOnTermination,
            }),
        Details::SecurityGroup(_)
        | Details::Lb(_)
        | Details::LbTargetGroup(_)
        | Details::IamRole(_)
        | Details::IamPolicy(_)
        | Details::IamInstanceProfile(_)
        | Details::CloudwatchLogGroup(_)
        | Details::EcsCluster(_)
        | Details::EcsService(_)
        | Details::EcsTaskDefinition(_)
        | Details::AutoscalingGroup(_)
        | Details::LaunchTemplate(_)
        | Details::LaunchConfiguration(_)
        | Details::EbsSnapshot(_)
        | Details::CloudwatchMetricAlarm(_)
        | Details::CloudwatchCompositeAlarm(_)
        | Details::EcrRepository(_)
        // AWS refuses to delete a zone with records (`rules::link_blocks_deletion`)
        // rather than deleting them with it.
        | Details::Route53Zone(_)
        | Details::Route53Record(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EniAttachment, Listener, NetworkInterface, ResourceKey};

    fn resource(id: &str, details: Details) -> Resource {
        Resource {
            id: id.into(),
            name: String::new(),
            region: "us-east-1".into(),
            tags: Default::default(),
            details,
        }
    }

    fn eni(attachment: Option<(&str, bool)>, managed_by: Option<&ResourceKey>) -> Resource {
        resource(
            "eni-1",
            Details::NetworkInterface(NetworkInterface {
                attachment: attachment.map(|(instance, delete_on_termination)| EniAttachment {
                    instance_id: Some(instance.into()),
                    device_index: Some(0),
                    delete_on_termination,
                }),
                managed_by: managed_by.cloned(),
                ..NetworkInterface::default()
            }),
        )
    }

    #[test]
    fn owners_are_what_aws_deletes_a_resource_with() {
        let listener = resource(
            "listener-1",
            Details::LbListener(Listener {
                load_balancer: "alb-1".into(),
                ..Listener::default()
            }),
        );
        assert_eq!(
            owner(&listener),
            Some(Owner {
                key: KeyRef::new(ResourceType::Lb, "us-east-1", "alb-1"),
                fate: Fate::DeletedWithOwner,
            })
        );
        let primary = eni(Some(("i-1", true)), None);
        assert_eq!(
            owner(&primary).map(|o| (o.key.to_key(), o.fate)),
            Some((
                ResourceKey::new(ResourceType::Instance, "us-east-1", "i-1"),
                Fate::DeletedOnTermination
            ))
        );
        // An interface that is not deleted on termination outlives its instance.
        assert_eq!(owner(&eni(Some(("i-1", false)), None)), None);
        let alb = ResourceKey::new(ResourceType::Lb, "us-east-1", "alb-1");
        assert_eq!(
            owner(&eni(None, Some(&alb))).map(|o| o.fate),
            Some(Fate::ReleasedAfterOwner)
        );
        assert_eq!(Fate::DeletedWithOwner.removal(), Action::Delete);
        assert_eq!(Fate::ReleasedAfterOwner.removal(), Action::AwaitDeletion);
    }
}
