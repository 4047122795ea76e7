//! The binary's reporters: indicatif bars on a terminal, plain lines otherwise,
//! NDJSON with `-json`. The engine only sees the traits.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use decom::apply::{ApplyEvent, ApplyReporter};
use decom_provider::{DiscoveryProgress, Service};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether progress bars may be drawn: stderr is a terminal and nobody said no.
pub fn bars_wanted(no_progress: bool) -> bool {
    !no_progress && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

pub enum ApplyProgress {
    Json,
    Lines { total: usize, done: Mutex<usize> },
    Bars(Bars),
}

pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    running: Mutex<BTreeMap<usize, ProgressBar>>,
}

impl ApplyProgress {
    pub fn new(json: bool, bars: bool, total: usize) -> ApplyProgress {
        if json {
            ApplyProgress::Json
        } else if bars {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} steps {msg}",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            ApplyProgress::Bars(Bars {
                multi,
                overall,
                running: Mutex::new(BTreeMap::new()),
            })
        } else {
            ApplyProgress::Lines {
                total,
                done: Mutex::new(0),
            }
        }
    }

    pub fn finish(&self) {
        if let ApplyProgress::Bars(bars) = self {
            bars.overall.finish_and_clear();
            let _ = bars.multi.clear();
        }
    }
}

impl ApplyReporter for ApplyProgress {
    fn on_event(&self, event: &ApplyEvent) {
        match self {
            ApplyProgress::Json => {
                let line = serde_json::to_string(event).expect("event serializes");
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
            }
            ApplyProgress::Lines { total, done } => {
                let line = match event {
                    ApplyEvent::ArchiveStarted { .. } | ApplyEvent::ArchiveFinished { .. } => {
                        archive_line(event)
                    }
                    ApplyEvent::StepStarted {
                        order,
                        address,
                        action,
                    } => Some(format!("[{order}] {address}: {action}...")),
                    ApplyEvent::StepWaiting {
                        order,
                        address,
                        condition,
                    } => Some(format!("[{order}] {address}: waiting until {condition}")),
                    ApplyEvent::StepRetrying {
                        order,
                        address,
                        code,
                        attempt,
                    } => Some(format!("[{order}] {address}: {code}, retry {attempt}")),
                    ApplyEvent::StepCompleted {
                        order,
                        address,
                        action,
                        duration_ms,
                        already_gone,
                        ..
                    } => {
                        let mut n = done.lock().expect("lock");
                        *n += 1;
                        let gone = if *already_gone { " (already gone)" } else { "" };
                        Some(format!(
                            "[{order}] {address}: {action} done in {duration_ms} ms{gone} ({n}/{total})"
                        ))
                    }
                    ApplyEvent::StepFailed {
                        order,
                        address,
                        action,
                        error,
                    } => Some(format!("[{order}] {address}: {action} FAILED: {error}")),
                    ApplyEvent::StepSkipped {
                        order,
                        address,
                        cause,
                        ..
                    } => Some(format!(
                        "[{order}] {address}: skipped, because step {cause} failed"
                    )),
                    ApplyEvent::Summary { .. } => None,
                };
                if let Some(line) = line {
                    eprintln!("{line}");
                }
            }
            ApplyProgress::Bars(bars) => bars.on_event(event),
        }
    }
}

impl Bars {
    fn on_event(&self, event: &ApplyEvent) {
        let mut running = self.running.lock().expect("lock");
        match event {
            ApplyEvent::ArchiveStarted { .. } | ApplyEvent::ArchiveFinished { .. } => {
                if let Some(line) = archive_line(event) {
                    let _ = self.multi.println(line);
                }
            }
            ApplyEvent::StepStarted {
                order,
                address,
                action,
            } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} [{elapsed}] {msg}")
                        .expect("template"),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(format!("{action} {address}"));
                running.insert(*order, bar);
            }
            ApplyEvent::StepWaiting {
                order,
                address,
                condition,
            } => {
                if let Some(bar) = running.get(order) {
                    bar.set_message(format!("{address}: waiting until {condition}"));
                }
            }
            ApplyEvent::StepRetrying {
                order,
                address,
                code,
                attempt,
            } => {
                if let Some(bar) = running.get(order) {
                    bar.set_message(format!("{address}: {code}, retry {attempt}"));
                }
            }
            ApplyEvent::StepCompleted { order, .. } => {
                if let Some(bar) = running.remove(order) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.overall.inc(1);
            }
            ApplyEvent::StepFailed {
                order,
                address,
                error,
                ..
            } => {
                if let Some(bar) = running.remove(order) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let _ = self.multi.println(format!("FAILED {address}: {error}"));
                self.overall.inc(1);
            }
            ApplyEvent::StepSkipped { address, cause, .. } => {
                let _ = self
                    .multi
                    .println(format!("skipped {address} (step {cause} failed)"));
                self.overall.inc(1);
            }
            ApplyEvent::Summary { .. } => {}
        }
    }
}

/// What the archive phase before the first step says, for people.
fn archive_line(event: &ApplyEvent) -> Option<String> {
    match event {
        ApplyEvent::ArchiveStarted { resources } => Some(format!(
            "archiving {resources} resources before the first change..."
        )),
        ApplyEvent::ArchiveFinished {
            archived,
            gone,
            left_to_steps,
            duration_ms,
        } => {
            let mut line = format!("archived {archived} resources in {duration_ms} ms");
            if *gone > 0 {
                line.push_str(&format!(", {gone} already gone"));
            }
            if *left_to_steps > 0 {
                line.push_str(&format!(
                    ", {left_to_steps} not yet (each is archived by its first step, or that step fails)"
                ));
            }
            Some(line)
        }
        _ => None,
    }
}

/// One spinner per service and region while discovery runs.
pub struct DiscoveryBars {
    multi: MultiProgress,
    bars: Mutex<BTreeMap<(Service, String), ProgressBar>>,
}

impl DiscoveryBars {
    pub fn new() -> DiscoveryBars {
        DiscoveryBars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn finish(&self) {
        let _ = self.multi.clear();
    }
}

impl DiscoveryProgress for DiscoveryBars {
    fn started(&self, service: Service, region: &str) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} [{elapsed}] {msg}").expect("template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(format!("discovering {service} in {region}"));
        self.bars
            .lock()
            .expect("lock")
            .insert((service, region.to_string()), bar);
    }

    fn finished(&self, service: Service, region: &str, resources: usize) {
        if let Some(bar) = self
            .bars
            .lock()
            .expect("lock")
            .remove(&(service, region.to_string()))
        {
            bar.finish_with_message(format!("{service} in {region}: {resources} resources"));
        }
    }
}
