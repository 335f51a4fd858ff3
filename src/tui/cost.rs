//! What the chat's answers cost, in US dollars, where the price of the model that answered is
//! known (`config::Prices`; the local tier is free): per answer next to its tokens, and for the
//! session in `/status`. An answer whose price is unknown has no cost (never shown as $0.00),
//! and the session total says how many answers it leaves out.

use super::app::App;
use super::session::AnswerRecord;

/// What one answer cost, when its model's price is known: its usage at the price of the model
/// that finished it (the local tier costs 0).
pub fn answer_cost(app: &App, a: &AnswerRecord) -> Option<f64> {
    app.prices
        .cost_of(&a.model, app.is_local(&a.model), a.usage)
}

/// The session's cost so far: the sum over the answers with a known price, how many those
/// are, and how many answers there are. `None` when no answer has a known price.
pub fn session_cost(app: &App) -> Option<(f64, usize, usize)> {
    let answers: Vec<&AnswerRecord> = app
        .session
        .turns
        .iter()
        .filter_map(|t| t.answer.as_ref())
        .collect();
    let costs: Vec<f64> = answers.iter().filter_map(|a| answer_cost(app, a)).collect();
    if costs.is_empty() {
        return None;
    }
    Some((costs.iter().sum(), costs.len(), answers.len()))
}

/// A cost as shown: `$0`, `$0.0012` under a dime, `$1.23` from there.
pub fn usd(c: f64) -> String {
    if c == 0.0 {
        "$0".into()
    } else if c < 0.1 {
        format!("${c:.4}")
    } else {
        format!("${c:.2}")
    }
}

/// The session cost as `/status` says it: `$0.0123`, or `$0.0123 (2 of 3 answers priced)`.
pub fn session_line(app: &App) -> Option<String> {
    let (total, priced, all) = session_cost(app)?;
    Some(if priced == all {
        usd(total)
    } else {
        format!("{} ({priced} of {all} answers priced)", usd(total))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::Prices;
    use crate::tui::app::Msg;
    use crate::tui::app::tests::update;
    use crate::tui::app::tests::{GPT, LOCAL, OPUS, answer, ask, test_app};

    fn answered(app: &mut App, model: &str) {
        let id = ask(app, "hi");
        update(
            app,
            Msg::Finished {
                id,
                result: Ok(answer(model, "hello", false)),
            },
        );
    }

    #[test]
    fn answers_cost_their_tokens_at_the_models_price_and_local_is_free() {
        let mut app = test_app();
        app.prices = Prices::new(&BTreeMap::new()).unwrap();
        answered(&mut app, OPUS);
        answered(&mut app, LOCAL);
        answered(&mut app, "gemini/gemini-9-unknown");
        let costs: Vec<Option<f64>> = app
            .session
            .turns
            .iter()
            .map(|t| answer_cost(&app, t.answer.as_ref().unwrap()))
            .collect();
        // 100 in at $5/M + 20 out at $25/M; local 0; the unknown model has none.
        assert_eq!(costs.len(), 3);
        assert!((costs[0].unwrap() - 0.001).abs() < 1e-12);
        assert_eq!(costs[1], Some(0.0));
        assert_eq!(costs[2], None);
        assert_eq!(
            session_line(&app).as_deref(),
            Some("$0.0010 (2 of 3 answers priced)")
        );
        answered(&mut app, GPT);
        // + 100 at $5/M + 20 at $30/M = $0.0011.
        assert_eq!(
            session_line(&app).as_deref(),
            Some("$0.0021 (3 of 4 answers priced)")
        );
    }

    #[test]
    fn without_any_known_price_there_is_no_cost_at_all() {
        let mut app = test_app();
        answered(&mut app, OPUS);
        assert_eq!(session_line(&app), None);
    }

    #[test]
    fn costs_read_as_dollars() {
        assert_eq!(usd(0.0), "$0");
        assert_eq!(usd(0.00123), "$0.0012");
        assert_eq!(usd(1.234), "$1.23");
    }
}
