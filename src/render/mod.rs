//! Renderings of the plan model: human text, Markdown for pull requests, DOT and
//! Mermaid graphs. Every rendering reads the same `Plan`, so they never disagree.

mod graph;
mod markdown;
mod text;

pub use graph::{dot, mermaid};
pub use markdown::{MarkdownOptions, markdown};
pub use text::{text, text_steps};
