//! IAM in the builder: roles, customer managed and inline policies, their
//! attachments, instance profiles.

use std::collections::BTreeMap;

use decom_provider::{
    Details, InlinePolicy, InstanceProfile, Policy, PolicyVersion, ResourceType, Role,
};
use serde_json::json;

use super::{AccountBuilder, CREATED, policy_document};

impl AccountBuilder {
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
}
