//! Placeholder until the spec loader lands: the option types the planner reads.

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allow {
    pub revoke_kept_rules: bool,
    pub detach_from_kept: bool,
    pub disable_deletion_protection: bool,
    pub disable_termination_protection: bool,
    pub delete_live_traffic: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OrphanPolicy {
    #[default]
    Report,
    Delete,
    Fail,
}
