//! The plan as pull-request comments: the conventions PR tooling already reads
//! (Atlantis): the steps in a ```diff fence (`-` destroy, `!` for Terraform's `~`, so
//! GitHub colours both), folded in `<details>` past 12 lines, the `Plan:` line,
//! blockers and orphans outside the fold, split into numbered parts that each fit
//! in one comment.

use std::fmt::Write;

use super::text::text_steps;
use crate::plan::{NotApplyable, Plan};

/// GitHub's limit for one comment body.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Longer than this, the steps are folded.
const FOLD_AFTER_LINES: usize = 12;

#[derive(Debug, Clone, Copy)]
pub struct MarkdownOptions {
    /// Each part is strictly shorter than this many characters.
    pub max_comment_chars: usize,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            max_comment_chars: GITHUB_COMMENT_LIMIT,
        }
    }
}

/// The comment parts, in order. A plan that fits in one comment is one part.
pub fn markdown(plan: &Plan, options: MarkdownOptions) -> Vec<String> {
    let head = head(plan);
    let diff: Vec<String> = text_steps(plan).lines().map(diff_line).collect();
    let fold = diff.len() > FOLD_AFTER_LINES;
    let summary = format!(
        "Show the {} step(s) in {} wave(s)",
        plan.summary.steps, plan.summary.waves
    );
    let open = |part: usize, parts: usize| {
        let mut s = String::new();
        if parts > 1 && part > 1 {
            let _ = writeln!(
                s,
                "### decom plan `{}` (part {part} of {parts})\n",
                plan.decommission
            );
        }
        if fold {
            let title = if parts > 1 {
                format!("{summary} (part {part} of {parts})")
            } else {
                summary.clone()
            };
            let _ = writeln!(s, "<details><summary>{title}</summary>\n");
        }
        s.push_str("```diff\n");
        s
    };
    let close = if fold { "```\n\n</details>\n" } else { "```\n" };

    if diff.is_empty() {
        return vec![head];
    }
    // Try one part; otherwise split the diff lines over as many parts as needed.
    for parts in 1.. {
        let budget_first = options
            .max_comment_chars
            .saturating_sub(head.len() + open(1, parts).len() + close.len() + 2);
        let budget_rest = options
            .max_comment_chars
            .saturating_sub(open(parts.max(2), parts).len() + close.len() + 2);
        if budget_first < 16 || budget_rest < 16 {
            // The limit is too small to hold even the head: send it whole.
            break;
        }
        let chunks = chunk_lines(&diff, budget_first, budget_rest);
        if chunks.len() <= parts {
            let total = chunks.len();
            return chunks
                .into_iter()
                .enumerate()
                .map(|(i, body)| {
                    let mut s = String::new();
                    if i == 0 {
                        s.push_str(&head);
                        s.push('\n');
                    }
                    s.push_str(&open(i + 1, total));
                    s.push_str(&body);
                    s.push_str(close);
                    s
                })
                .collect();
        }
    }
    let mut whole = head;
    whole.push('\n');
    whole.push_str(&open(1, 1));
    for line in &diff {
        whole.push_str(line);
        whole.push('\n');
    }
    whole.push_str(close);
    vec![whole]
}

/// Everything outside the fold: title, status, `Plan:` line, blockers, orphans.
fn head(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### decom plan `{}`: account {} ({})\n",
        plan.decommission,
        plan.account_id,
        plan.regions.join(", ")
    );
    let status = match plan.not_applyable_because().first() {
        None => "**Applyable.**".to_string(),
        Some(NotApplyable::OrphansFail(_)) => {
            "**Not applyable**: orphans found and `orphans = \"fail\"`.".to_string()
        }
        Some(why) => format!("**Not applyable**: {why}."),
    };
    let _ = writeln!(s, "{status}\n");
    let _ = writeln!(s, "{}\n", plan.summary_line());
    if !plan.blockers.is_empty() {
        s.push_str("#### Blockers\n\n");
        for b in &plan.blockers {
            let _ = writeln!(
                s,
                "- `{}` is blocked by `{}`: {}  \n  path: `{}`  \n  hint: {}",
                b.address,
                b.blocked_by.address,
                b.reason,
                b.path.join(" -> "),
                b.hint
            );
        }
        s.push('\n');
    }
    if !plan.orphans.is_empty() {
        s.push_str("#### Orphans\n\n");
        for o in &plan.orphans {
            let fate = if o.deleted {
                "deleted by this plan"
            } else {
                "left in place"
            };
            let _ = writeln!(s, "- `{}` ({fate}): {}", o.address, o.reason);
        }
        s.push('\n');
    }
    if let Some(first) = plan.deferred.first() {
        let _ = writeln!(
            s,
            "Deferred until `{}`: apply does nothing before then.\n",
            first.until
        );
    }
    for warning in &plan.warnings {
        let _ = writeln!(s, "> Warning: {warning}\n");
    }
    s
}

/// Moves the change symbol to column 0 where diff highlighting looks for it.
fn diff_line(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("  - ") {
        format!("- {rest}")
    } else if let Some(rest) = line.strip_prefix("  ~ ") {
        format!("! {rest}")
    } else {
        line.to_string()
    }
}

/// Greedy split of lines into chunks under the budgets (the first chunk shares its
/// comment with the head). A line longer than a budget is cut.
fn chunk_lines(lines: &[String], first: usize, rest: usize) -> Vec<String> {
    let mut chunks = vec![String::new()];
    for line in lines {
        let mut remaining: &str = line;
        loop {
            let budget = if chunks.len() == 1 { first } else { rest };
            let current = chunks.last_mut().expect("one chunk");
            let room = budget.saturating_sub(current.len());
            if remaining.len() < room {
                current.push_str(remaining);
                current.push('\n');
                break;
            }
            if current.is_empty() {
                let cut = floor_char_boundary(remaining, budget.saturating_sub(1));
                current.push_str(&remaining[..cut]);
                current.push('\n');
                remaining = &remaining[cut..];
                if remaining.is_empty() {
                    break;
                }
            }
            chunks.push(String::new());
        }
    }
    chunks.retain(|c| !c.is_empty());
    chunks
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    index = index.min(s.len());
    while index > 0 && !s.is_char_boundary(index) {
        index -= 1;
    }
    index.max(1)
}
