//! `aiw eval --junit FILE`: the run as JUnit XML, the shape CI systems read (Jenkins'
//! `junit-10.xsd`, GitLab and GitHub test reporters): `<testsuites>` with one `<testsuite>`
//! per model, one `<testcase>` per case, `<failure>` for a failed check and `<error>` when
//! the model gave no answer.

use std::fmt::Write as _;

use super::Report;

/// XML-escapes text for an attribute or element body, dropping characters XML 1.0 forbids.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn secs(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// The report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    let scrub = |s: &str| crate::redact::global().scrub(s).into_owned();
    let tests: usize = report.models.iter().map(|m| m.cases.len()).sum();
    let errors = |m: &super::ModelResult| m.cases.iter().filter(|c| c.error.is_some()).count();
    let failures = |m: &super::ModelResult| {
        m.cases
            .iter()
            .filter(|c| !c.passed && c.error.is_none())
            .count()
    };
    let all_failures: usize = report.models.iter().map(failures).sum();
    let all_errors: usize = report.models.iter().map(errors).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"aiw eval\" tests=\"{tests}\" failures=\"{all_failures}\" errors=\"{all_errors}\" time=\"{}\">",
        secs(report.total_ms)
    );
    for (id, m) in report.models.iter().enumerate() {
        let time: u64 = m.cases.iter().map(|c| c.ms).sum();
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" id=\"{id}\" package=\"aiw.eval\" hostname=\"localhost\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{}\" timestamp=\"{}\">",
            esc(&m.model),
            m.cases.len(),
            failures(m),
            errors(m),
            secs(time),
            esc(report.started_at.trim_end_matches('Z')),
        );
        let _ = writeln!(
            x,
            "    <properties>\n      <property name=\"pass_rate\" value=\"{:.3}\"/>\n      <property name=\"route\" value=\"{}\"/>\n    </properties>",
            m.pass_rate,
            esc(&report.route)
        );
        for c in &m.cases {
            let _ = write!(
                x,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
                esc(&c.case),
                esc(&m.model),
                secs(c.ms)
            );
            if c.passed {
                x.push_str("/>\n");
                continue;
            }
            x.push_str(">\n");
            if let Some(e) = &c.error {
                let _ = writeln!(
                    x,
                    "      <error message=\"{}\" type=\"no_answer\">{}</error>",
                    esc(&scrub(&first_line(e))),
                    esc(&scrub(e))
                );
            } else if let Some(f) = c.checks.iter().find(|k| !k.passed) {
                let body: Vec<String> = c
                    .checks
                    .iter()
                    .filter(|k| !k.passed)
                    .map(|k| format!("{}: {}", k.kind, k.detail))
                    .collect();
                let _ = writeln!(
                    x,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    esc(&scrub(&first_line(&f.detail))),
                    f.kind,
                    esc(&scrub(&body.join("\n")))
                );
            }
            x.push_str("    </testcase>\n");
        }
        x.push_str("    <system-out/>\n    <system-err/>\n  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(esc("a<b>&\"'\u{1}\n"), "a&lt;b&gt;&amp;&quot;&apos;\n");
    }
}
