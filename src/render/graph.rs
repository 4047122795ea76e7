//! The step graph as DOT (Graphviz) and Mermaid, for `decom graph`.

use std::fmt::Write;

use crate::plan::{Change, Plan};

fn label(step: &crate::plan::PlanStep) -> String {
    let name = if step.name.is_empty() {
        &step.id
    } else {
        &step.name
    };
    format!("{} {}\\n{}", step.action.name(), step.ty, name)
}

pub fn dot(plan: &Plan) -> String {
    let mut out = String::from(
        "digraph decom {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for step in &plan.steps {
        let color = match step.change {
            Change::Destroy => "firebrick",
            Change::Update => "goldenrod",
        };
        let _ = writeln!(
            out,
            "  s{} [label=\"{}\", color={color}];",
            step.order,
            label(step).replace('"', "\\\"")
        );
    }
    for step in &plan.steps {
        for dep in &step.depends_on {
            let _ = writeln!(out, "  s{dep} -> s{};", step.order);
        }
    }
    out.push_str("}\n");
    out
}

pub fn mermaid(plan: &Plan) -> String {
    let mut out = String::from("flowchart LR\n");
    for step in &plan.steps {
        let text = label(step).replace("\\n", "<br/>").replace('"', "#quot;");
        let _ = writeln!(out, "  s{}[\"{text}\"]", step.order);
    }
    for step in &plan.steps {
        for dep in &step.depends_on {
            let _ = writeln!(out, "  s{dep} --> s{}", step.order);
        }
    }
    out
}
