//! The bundled examples behind `decom plan --example`: fixtures compiled into the
//! binary, so the first command of the README needs no AWS account and no files.

use super::args::Example;

/// (name, spec text, snapshot JSON)
pub fn files(example: Example) -> (&'static str, &'static str, &'static str) {
    match example {
        Example::EcsStory => (
            "ecs-story-5.8",
            include_str!("../../fixtures/ecs-story-5.8/spec-optin/main.hcl"),
            include_str!("../../fixtures/ecs-story-5.8/inventory.json"),
        ),
        Example::EcsStoryBlocked => (
            "ecs-story-5.8-blocked",
            include_str!("../../fixtures/ecs-story-5.8/spec/main.hcl"),
            include_str!("../../fixtures/ecs-story-5.8/inventory.json"),
        ),
        Example::OtelTelemetry => (
            "otel-telemetry",
            include_str!("../../fixtures/otel-telemetry/spec/main.hcl"),
            include_str!("../../fixtures/otel-telemetry/inventory.json"),
        ),
        Example::Tricky => (
            "tricky",
            include_str!("../../fixtures/tricky/spec-optin/main.hcl"),
            include_str!("../../fixtures/tricky/inventory.json"),
        ),
    }
}
