//! EBS at the edge: volumes and snapshots (both in the EC2 API), from SDK shapes into
//! decom's model; the calls that delete them and snapshot a volume first; their
//! archive descriptions. Both are batch listings (snapshots with `OwnerIds=self`),
//! and one DescribeImages (`Owners=self`) tells which snapshots back an AMI.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, SnapshotState, Tag, TagSpecification};
use decom_provider::{
    Action, Details, Operation, ProviderError, Resource, ResourceKey, ResourceType, Snapshot,
    Volume, VolumeAttachment,
};

use crate::calls::{api_error, both};
use crate::text::{name_tag, tag_map, timestamp};

/// The tag decom puts on the snapshot it takes of a volume before deleting it: the
/// volume's id. A second run finds it instead of taking another.
pub(crate) const SNAPSHOT_OF_TAG: &str = "decom:snapshot-of";

fn tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tag_map(tags.iter().map(|t| (t.key(), t.value())))
}

fn id_filter(name: &str, only: Option<&[String]>) -> Option<Vec<Filter>> {
    only.map(|ids| {
        vec![
            Filter::builder()
                .name(name)
                .set_values(Some(ids.to_vec()))
                .build(),
        ]
    })
}

/// The volumes of the region, or those of `only` (by filter: a gone id is absent).
pub(crate) async fn volumes(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
) -> Result<Vec<Resource>, ProviderError> {
    let volumes = client
        .describe_volumes()
        .set_filters(id_filter("volume-id", only))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ec2:DescribeVolumes", Some(region), e))?;
    Ok(volumes
        .into_iter()
        .map(|v| {
            let tags = tags(v.tags());
            Resource {
                id: v.volume_id().unwrap_or_default().to_string(),
                name: name_tag(&tags),
                region: region.to_string(),
                tags,
                details: Details::EbsVolume(Volume {
                    state: v
                        .state()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    size_gib: v.size().unwrap_or(0),
                    volume_type: v
                        .volume_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    availability_zone: v.availability_zone().unwrap_or_default().to_string(),
                    encrypted: v.encrypted().unwrap_or(false),
                    snapshot_id: v
                        .snapshot_id()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    attachments: v
                        .attachments()
                        .iter()
                        .filter_map(|a| {
                            Some(VolumeAttachment {
                                instance_id: a.instance_id()?.to_string(),
                                device: a.device().unwrap_or_default().to_string(),
                                delete_on_termination: a.delete_on_termination().unwrap_or(false),
                            })
                        })
                        .collect(),
                    created: v.create_time().map(timestamp),
                }),
            }
        })
        .collect())
}

/// Fills in an attachment's `DeleteOnTermination` from the instances' block device
/// mappings (`volume id -> flag`) where DescribeVolumes left it out (moto does).
pub(crate) fn complete_attachments(
    volumes: &mut [Resource],
    on_termination: &BTreeMap<String, bool>,
) {
    for volume in volumes {
        let flag = on_termination.get(&volume.id).copied().unwrap_or(false);
        if let Details::EbsVolume(details) = &mut volume.details {
            for attachment in &mut details.attachments {
                attachment.delete_on_termination |= flag;
            }
        }
    }
}

/// The account's own snapshots (`OwnerIds=self`), or those of `only`, each with the
/// account's AMIs it backs.
pub(crate) async fn snapshots(
    client: &Client,
    region: &str,
    only: Option<&[String]>,
) -> Result<Vec<Resource>, ProviderError> {
    let (snapshots, images) = tokio::join!(
        async {
            client
                .describe_snapshots()
                .owner_ids("self")
                .set_filters(id_filter("snapshot-id", only))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| api_error("ec2:DescribeSnapshots", Some(region), e))
        },
        async {
            client
                .describe_images()
                .owners("self")
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| api_error("ec2:DescribeImages", Some(region), e))
        }
    );
    let (snapshots, images) = both(snapshots, images)?;
    let mut images_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for image in &images {
        for device in image.block_device_mappings() {
            if let (Some(snapshot), Some(image_id)) =
                (device.ebs().and_then(|e| e.snapshot_id()), image.image_id())
            {
                images_of
                    .entry(snapshot.to_string())
                    .or_default()
                    .insert(image_id.to_string());
            }
        }
    }
    Ok(snapshots
        .into_iter()
        .map(|s| {
            let tags = tags(s.tags());
            let id = s.snapshot_id().unwrap_or_default().to_string();
            Resource {
                name: name_tag(&tags),
                region: region.to_string(),
                tags,
                details: Details::EbsSnapshot(Snapshot {
                    state: s
                        .state()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    volume_id: s.volume_id().map(str::to_string),
                    size_gib: s.volume_size().unwrap_or(0),
                    description: s.description().unwrap_or_default().to_string(),
                    images: images_of
                        .remove(&id)
                        .map(|i| i.into_iter().collect())
                        .unwrap_or_default(),
                    created: s.start_time().map(timestamp),
                }),
                id,
            }
        })
        .collect())
}

/// The snapshots decom took of `volume` (its tag), with their states.
async fn snapshots_of(
    client: &Client,
    region: &str,
    volume: &str,
) -> Result<Vec<Option<SnapshotState>>, ProviderError> {
    let found = client
        .describe_snapshots()
        .owner_ids("self")
        .filters(
            Filter::builder()
                .name(format!("tag:{SNAPSHOT_OF_TAG}"))
                .values(volume)
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| api_error("ec2:DescribeSnapshots", Some(region), e))?;
    Ok(found.iter().map(|s| s.state().cloned()).collect())
}

/// Whether the snapshot decom took of the volume is `completed`. A snapshot in
/// `error` fails the wait: the volume is then not deleted.
pub(crate) async fn snapshot_completed(
    client: &Client,
    region: &str,
    volume: &str,
) -> Result<bool, ProviderError> {
    let states = snapshots_of(client, region, volume).await?;
    if states.contains(&Some(SnapshotState::Completed)) {
        return Ok(true);
    }
    if !states.is_empty() && states.iter().all(|s| *s == Some(SnapshotState::Error)) {
        return Err(ProviderError::new(
            "ec2:DescribeSnapshots",
            Some(region),
            "SnapshotFailed",
            format!("the snapshot of `{volume}` ended in the state `error`; the volume is kept"),
        ));
    }
    Ok(false)
}

pub(crate) async fn execute(client: &Client, op: &Operation) -> Result<(), ProviderError> {
    let region = op.target.region.as_str();
    let id = op.target.id.as_str();
    match (&op.action, op.target.ty) {
        (Action::Delete, ResourceType::EbsVolume) => client
            .delete_volume()
            .volume_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:DeleteVolume", Some(region), e)),
        (Action::Delete, ResourceType::EbsSnapshot) => client
            .delete_snapshot()
            .snapshot_id(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| api_error("ec2:DeleteSnapshot", Some(region), e)),
        (Action::SnapshotVolume, ResourceType::EbsVolume) => {
            // Idempotent: a snapshot an earlier run took (pending or completed) stands.
            let taken = snapshots_of(client, region, id).await?;
            if taken.iter().any(|s| *s != Some(SnapshotState::Error)) {
                return Ok(());
            }
            client
                .create_snapshot()
                .volume_id(id)
                .description(format!("decom: {id} before its deletion"))
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(aws_sdk_ec2::types::ResourceType::Snapshot)
                        .tags(Tag::builder().key(SNAPSHOT_OF_TAG).value(id).build())
                        .build(),
                )
                .send()
                .await
                .map(drop)
                .map_err(|e| api_error("ec2:CreateSnapshot", Some(region), e))
        }
        _ => Err(crate::unsupported(op)),
    }
}

/// The models of volumes or snapshots of `only`, for the archive.
pub(crate) async fn models(
    client: &Client,
    region: &str,
    ty: ResourceType,
    only: &[String],
) -> Result<Vec<Resource>, ProviderError> {
    match ty {
        ResourceType::EbsVolume => volumes(client, region, Some(only)).await,
        ResourceType::EbsSnapshot => snapshots(client, region, Some(only)).await,
        _ => Err(crate::unsupported_describe(&ResourceKey::new(
            ty,
            region,
            only.first().map_or("", String::as_str),
        ))),
    }
}
