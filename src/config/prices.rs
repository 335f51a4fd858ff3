//! What a model's tokens cost: the price table shipped in `assets/prices.toml` (each entry
//! with its source and the date it was read), the user's `[prices."provider/model"]`
//! overrides, and the lookup that picks a model's price (the user's entries first, then the
//! shipped ones; within each an exact id, or its dated snapshot, beats the longest `*`
//! prefix). A model with no price has no cost: callers show nothing rather than $0.00.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ModelRef;
use crate::conversation::Usage;

/// The shipped table.
const SHIPPED: &str = include_str!("../../assets/prices.toml");

/// One model's prices in US dollars per million tokens.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Base input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Cache hits, where the provider bills them apart.
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Cache writes, where the provider bills them apart.
    #[serde(default)]
    pub cache_write: Option<f64>,
}

impl Price {
    /// What `usage` costs, in US dollars: cache reads and writes at their own prices where
    /// the table has them, at the input price otherwise.
    pub fn cost(&self, usage: Usage) -> f64 {
        let per_million = usage.fresh_input_tokens() as f64 * self.input
            + usage.cache_read_tokens as f64 * self.cache_read.unwrap_or(self.input)
            + usage.cache_write_tokens as f64 * self.cache_write.unwrap_or(self.input)
            + usage.output_tokens as f64 * self.output;
        per_million / 1_000_000.0
    }

    /// Checks that every figure is a finite, non-negative number.
    fn check(&self) -> Result<(), String> {
        let all = [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
        ];
        for (name, v) in all {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(format!(
                    "`{name}` must be a price in US dollars per million tokens (0 or more), not {v}"
                ));
            }
        }
        Ok(())
    }
}

/// One entry of the shipped table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippedEntry {
    model: String,
    #[serde(flatten)]
    price: Price,
    source: String,
    as_of: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShippedFile {
    model: Vec<ShippedEntry>,
}

/// A priced model id: `provider/model`, or a prefix of such ids ending in `*`.
#[derive(Clone, Debug, PartialEq)]
struct Pattern {
    text: String,
    prefix: bool,
}

impl Pattern {
    fn parse(key: &str) -> Result<Self, String> {
        let (text, prefix) = match key.strip_suffix('*') {
            Some(t) => (t, true),
            None => (key, false),
        };
        if text.contains('*') {
            return Err(format!(
                "`{key}`: `*` may only end the id (`openai/gpt-5*`)"
            ));
        }
        if !prefix {
            ModelRef::parse(text).map_err(|e| format!("`{key}`: {e}"))?;
        } else if !text.contains('/') {
            return Err(format!(
                "`{key}`: name the provider first, e.g. `openai/gpt-5*`"
            ));
        }
        Ok(Self {
            text: text.to_string(),
            prefix,
        })
    }

    /// How well it matches `id` (`provider/model`): `None` when it does not, else higher is
    /// more specific (an exact id or its dated snapshot beats any prefix; a longer prefix beats
    /// a shorter one).
    fn score(&self, id: &str) -> Option<usize> {
        if self.prefix {
            return id.starts_with(&self.text).then_some(self.text.len());
        }
        if id == self.text {
            return Some(usize::MAX);
        }
        let rest = id.strip_prefix(&self.text)?.strip_prefix('-')?;
        is_date(rest).then_some(usize::MAX - 1)
    }
}

/// A snapshot date as providers append them: `20250929` or `2026-03-05`.
fn is_date(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let dashes = s.chars().filter(|&c| c == '-').count();
    digits == 8 && digits + dashes == s.len() && (dashes == 0 || dashes == 2)
}

/// The prices in effect: the user's entries, then the shipped table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prices {
    user: Vec<(Pattern, Price)>,
    shipped: Vec<(Pattern, Price)>,
}

impl Prices {
    /// The shipped table with the user's `[prices]` entries over it; an error names the bad
    /// entry.
    pub fn new(user: &BTreeMap<String, Price>) -> Result<Self, String> {
        let shipped = shipped()?;
        let mut out = Vec::new();
        for (key, price) in user {
            let pattern = Pattern::parse(key)?;
            price.check().map_err(|e| format!("`{key}`: {e}"))?;
            out.push((pattern, price.clone()));
        }
        Ok(Self { user: out, shipped })
    }

    /// The price of `model`, when one is known.
    pub fn lookup(&self, model: &ModelRef) -> Option<&Price> {
        let id = format!("{}/{}", model.provider, model.model);
        best(&self.user, &id).or_else(|| best(&self.shipped, &id))
    }

    /// What `usage` on `model` cost in US dollars: 0 on the local tier (`local`), `None` when
    /// the model's price is unknown (never a made-up $0).
    pub fn cost_of(&self, model: &ModelRef, local: bool, usage: Usage) -> Option<f64> {
        if local {
            return Some(0.0);
        }
        self.lookup(model).map(|p| p.cost(usage))
    }
}

/// The most specific entry of `list` that matches `id`.
fn best<'a>(list: &'a [(Pattern, Price)], id: &str) -> Option<&'a Price> {
    list.iter()
        .filter_map(|(p, price)| p.score(id).map(|s| (s, price)))
        .max_by_key(|(s, _)| *s)
        .map(|(_, price)| price)
}

/// The shipped table, parsed and checked (each entry needs its source and date).
fn shipped() -> Result<Vec<(Pattern, Price)>, String> {
    let file: ShippedFile = toml::from_str(SHIPPED)
        .map_err(|e| format!("the shipped price table is broken: {}", e.message()))?;
    file.model
        .into_iter()
        .map(|e| {
            if !e.source.starts_with("https://") || e.as_of.len() != 10 {
                return Err(format!(
                    "the shipped price of `{}` needs an https source and an as_of date",
                    e.model
                ));
            }
            e.price.check().map_err(|m| format!("`{}`: {m}", e.model))?;
            Ok((Pattern::parse(&e.model)?, e.price))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> ModelRef {
        ModelRef::parse(s).unwrap()
    }

    fn price(input: f64, output: f64) -> Price {
        Price {
            input,
            output,
            cache_read: None,
            cache_write: None,
        }
    }

    #[test]
    fn the_shipped_table_parses_and_prices_the_default_models() {
        let p = Prices::new(&BTreeMap::new()).unwrap();
        let opus = p.lookup(&m("anthropic/claude-opus-4-8")).unwrap();
        assert_eq!((opus.input, opus.output), (5.0, 25.0));
        assert_eq!(p.lookup(&m("openai/gpt-5.5")).map(|p| p.output), Some(30.0));
        // A dated snapshot has the price of its alias; a different model does not.
        assert_eq!(
            p.lookup(&m("anthropic/claude-sonnet-4-5-20250929"))
                .map(|p| p.input),
            Some(3.0)
        );
        assert_eq!(
            p.lookup(&m("openai/gpt-5.4-2026-03-05")).map(|p| p.input),
            Some(2.5)
        );
        assert_eq!(
            p.lookup(&m("anthropic/claude-opus-4-20250514"))
                .map(|p| p.input),
            Some(15.0)
        );
        // `claude-opus-4` must not price Opus 4.9, nor `gemini-2.5-flash` its lite sibling
        // wrongly.
        assert_eq!(p.lookup(&m("anthropic/claude-opus-4-9")), None);
        assert_eq!(
            p.lookup(&m("gemini/gemini-2.5-flash-lite"))
                .map(|p| p.input),
            Some(0.10)
        );
        // Unknown models and providers have no price.
        assert_eq!(p.lookup(&m("openai/gpt-9")), None);
        assert_eq!(p.lookup(&m("work/claude-opus-4-8")), None);
    }

    #[test]
    fn the_users_entries_win_and_the_most_specific_match_wins() {
        let user = BTreeMap::from([
            ("openai/gpt-5*".to_string(), price(1.0, 2.0)),
            ("openai/gpt-5.4-mini*".to_string(), price(0.5, 1.0)),
            ("anthropic/claude-opus-4-8".to_string(), price(3.0, 15.0)),
            ("work/*".to_string(), price(7.0, 8.0)),
        ]);
        let p = Prices::new(&user).unwrap();
        // An override replaces the shipped price.
        assert_eq!(
            p.lookup(&m("anthropic/claude-opus-4-8")),
            Some(&price(3.0, 15.0))
        );
        // The user's prefix beats the shipped exact entry; the longer prefix beats the shorter.
        assert_eq!(p.lookup(&m("openai/gpt-5.5")), Some(&price(1.0, 2.0)));
        assert_eq!(p.lookup(&m("openai/gpt-5.4-mini")), Some(&price(0.5, 1.0)));
        // A provider of the user's own gets its price; others still use the shipped table.
        assert_eq!(p.lookup(&m("work/anything")), Some(&price(7.0, 8.0)));
        assert_eq!(
            p.lookup(&m("anthropic/claude-haiku-4-5")).map(|p| p.input),
            Some(1.0)
        );
    }

    #[test]
    fn cost_is_tokens_times_the_price_per_million() {
        let c = price(5.0, 25.0).cost(Usage {
            input_tokens: 100,
            output_tokens: 20,
            ..Usage::default()
        });
        assert!((c - 0.001).abs() < 1e-12, "{c}");
    }

    #[test]
    fn cache_reads_and_writes_cost_their_own_price_or_the_input_price() {
        let usage = Usage {
            input_tokens: 1_000_000 + 2_000_000 + 500_000,
            output_tokens: 100_000,
            cache_read_tokens: 2_000_000,
            cache_write_tokens: 500_000,
        };
        let p = Price {
            cache_read: Some(0.5),
            cache_write: Some(6.25),
            ..price(5.0, 25.0)
        };
        // 1M fresh at $5, 2M read at $0.50, 0.5M written at $6.25, 0.1M out at $25.
        let c = p.cost(usage);
        assert!((c - (5.0 + 1.0 + 3.125 + 2.5)).abs() < 1e-9, "{c}");
        // No cache prices in the table: every prompt token at the input price.
        let c = price(5.0, 25.0).cost(usage);
        assert!((c - (3.5 * 5.0 + 2.5)).abs() < 1e-9, "{c}");
    }

    #[test]
    fn bad_entries_are_refused_with_the_key() {
        let bad =
            |k: &str, p: Price| Prices::new(&BTreeMap::from([(k.to_string(), p)])).unwrap_err();
        assert!(bad("gpt-5", price(1.0, 1.0)).contains("provider/model"));
        assert!(bad("openai/*gpt", price(1.0, 1.0)).contains("may only end"));
        let e = bad("openai/gpt-5", price(-1.0, 1.0));
        assert!(e.contains("`openai/gpt-5`") && e.contains("input"), "{e}");
        assert!(bad("openai/gpt-5", price(1.0, f64::NAN)).contains("output"));
    }
}
