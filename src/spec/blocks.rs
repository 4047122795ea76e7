//! Decoding the `decommission` block into the model: its `absent`/`keep` selectors
//! and `allow` opt-ins, with the checks that keep a selector from choosing more than
//! its author meant.

use std::collections::BTreeMap;

use decom_provider::ResourceType;
use hcl::Value;
use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block};

use super::diag::{Diagnostic, Location, did_you_mean};
use super::eval;
use super::load::{Loader, label_span, list};
use super::model::{Allow, Decommission, Glob, OrphanPolicy, Selector, SelectorKind};
use super::provider::RegionUse;

const DECOMMISSION_ATTRIBUTES: [&str; 6] = [
    "description",
    "orphans",
    "not_before",
    "archive_log_events",
    "orphan_log_group_prefixes",
    "drain_only",
];
const DECOMMISSION_BLOCKS: [&str; 3] = ["absent", "keep", "allow"];
const SELECTOR_ATTRIBUTES: [&str; 6] = [
    "ids",
    "names",
    "name_prefix",
    "name_glob",
    "tags",
    "regions",
];
const TIMESTAMP_HINT: &str =
    "write an RFC 3339 timestamp with an offset, e.g. `\"2026-12-15T00:00:00Z\"`";
const EMPTY_PREFIX_HINT: &str =
    "an empty prefix matches every name; write `name_glob = \"*\"` if that is meant";
const UNNARROWED_HINT: &str = "narrow it with `ids`, `names`, `name_prefix`, `name_glob` or \
     `tags`; if every one is meant, say so with `name_glob = \"*\"`";
const CONFLICT_HINT: &str =
    "`keep` wins, so this entry deletes nothing; remove it from one of the two blocks";

const ALLOW_ATTRIBUTES: [&str; 9] = [
    "revoke_kept_rules",
    "detach_from_kept",
    "disable_deletion_protection",
    "disable_termination_protection",
    "delete_live_traffic",
    "snapshot_volumes_first",
    "force_delete_autoscaling_groups",
    "delete_images",
    "move_dns_traffic",
];

/// Where a selector's `ids`/`names` were written, for the keep/absent conflict check.
struct SelectorSpans {
    ids: BTreeMap<String, Location>,
    names: BTreeMap<String, Location>,
}

impl Loader {
    pub(super) fn decommission(&mut self, file: usize, block: &Block) -> Option<Decommission> {
        let location = self.location(file, block.ident.span());
        let name = self
            .single_label(file, block, "the decommission's name")
            .map(|label| label.as_str().to_string());
        let (fields, blocks) = self.fields(
            file,
            &block.body,
            "the `decommission` block",
            &DECOMMISSION_ATTRIBUTES,
            &DECOMMISSION_BLOCKS,
        );
        let mut ok = name.is_some();

        let description = match fields.get("description") {
            Some(attr) => {
                let value = self.string(file, attr);
                ok &= value.is_some();
                value
            }
            None => None,
        };

        let mut orphans = OrphanPolicy::default();
        if let Some(attr) = fields.get("orphans") {
            match self.string(file, attr) {
                Some(text) => match text.parse::<OrphanPolicy>() {
                    Ok(policy) => orphans = policy,
                    Err(_) => {
                        ok = false;
                        let at = self.location(file, attr.value.span());
                        self.error(
                            Diagnostic::error(
                                format!("invalid `orphans` value `{text}`"),
                                Some(at),
                            )
                            .with_hint("expected one of `report` (the default), `delete`, `fail`"),
                        );
                    }
                },
                None => ok = false,
            }
        }

        let mut not_before = None;
        if let Some(attr) = fields.get("not_before") {
            match self.string(file, attr) {
                Some(text) => match text.parse::<jiff::Timestamp>() {
                    Ok(timestamp) => not_before = Some(timestamp),
                    Err(err) => {
                        ok = false;
                        let at = self.location(file, attr.value.span());
                        self.error(
                            Diagnostic::error(
                                format!("invalid `not_before` timestamp `{text}`: {err}"),
                                Some(at),
                            )
                            .with_hint(TIMESTAMP_HINT),
                        );
                    }
                },
                None => ok = false,
            }
        }

        let mut archive_log_events = false;
        if let Some(attr) = fields.get("archive_log_events") {
            match self.bool(file, attr) {
                Some(value) => archive_log_events = value,
                None => ok = false,
            }
        }

        let mut drain_only = false;
        if let Some(attr) = fields.get("drain_only") {
            match self.bool(file, attr) {
                Some(value) => drain_only = value,
                None => ok = false,
            }
        }

        let mut orphan_log_group_prefixes = None;
        if let Some(attr) = fields.get("orphan_log_group_prefixes") {
            match self.string_list(file, attr) {
                Some(prefixes) => orphan_log_group_prefixes = Some(prefixes),
                None => ok = false,
            }
        }

        let mut allow = Allow::default();
        let mut absent = Vec::new();
        let mut keep = Vec::new();
        let mut absent_spans = Vec::new();
        let mut keep_spans = Vec::new();
        let mut allow_seen: Option<Location> = None;
        for nested in blocks {
            match nested.ident.as_str() {
                "allow" => {
                    let at = self.location(file, nested.ident.span());
                    if let Some(first) = &allow_seen {
                        ok = false;
                        self.error(
                            Diagnostic::error("duplicate `allow` block", Some(at))
                                .with_note(first.clone(), "first defined here"),
                        );
                        continue;
                    }
                    allow_seen = Some(at);
                    match self.allow(file, nested) {
                        Some(value) => allow = value,
                        None => ok = false,
                    }
                }
                ident => {
                    let kind = if ident == "keep" {
                        SelectorKind::Keep
                    } else {
                        SelectorKind::Absent
                    };
                    match self.selector(file, nested, kind) {
                        Some((selector, spans)) if kind == SelectorKind::Keep => {
                            keep.push(selector);
                            keep_spans.push(spans);
                        }
                        Some((selector, spans)) => {
                            absent.push(selector);
                            absent_spans.push(spans);
                        }
                        None => ok = false,
                    }
                }
            }
        }

        if absent.is_empty() && ok {
            ok = false;
            self.error(
                Diagnostic::error(
                    "the `decommission` block has no `absent` selector",
                    Some(location.clone()),
                )
                .with_hint("name what must be deleted: `absent \"aws_lb\" { names = [\"...\"] }`"),
            );
        }

        self.check_conflicts(&absent, &absent_spans, &keep, &keep_spans);

        if !ok {
            return None;
        }
        Some(Decommission {
            name: name?,
            description,
            absent,
            keep,
            orphans,
            not_before,
            archive_log_events,
            drain_only,
            orphan_log_group_prefixes,
            allow,
            location,
        })
    }

    fn allow(&mut self, file: usize, block: &Block) -> Option<Allow> {
        if let Some(label) = block.labels.first() {
            let at = self.location(file, label_span(label));
            self.error(Diagnostic::error(
                "an `allow` block takes no labels",
                Some(at),
            ));
            return None;
        }
        let (fields, _) = self.fields(
            file,
            &block.body,
            "the `allow` block",
            &ALLOW_ATTRIBUTES,
            &[],
        );
        let mut ok = true;
        let mut flag = |name: &str| -> bool {
            match fields.get(name) {
                Some(attr) => match self.bool(file, attr) {
                    Some(value) => value,
                    None => {
                        ok = false;
                        false
                    }
                },
                None => false,
            }
        };
        let allow = Allow {
            revoke_kept_rules: flag("revoke_kept_rules"),
            detach_from_kept: flag("detach_from_kept"),
            disable_deletion_protection: flag("disable_deletion_protection"),
            disable_termination_protection: flag("disable_termination_protection"),
            delete_live_traffic: flag("delete_live_traffic"),
            snapshot_volumes_first: flag("snapshot_volumes_first"),
            force_delete_autoscaling_groups: flag("force_delete_autoscaling_groups"),
            delete_images: flag("delete_images"),
            move_dns_traffic: flag("move_dns_traffic"),
        };
        ok.then_some(allow)
    }

    fn selector(
        &mut self,
        file: usize,
        block: &Block,
        kind: SelectorKind,
    ) -> Option<(Selector, SelectorSpans)> {
        let location = self.location(file, block.ident.span());
        let what = match kind {
            SelectorKind::Absent => "an `absent` block",
            SelectorKind::Keep => "a `keep` block",
        };
        let label = self.single_label(file, block, "the resource type or \"*\"");
        let mut ok = label.is_some();
        let type_label = label.map(|l| l.as_str().to_string()).unwrap_or_default();
        let mut resource_type = None;
        if let Some(label) = label
            && type_label != "*"
        {
            match type_label.parse::<ResourceType>() {
                Ok(ty) => resource_type = Some(ty),
                Err(err) => {
                    ok = false;
                    let at = self.location(file, label_span(label));
                    let names = ResourceType::ALL.map(ResourceType::as_str);
                    let hint = match did_you_mean(&type_label, names) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!("decom knows {}, or \"*\" for any type", list(&names)),
                    };
                    self.error(Diagnostic::error(err.to_string(), Some(at)).with_hint(hint));
                }
            }
        }

        let reported = self.diagnostics.len();
        let (fields, _) = self.fields(file, &block.body, what, &SELECTOR_ATTRIBUTES, &[]);
        let body_is_clean = self.diagnostics.len() == reported;
        let mut spans = SelectorSpans {
            ids: BTreeMap::new(),
            names: BTreeMap::new(),
        };
        let mut ids = Vec::new();
        if let Some(attr) = fields.get("ids") {
            match self.non_empty_list(file, attr) {
                Some(list) => {
                    spans.ids = self.element_locations(file, attr, &list);
                    ids = list;
                }
                None => ok = false,
            }
        }
        let mut names = Vec::new();
        if let Some(attr) = fields.get("names") {
            match self.non_empty_list(file, attr) {
                Some(list) => {
                    spans.names = self.element_locations(file, attr, &list);
                    names = list;
                }
                None => ok = false,
            }
        }
        let mut regions = Vec::new();
        if let Some(attr) = fields.get("regions") {
            match self.regions(file, attr, RegionUse::Selector) {
                Some(list) => regions = list,
                None => ok = false,
            }
        }
        let mut name_prefix = None;
        if let Some(attr) = fields.get("name_prefix") {
            match self.string(file, attr) {
                Some(prefix) if prefix.is_empty() => {
                    ok = false;
                    let at = self.location(file, attr.value.span());
                    self.error(
                        Diagnostic::error("`name_prefix` is empty", Some(at))
                            .with_hint(EMPTY_PREFIX_HINT),
                    );
                }
                Some(prefix) => name_prefix = Some(prefix),
                None => ok = false,
            }
        }
        let mut name_glob = None;
        if let Some(attr) = fields.get("name_glob") {
            match self.string(file, attr) {
                Some(pattern) => match Glob::new(&pattern) {
                    Ok(glob) => name_glob = Some(glob),
                    Err(err) => {
                        ok = false;
                        let at = self.location(file, attr.value.span());
                        let reason = err.kind().to_string();
                        self.error(
                            Diagnostic::error(
                                format!("invalid glob `{pattern}`: {reason}"),
                                Some(at),
                            )
                            .with_hint("globs use `*`, `?`, `[abc]` and `{a,b}`; see docs/spec.md"),
                        );
                    }
                },
                None => ok = false,
            }
        }
        let mut tags = BTreeMap::new();
        if let Some(attr) = fields.get("tags") {
            match self.string_map(file, attr) {
                Some(map) if map.is_empty() => {
                    ok = false;
                    let at = self.location(file, attr.value.span());
                    self.error(
                        Diagnostic::error("`tags` is empty", Some(at))
                            .with_hint("give at least one tag, or remove the attribute"),
                    );
                }
                Some(map) => tags = map,
                None => ok = false,
            }
        }

        let narrowing = ["ids", "names", "name_prefix", "name_glob", "tags"];
        if !narrowing.iter().any(|name| fields.contains_key(*name)) {
            ok = false;
        }
        // A misspelled attribute already explains why nothing narrows the selector.
        if !narrowing.iter().any(|name| fields.contains_key(*name))
            && body_is_clean
            && label.is_some()
        {
            let every = if type_label == "*" {
                "every resource".to_string()
            } else {
                format!("every `{type_label}`")
            };
            self.error(
                Diagnostic::error(
                    format!("`{kind} \"{type_label}\"` would select {every}"),
                    Some(location.clone()),
                )
                .with_hint(UNNARROWED_HINT),
            );
        }

        ok.then(|| {
            (
                Selector {
                    kind,
                    resource_type,
                    type_label,
                    ids,
                    names,
                    name_prefix,
                    name_glob,
                    tags,
                    regions,
                    location,
                },
                spans,
            )
        })
    }

    /// Where each value of a list attribute was written: its element when the list is
    /// a literal `[...]`, else the whole expression.
    pub(super) fn element_locations(
        &self,
        file: usize,
        attr: &Attribute,
        values: &[String],
    ) -> BTreeMap<String, Location> {
        let mut locations = BTreeMap::new();
        if let Expression::Array(array) = &attr.value {
            for element in array.iter() {
                // Already evaluated once without error; a failure here only loses precision.
                if let Ok(Value::String(value)) = eval::evaluate(element, &self.ctx) {
                    locations
                        .entry(value)
                        .or_insert_with(|| self.location(file, element.span()));
                }
            }
        }
        for value in values {
            if !locations.contains_key(value) {
                locations.insert(value.clone(), self.location(file, attr.value.span()));
            }
        }
        locations
    }

    /// An `absent` naming the same id or name as a `keep` of the same type: `keep`
    /// wins, so the `absent` entry is a contradiction the author should resolve.
    /// Each entry is looked up among the kept ones, not compared with every `keep`.
    fn check_conflicts(
        &mut self,
        absent: &[Selector],
        absent_spans: &[SelectorSpans],
        keep: &[Selector],
        keep_spans: &[SelectorSpans],
    ) {
        // (id or name, value) -> the first `keep` of each type (`None`: "*") naming it.
        let mut kept: BTreeMap<(&str, &str), BTreeMap<Option<ResourceType>, usize>> =
            BTreeMap::new();
        for (index, k) in keep.iter().enumerate() {
            for (what, values) in [("id", &k.ids), ("name", &k.names)] {
                for value in values {
                    kept.entry((what, value.as_str()))
                        .or_default()
                        .entry(k.resource_type)
                        .or_insert(index);
                }
            }
        }
        for (a, a_spans) in absent.iter().zip(absent_spans) {
            for (what, values, spans) in [
                ("id", &a.ids, &a_spans.ids),
                ("name", &a.names, &a_spans.names),
            ] {
                for value in values {
                    let Some(keepers) = kept.get(&(what, value.as_str())) else {
                        continue;
                    };
                    // The first `keep` in the spec that contradicts this entry.
                    let first = match a.resource_type {
                        None => keepers.values().min().copied(),
                        Some(ty) => [keepers.get(&Some(ty)), keepers.get(&None)]
                            .into_iter()
                            .flatten()
                            .min()
                            .copied(),
                    };
                    let Some(index) = first else {
                        continue;
                    };
                    let (k, k_spans) = (&keep[index], &keep_spans[index]);
                    let k_at = if what == "id" {
                        &k_spans.ids
                    } else {
                        &k_spans.names
                    };
                    let (Some(a_at), Some(k_at)) = (spans.get(value), k_at.get(value)) else {
                        continue;
                    };
                    self.error(
                        Diagnostic::error(
                            format!("{what} `{value}` is both absent and kept"),
                            Some(a_at.clone()),
                        )
                        .with_hint(CONFLICT_HINT)
                        .with_note(k_at.clone(), format!("kept by {} here", k.describe())),
                    );
                }
            }
        }
    }
}
