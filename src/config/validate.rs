//! The allowed range of every number and duration a config file can hold, the checks that
//! turn a raw file value into a typed one (used at parse time for every file, and again when
//! settings are resolved), sanity limits on names, URLs and lists, the size cap on config
//! files, and the shortening of quoted values in messages so that no error echoes a huge value.

use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

use super::ConfigError;
use super::file::{FileConfig, GpuLayersFile, ProviderFile};
use crate::config::ModelRef;

/// Largest config file read (user or project): real ones are a few KiB.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Longest quoted value echoed in a message, in characters.
const MAX_QUOTED_CHARS: usize = 80;

/// Longest message built from file content, in characters.
const MAX_MESSAGE_CHARS: usize = 600;

/// The allowed range of a duration setting.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DurationRange {
    min: Duration,
    max: Duration,
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// `[timeouts] connect`.
pub(crate) const CONNECT: DurationRange = DurationRange {
    min: ms(10),
    max: ms(300_000),
};
/// `[timeouts] first_token` and `stall`.
pub(crate) const STREAM_WAIT: DurationRange = DurationRange {
    min: ms(10),
    max: ms(HOUR * 1000),
};
/// `[timeouts] total`.
pub(crate) const TOTAL: DurationRange = DurationRange {
    min: ms(100),
    max: ms(DAY * 1000),
};
/// `[health] window`.
pub(crate) const WINDOW: DurationRange = DurationRange {
    min: ms(1000),
    max: ms(DAY * 1000),
};
/// `[health] base_open` and `max_open`.
pub(crate) const OPEN: DurationRange = DurationRange {
    min: ms(10),
    max: ms(7 * DAY * 1000),
};
/// `[health] max_retry_wait`.
pub(crate) const RETRY_WAIT: DurationRange = DurationRange {
    min: ms(0),
    max: ms(HOUR * 1000),
};
/// `[health] probe_timeout`.
pub(crate) const PROBE: DurationRange = DurationRange {
    min: ms(10),
    max: ms(HOUR * 1000),
};

/// `[health] failure_threshold`.
pub(crate) const FAILURE_THRESHOLD: RangeInclusive<i64> = 1..=1_000_000;
/// `[health] retry_budget_per_minute`.
pub(crate) const RETRY_BUDGET: RangeInclusive<i64> = 0..=100_000;
/// `[health] failure_rate`.
pub(crate) const FAILURE_RATE: RangeInclusive<f64> = 0.001..=1.0;
/// `[health] latency_factor`.
pub(crate) const LATENCY_FACTOR: RangeInclusive<f64> = 1.0..=1000.0;
/// `[health] quality_failure_threshold` (0 = off).
pub(crate) const QUALITY_THRESHOLD: RangeInclusive<i64> = 0..=1_000_000;
/// `[health] min_output_ratio`.
pub(crate) const OUTPUT_RATIO: RangeInclusive<f64> = 0.0..=1.0;
/// `[providers.NAME] context_window`.
pub(crate) const CONTEXT_WINDOW: RangeInclusive<i64> = 256..=100_000_000;
/// `[providers.local] threads`.
pub(crate) const THREADS: RangeInclusive<i64> = 1..=1024;
/// `[providers.local] context_size`.
pub(crate) const CONTEXT_SIZE: RangeInclusive<i64> = 128..=10_000_000;
/// `[providers.local] batch_size`.
pub(crate) const BATCH_SIZE: RangeInclusive<i64> = 1..=1_000_000;
/// `[providers.local] gpu_layers` as a number.
pub(crate) const GPU_LAYERS: RangeInclusive<i64> = 0..=100_000;
/// `[review] concurrency`.
pub(crate) const CONCURRENCY: RangeInclusive<i64> = 1..=64;
/// `[review] max_chunks`.
pub(crate) const MAX_CHUNKS: RangeInclusive<i64> = 1..=100_000;
/// `[review] queue_max_attempts`.
pub(crate) const QUEUE_ATTEMPTS: RangeInclusive<i64> = 1..=1000;
/// `[gateway] max_body_mib`.
pub(crate) const GATEWAY_BODY_MIB: RangeInclusive<i64> = 1..=1024;
/// `[gateway] max_streams`.
pub(crate) const GATEWAY_STREAMS: RangeInclusive<i64> = 1..=4096;

/// Longest URL, model name, glob or name in a file.
const MAX_URL: usize = 2048;
const MAX_MODEL: usize = 4096;
const MAX_NAME: usize = 128;
const MAX_GLOB: usize = 1024;
/// Most entries in one list or table.
const MAX_ITEMS: usize = 1000;

/// Shortens `s` for a message: at most 80 characters (then `…`), control characters
/// (terminal escapes included) replaced by `�`.
pub fn clip(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_QUOTED_CHARS)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if s.chars().nth(MAX_QUOTED_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// A message that may quote file content (a parser's, or one of ours): every backtick-quoted
/// part is shortened with [`clip`], control characters are replaced, and the whole is at most
/// 600 characters, so a 100 MB value never reaches the terminal.
pub(crate) fn shorten(message: &str) -> String {
    let parts: Vec<String> = message
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                clip(part)
            } else {
                part.chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .collect()
            }
        })
        .collect();
    let joined = parts.join("`");
    if joined.chars().count() <= MAX_MESSAGE_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push('…');
    cut
}

fn invalid(path: &Path, key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        what: key.to_string(),
        message,
    }
}

fn human(d: Duration) -> String {
    if d.is_zero() {
        "0s".into()
    } else {
        humantime::format_duration(d).to_string()
    }
}

/// Parses a duration setting and checks it is within `range`.
pub(crate) fn duration(
    path: &Path,
    key: &str,
    raw: &str,
    range: DurationRange,
) -> Result<Duration, ConfigError> {
    let allowed = format!(
        "use a duration from {} to {}, e.g. \"30s\"",
        human(range.min),
        human(range.max)
    );
    let d = match super::parse_duration(raw) {
        Ok(d) => d,
        // A number too large for a duration (`1e20`) is out of range like any other.
        Err(_) if raw.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            return Err(invalid(
                path,
                key,
                format!("= `{raw}` is out of range: {allowed}"),
            ));
        }
        Err(_) => {
            return Err(invalid(
                path,
                key,
                format!("= `{raw}` is not a duration: {allowed}"),
            ));
        }
    };
    if d < range.min || d > range.max {
        return Err(invalid(
            path,
            key,
            format!("= `{raw}` is out of range: {allowed}"),
        ));
    }
    Ok(d)
}

/// Checks a whole number setting and converts it to its type.
pub(crate) fn int<T: TryFrom<i64>>(
    path: &Path,
    key: &str,
    v: i64,
    range: RangeInclusive<i64>,
) -> Result<T, ConfigError> {
    let err = || {
        invalid(
            path,
            key,
            format!(
                "= {v} is out of range: use a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )
    };
    if !range.contains(&v) {
        return Err(err());
    }
    T::try_from(v).map_err(|_| err())
}

/// Checks a number setting: finite and within `range`.
pub(crate) fn float(
    path: &Path,
    key: &str,
    v: f64,
    range: RangeInclusive<f64>,
) -> Result<f64, ConfigError> {
    if v.is_finite() && range.contains(&v) {
        return Ok(v);
    }
    Err(invalid(
        path,
        key,
        format!(
            "= {v} is out of range: use a number from {} to {}",
            range.start(),
            range.end()
        ),
    ))
}

fn url(path: &Path, key: &str, u: &str) -> Result<(), ConfigError> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    if u.len() > MAX_URL {
        return Err(invalid(
            path,
            key,
            format!(
                "is {} bytes long: a URL may have at most {MAX_URL}",
                u.len()
            ),
        ));
    }
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace) => {
            Ok(())
        }
        _ => Err(invalid(
            path,
            key,
            format!("`{u}` is not an http(s) URL, e.g. \"https://api.example.com/v1\""),
        )),
    }
}

fn name(path: &Path, key: &str, n: &str, what: &str) -> Result<(), ConfigError> {
    if n.is_empty() || n.chars().count() > MAX_NAME {
        return Err(invalid(
            path,
            key,
            format!(
                "has a {what} of {} characters: use 1 to {MAX_NAME}",
                n.chars().count()
            ),
        ));
    }
    Ok(())
}

fn count(path: &Path, key: &str, n: usize) -> Result<(), ConfigError> {
    if n > MAX_ITEMS {
        return Err(invalid(
            path,
            key,
            format!("has {n} entries: at most {MAX_ITEMS} are allowed"),
        ));
    }
    Ok(())
}

fn env_var_name(path: &Path, key: &str, v: &str) -> Result<(), ConfigError> {
    let mut chars = v.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && v.len() <= MAX_NAME;
    if ok {
        Ok(())
    } else {
        Err(invalid(
            path,
            key,
            format!("`{v}` is not an environment variable name, e.g. \"OPENROUTER_API_KEY\""),
        ))
    }
}

/// A region or location name (`us-east-1`, `us-east5`, `global`): what goes into a host name.
pub(crate) fn is_region(r: &str) -> bool {
    (1..=64).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The formats of the Bedrock and Vertex settings; which kinds may use them is checked once
/// the files are merged (`Settings::resolve`), when the kind is known.
fn cloud_fields(path: &Path, n: &str, p: &ProviderFile) -> Result<(), ConfigError> {
    let key = |f: &str| format!("providers.{n}.{f}");
    if let Some(r) = &p.region
        && !is_region(r)
    {
        return Err(invalid(
            path,
            &key("region"),
            format!(
                "`{r}` is not a region name, e.g. \"us-east-1\" (AWS) or \"us-east5\" / \"global\" (Google Cloud)"
            ),
        ));
    }
    if let Some(pr) = &p.project
        && !((1..=MAX_NAME).contains(&pr.len())
            && pr
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'_')))
    {
        return Err(invalid(
            path,
            &key("project"),
            format!("`{pr}` is not a Google Cloud project id, e.g. \"my-project-123\""),
        ));
    }
    if let Some(pf) = &p.profile
        && (pf.is_empty()
            || pf.chars().count() > MAX_NAME
            || pf.chars().any(|c| c.is_control() || c == '[' || c == ']'))
    {
        return Err(invalid(
            path,
            &key("profile"),
            format!("`{pf}` is not a profile name of the AWS credentials file, e.g. \"default\""),
        ));
    }
    if let Some(f) = &p.credentials_file
        && (f.trim().is_empty() || f.len() > MAX_MODEL || f.chars().any(char::is_control))
    {
        return Err(invalid(
            path,
            &key("credentials_file"),
            format!("must be a file path of 1 to {MAX_MODEL} bytes"),
        ));
    }
    if let Some(models) = &p.models {
        let k = key("models");
        count(path, &k, models.len())?;
        let bad = |s: &str| {
            s.is_empty()
                || s.len() > MAX_MODEL
                || s.chars().any(|c| c.is_whitespace() || c.is_control())
        };
        if let Some((from, to)) = models.iter().find(|(f, t)| bad(f) || bad(t)) {
            return Err(invalid(
                path,
                &k,
                format!(
                    "maps `{from}` to `{to}`: both must be model ids without spaces, e.g. claude-sonnet-4-6 = \"us.anthropic.claude-sonnet-4-6\""
                ),
            ));
        }
    }
    Ok(())
}

/// Checks every value of a parsed file, so that a bad value is reported with the file that
/// holds it, whether or not that value ends up being used.
pub(crate) fn file(cfg: &FileConfig, path: &Path) -> Result<(), ConfigError> {
    if let Some(r) = &cfg.default_route {
        name(path, "default_route", r, "route name")?;
    }
    count(path, "[providers]", cfg.providers.len())?;
    for (n, p) in &cfg.providers {
        let key = |f: &str| format!("providers.{n}.{f}");
        name(path, &format!("providers.{n}"), n, "provider name")?;
        if let Some(u) = &p.base_url {
            url(path, &key("base_url"), u)?;
        }
        if let Some(u) = &p.status_page {
            url(path, &key("status_page"), u)?;
        }
        if let Some(v) = &p.api_key_env {
            env_var_name(path, &key("api_key_env"), v)?;
        }
        if let Some(m) = &p.model
            && (m.trim().is_empty() || m.len() > MAX_MODEL)
        {
            return Err(invalid(
                path,
                &key("model"),
                format!(
                    "must be a catalogue name, a file name or a path of 1 to {MAX_MODEL} bytes"
                ),
            ));
        }
        if let Some(v) = p.context_window {
            int::<u32>(path, &key("context_window"), v, CONTEXT_WINDOW)?;
        }
        if let Some(v) = p.threads {
            int::<u32>(path, &key("threads"), v, THREADS)?;
        }
        if let Some(v) = p.context_size {
            int::<u32>(path, &key("context_size"), v, CONTEXT_SIZE)?;
        }
        if let Some(v) = p.batch_size {
            int::<u32>(path, &key("batch_size"), v, BATCH_SIZE)?;
        }
        if let Some(GpuLayersFile::Count(v)) = p.gpu_layers {
            int::<u32>(path, &key("gpu_layers"), v, GPU_LAYERS)?;
        }
        cloud_fields(path, n, p)?;
    }
    count(path, "[routes]", cfg.routes.len())?;
    for (n, entries) in &cfg.routes {
        let key = format!("routes.{n}");
        name(path, &key, n, "route name")?;
        count(path, &key, entries.len())?;
        for e in entries {
            if e.len() > MAX_MODEL {
                return Err(invalid(
                    path,
                    &key,
                    format!(
                        "has an entry of {} bytes: a model reference is provider/model-id, at most {MAX_MODEL} bytes",
                        e.len()
                    ),
                ));
            }
            ModelRef::parse(e).map_err(|m| invalid(path, &key, m))?;
        }
    }
    let t = &cfg.timeouts;
    for (f, v, range) in [
        ("connect", &t.connect, CONNECT),
        ("first_token", &t.first_token, STREAM_WAIT),
        ("stall", &t.stall, STREAM_WAIT),
        ("total", &t.total, TOTAL),
    ] {
        if let Some(v) = v {
            duration(path, &format!("timeouts.{f}"), v, range)?;
        }
    }
    let h = &cfg.health;
    if let Some(v) = h.failure_threshold {
        int::<u32>(path, "health.failure_threshold", v, FAILURE_THRESHOLD)?;
    }
    if let Some(v) = h.retry_budget_per_minute {
        int::<u32>(path, "health.retry_budget_per_minute", v, RETRY_BUDGET)?;
    }
    if let Some(v) = h.failure_rate {
        float(path, "health.failure_rate", v, FAILURE_RATE)?;
    }
    if let Some(v) = h.latency_factor {
        float(path, "health.latency_factor", v, LATENCY_FACTOR)?;
    }
    if let Some(v) = h.quality_failure_threshold {
        int::<u32>(
            path,
            "health.quality_failure_threshold",
            v,
            QUALITY_THRESHOLD,
        )?;
    }
    if let Some(v) = h.min_output_ratio {
        float(path, "health.min_output_ratio", v, OUTPUT_RATIO)?;
    }
    if let Some(v) = h.min_eval_score {
        float(path, "health.min_eval_score", v, OUTPUT_RATIO)?;
    }
    for (f, v, range) in [
        ("window", &h.window, WINDOW),
        ("base_open", &h.base_open, OPEN),
        ("max_open", &h.max_open, OPEN),
        ("max_retry_wait", &h.max_retry_wait, RETRY_WAIT),
        ("probe_timeout", &h.probe_timeout, PROBE),
    ] {
        if let Some(v) = v {
            duration(path, &format!("health.{f}"), v, range)?;
        }
    }
    let f = &cfg.fallback;
    for (command, policy) in [("ask", f.ask), ("review", f.review)] {
        if policy == Some(super::FallbackPolicy::Ask) {
            return Err(invalid(
                path,
                &format!("fallback.{command}"),
                format!(
                    "cannot be \"ask\": only the chat can ask before a lower tier answers; `aiw {command}` runs unattended, so use \"notify\" (fall back loudly) or \"off\" (fail instead)"
                ),
            ));
        }
    }
    count(path, "[fallback.routes]", f.routes.len())?;
    for n in f.routes.keys() {
        name(path, &format!("fallback.routes.{n}"), n, "route name")?;
    }
    count(path, "[chat.keys]", cfg.chat.keys.len())?;
    for (action, keys) in &cfg.chat.keys {
        let key = format!("chat.keys.{action}");
        name(path, &key, action, "action name")?;
        let keys = keys.clone().into_vec();
        count(path, &key, keys.len())?;
        // An empty spec is the chat's to warn about; only absurd lengths are refused here.
        if let Some(k) = keys.iter().find(|k| k.chars().count() > MAX_NAME) {
            name(path, &key, k, "key")?;
        }
    }
    let r = &cfg.review;
    for (f, globs) in [("exclude", &r.exclude), ("include", &r.include)] {
        let key = format!("review.{f}");
        count(path, &key, globs.len())?;
        for g in globs {
            if g.len() > MAX_GLOB {
                return Err(invalid(
                    path,
                    &key,
                    format!(
                        "has a glob of {} bytes: at most {MAX_GLOB} are allowed",
                        g.len()
                    ),
                ));
            }
            globset::Glob::new(g)
                .map_err(|e| invalid(path, &key, format!("`{g}` is not a valid glob ({e})")))?;
        }
    }
    if let Some(v) = r.concurrency {
        int::<usize>(path, "review.concurrency", v, CONCURRENCY)?;
    }
    if let Some(v) = r.queue_max_attempts {
        int::<u32>(path, "review.queue_max_attempts", v, QUEUE_ATTEMPTS)?;
    }
    Ok(())
}

/// Reads the user's config file (symbolic links are followed: dotfile managers use them):
/// `Ok(None)` when it does not exist; an error when it is not a regular file, is larger
/// than [`MAX_CONFIG_BYTES`] or is not UTF-8. The content is never echoed.
pub(crate) fn read_user_file(path: &Path) -> Result<Option<String>, ConfigError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source: e,
            });
        }
    };
    if !meta.is_file() {
        return Err(refused(path, "it is not a regular file".into()));
    }
    read_capped(path, MAX_CONFIG_BYTES).map(Some)
}

/// A [`ConfigError::Refused`] for `path`.
pub(crate) fn refused(path: &Path, reason: String) -> ConfigError {
    ConfigError::Refused {
        path: path.to_path_buf(),
        reason,
    }
}

/// Reads at most `cap` bytes of a file already known to be regular; larger (or growing) files
/// and non-UTF-8 content are refused without echoing anything.
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<String, ConfigError> {
    use std::io::Read as _;
    let read_err = |e| ConfigError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let f = std::fs::File::open(path).map_err(read_err)?;
    let too_large = |size: u64| {
        refused(
            path,
            format!(
                "it is {} bytes, over the {} KiB limit for files aiw reads as settings or instructions; check that it is the right file",
                size,
                cap / 1024
            ),
        )
    };
    let len = f.metadata().map_err(read_err)?.len();
    if len > cap {
        return Err(too_large(len));
    }
    let mut bytes = Vec::new();
    f.take(cap + 1).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        refused(
            path,
            format!(
                "it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}
