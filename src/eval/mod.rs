//! Evals: a team's own checks run on every model of a route, so it knows before an outage
//! whether its fallbacks can do the job. `file` reads eval files (`.aiw/evals/*.toml`) into
//! cases and checks, with errors that name the file and line; `check` runs the checks on an
//! answer (text, tool calls, latency; code blocks through a command with a time limit);
//! `store` keeps each model's last score and every run's results in the state dir, where
//! `aiw status`, the router's `[health] min_eval_score` and fallback notices read them.
//!
//! Running the cases (concurrency, progress, reports) is `commands/eval`.

pub mod check;
pub mod file;
pub mod store;

pub use check::{CheckOutcome, Observed};
pub use file::{Case, Check, EvalError, EvalFile};
pub use store::{Score, Scores};
