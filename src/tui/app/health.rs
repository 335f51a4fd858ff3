//! What the chat knows about the models' health: the health map the router reports, the
//! failover banner worded from it (and ended when the model recovers), and the rolling
//! session summary asked for in the background after a cloud answer.

use crate::config::{ModelRef, SummarySettings};
use crate::router::{HealthState, ModelHealth};
use crate::tui::session::summary::RollingSummary;

use super::{App, Banner, Effect, Failed, Level};

impl App {
    /// Health state of a model (unknown when never reported).
    pub fn health_of(&self, m: &ModelRef) -> HealthState {
        self.health
            .get(&m.to_string())
            .map_or(HealthState::Unknown, |h| h.state)
    }

    /// The banner for `f`, worded from the health state of the model that failed: down while
    /// its breaker is open, otherwise failed (or degraded) but still in rotation.
    pub(super) fn failure_banner(&self, f: Failed) -> Banner {
        let (from, to) = (&f.model, &f.instead);
        let why = f
            .why
            .as_deref()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        let mut how = if self.is_local(to) {
            format!("answering locally with {to}")
        } else {
            format!("answering with {to}")
        };
        if let Some(score) = self.evals.get(&to.to_string()) {
            how = format!("{how} ({score})");
        }
        let text = match self.health_of(from) {
            HealthState::Open | HealthState::Probing => {
                format!("{from} is down{why}: {how}")
            }
            HealthState::Degraded => format!("{from} is degraded{why}: {how}"),
            HealthState::Healthy | HealthState::Unknown => format!("{from} failed{why}: {how}"),
        };
        Banner {
            text,
            level: Level::Warn,
            about: Some(f),
        }
    }

    /// Keeps a rolling summary of the session with `model` (see `session::summary`).
    pub fn with_summariser(&mut self, cfg: SummarySettings, model: ModelRef) {
        self.summariser = Some((cfg, model));
    }

    /// Starts a background summary when one is due: only after an answer from a cloud model
    /// (one is healthy), and never two at once.
    pub(super) fn maybe_summarise(&mut self, answered_by: Option<&ModelRef>) -> Option<Effect> {
        let (cfg, model) = self.summariser.as_ref()?;
        if self.summarising || answered_by.is_none_or(|m| self.is_local(m)) {
            return None;
        }
        if !crate::session::summary::due(&self.session, cfg) {
            return None;
        }
        let (request, turns) = crate::session::summary::request(&self.session)?;
        self.summarising = true;
        Some(Effect::Summarise {
            model: model.clone(),
            request,
            turns,
        })
    }
}

/// New health from the router: the banner follows it, and goes when its model recovers.
pub(super) fn on_health(app: &mut App, list: Vec<ModelHealth>) -> Vec<Effect> {
    app.health = list.into_iter().map(|h| (h.model.to_string(), h)).collect();
    if let Some(f) = app.banner.as_ref().and_then(|b| b.about.clone()) {
        if app.health_of(&f.model) == HealthState::Healthy {
            app.banner = None;
            app.flash(
                format!("{} recovered: back in rotation", f.model),
                Level::Info,
            );
        } else {
            app.banner = Some(app.failure_banner(f));
        }
    }
    Vec::new()
}

/// A background summary ended.
pub(super) fn on_summarised(app: &mut App, result: Result<RollingSummary, String>) -> Vec<Effect> {
    app.summarising = false;
    match result {
        // A `/clear` while it ran makes it a summary of turns that are gone.
        Ok(s) if s.turns <= app.session.turns.len() => {
            app.tokens += s.usage.input_tokens + s.usage.output_tokens;
            app.note(crate::session::summary::describe(&s), Level::Info);
            app.session.summary = Some(s.clone());
            vec![Effect::SaveSummary(Box::new(s))]
        }
        Ok(_) => Vec::new(),
        Err(e) => {
            app.note(
                format!("the session summary was not updated: {e}"),
                Level::Info,
            );
            Vec::new()
        }
    }
}
