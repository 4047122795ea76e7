//! Reading a [`Resource`] from a snapshot, by hand rather than with
//! `#[serde(flatten)]` (see below).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::{Details, Resource, ResourceType};

// Reading `Resource` without `#[serde(flatten)]`: flatten buffers every resource into
// serde's intermediate `Content` tree (twice, with the internally tagged `Details`)
// before building it, which dominated loading a 100k-resource snapshot
// (docs/performance.md). Snapshots written by decom put `type` before the details'
// fields, so the details are read straight from the stream; any other key order
// falls back to a buffered read of the same shape.
impl<'de> Deserialize<'de> for Resource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ResourceVisitor)
    }
}

/// The fields every resource has, beside its details.
#[derive(Default)]
struct CommonFields {
    id: Option<String>,
    name: Option<String>,
    region: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

impl CommonFields {
    /// Reads the value of `key` if it is a common field; false for any other key.
    fn read<'de, A: serde::de::MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        use serde::de::Error;
        fn set<T, E: Error>(slot: &mut Option<T>, value: T, field: &'static str) -> Result<(), E> {
            if slot.replace(value).is_some() {
                return Err(E::duplicate_field(field));
            }
            Ok(())
        }
        match key {
            "id" => set(&mut self.id, map.next_value()?, "id")?,
            "name" => set(&mut self.name, map.next_value()?, "name")?,
            "region" => set(&mut self.region, map.next_value()?, "region")?,
            "tags" => set(&mut self.tags, map.next_value()?, "tags")?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish<E: serde::de::Error>(self, details: Details) -> Result<Resource, E> {
        Ok(Resource {
            id: self.id.ok_or_else(|| E::missing_field("id"))?,
            name: self.name.unwrap_or_default(),
            region: self.region.ok_or_else(|| E::missing_field("region"))?,
            tags: self.tags.unwrap_or_default(),
            details,
        })
    }
}

/// A map key, borrowed from the input when it can be.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct ResourceVisitor;

impl<'de> serde::de::Visitor<'de> for ResourceVisitor {
    type Value = Resource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a resource")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Resource, A::Error> {
        use serde::de::Error;
        let mut common = CommonFields::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if common.read(&key, &mut map)? {
                continue;
            }
            if key == "type" {
                let ty: ResourceType = map.next_value()?;
                let details = {
                    let rest = serde::de::value::MapAccessDeserializer::new(DetailFields {
                        map: &mut map,
                        common: &mut common,
                    });
                    Details::read(ty, rest)?
                };
                return common.finish(details);
            }
            // A hand-written snapshot with details before `type`: buffer the rest.
            let mut rest = serde_json::Map::new();
            rest.insert(key.into_owned(), map.next_value()?);
            while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                if !common.read(&key, &mut map)? {
                    rest.insert(key.into_owned(), map.next_value()?);
                }
            }
            let details =
                Details::deserialize(serde_json::Value::Object(rest)).map_err(A::Error::custom)?;
            return common.finish(details);
        }
        Err(A::Error::missing_field("type"))
    }
}

/// The rest of a resource's map after `type`, as the details see it: the common
/// fields are taken out on the way.
struct DetailFields<'a, A> {
    map: &'a mut A,
    common: &'a mut CommonFields,
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for DetailFields<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(Key(key)) = self.map.next_key::<Key<'de>>()? {
            if self.common.read(&key, self.map)? {
                continue;
            }
            return seed
                .deserialize(serde::de::value::CowStrDeserializer::new(key))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

impl Details {
    /// The details of a resource of type `ty` from the fields that follow its `type`.
    fn read<'de, D: serde::Deserializer<'de>>(
        ty: ResourceType,
        fields: D,
    ) -> Result<Self, D::Error> {
        Ok(match ty {
            ResourceType::SecurityGroup => {
                Details::SecurityGroup(Deserialize::deserialize(fields)?)
            }
            ResourceType::NetworkInterface => {
                Details::NetworkInterface(Deserialize::deserialize(fields)?)
            }
            ResourceType::Instance => Details::Instance(Deserialize::deserialize(fields)?),
            ResourceType::Lb => Details::Lb(Deserialize::deserialize(fields)?),
            ResourceType::LbListener => Details::LbListener(Deserialize::deserialize(fields)?),
            ResourceType::LbListenerRule => {
                Details::LbListenerRule(Deserialize::deserialize(fields)?)
            }
            ResourceType::LbTargetGroup => {
                Details::LbTargetGroup(Deserialize::deserialize(fields)?)
            }
            ResourceType::IamRole => Details::IamRole(Deserialize::deserialize(fields)?),
            ResourceType::IamPolicy => Details::IamPolicy(Deserialize::deserialize(fields)?),
            ResourceType::IamInstanceProfile => {
                Details::IamInstanceProfile(Deserialize::deserialize(fields)?)
            }
            ResourceType::CloudwatchLogGroup => {
                Details::CloudwatchLogGroup(Deserialize::deserialize(fields)?)
            }
            ResourceType::EcsCluster => Details::EcsCluster(Deserialize::deserialize(fields)?),
            ResourceType::EcsService => Details::EcsService(Deserialize::deserialize(fields)?),
            ResourceType::EcsTaskDefinition => {
                Details::EcsTaskDefinition(Deserialize::deserialize(fields)?)
            }
            ResourceType::AutoscalingGroup => {
                Details::AutoscalingGroup(Deserialize::deserialize(fields)?)
            }
            ResourceType::LaunchTemplate => {
                Details::LaunchTemplate(Deserialize::deserialize(fields)?)
            }
            ResourceType::LaunchConfiguration => {
                Details::LaunchConfiguration(Deserialize::deserialize(fields)?)
            }
            ResourceType::EbsVolume => Details::EbsVolume(Deserialize::deserialize(fields)?),
            ResourceType::EbsSnapshot => Details::EbsSnapshot(Deserialize::deserialize(fields)?),
            ResourceType::CloudwatchMetricAlarm => {
                Details::CloudwatchMetricAlarm(Deserialize::deserialize(fields)?)
            }
            ResourceType::CloudwatchCompositeAlarm => {
                Details::CloudwatchCompositeAlarm(Deserialize::deserialize(fields)?)
            }
            ResourceType::EcrRepository => {
                Details::EcrRepository(Deserialize::deserialize(fields)?)
            }
            ResourceType::Route53Zone => Details::Route53Zone(Deserialize::deserialize(fields)?),
            ResourceType::Route53Record => {
                Details::Route53Record(Deserialize::deserialize(fields)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GLOBAL_REGION, Role};

    fn role() -> Resource {
        Resource {
            id: "app-role".into(),
            name: "app-role".into(),
            region: GLOBAL_REGION.into(),
            tags: [("Service".to_string(), "app".to_string())].into(),
            details: Details::IamRole(Role {
                attached_policies: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                ..Role::default()
            }),
        }
    }

    #[test]
    fn a_resource_reads_back_whatever_the_key_order() {
        let expected = role();
        let canonical = serde_json::to_value(&expected).unwrap();
        let serde_json::Value::Object(fields) = canonical.clone() else {
            panic!("a resource is an object");
        };
        // As written (`type` before the details), `type` last, common fields last.
        let mut type_last: Vec<(String, serde_json::Value)> = fields.clone().into_iter().collect();
        type_last.sort_by_key(|(k, _)| k == "type");
        let mut common_last: Vec<(String, serde_json::Value)> = fields.into_iter().collect();
        common_last.sort_by_key(|(k, _)| ["id", "name", "region", "tags"].contains(&k.as_str()));
        for order in [type_last, common_last] {
            let text = format!(
                "{{{}}}",
                order
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(k.as_str())))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let read: Resource = serde_json::from_str(&text).unwrap();
            assert_eq!(read, expected, "{text}");
        }
        let read: Resource = serde_json::from_value(canonical).unwrap();
        assert_eq!(read, expected);
    }

    #[test]
    fn a_resource_without_id_or_type_is_refused() {
        let missing_id = r#"{"region":"us-east-1","type":"aws_cloudwatch_log_group"}"#;
        assert!(serde_json::from_str::<Resource>(missing_id).is_err());
        let missing_type = r#"{"id":"x","region":"us-east-1"}"#;
        assert!(serde_json::from_str::<Resource>(missing_type).is_err());
        let unknown_type = r#"{"id":"x","region":"us-east-1","type":"aws_vpc"}"#;
        assert!(serde_json::from_str::<Resource>(unknown_type).is_err());
        let minimal = r#"{"id":"/ecs/x","region":"us-east-1","type":"aws_cloudwatch_log_group"}"#;
        let read: Resource = serde_json::from_str(minimal).unwrap();
        assert_eq!(read.name, "");
        assert!(read.tags.is_empty());
    }
}
