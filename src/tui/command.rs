//! The chat's slash commands as data: [`Command`], the one place `/text` is parsed
//! ([`Command::parse`]), and the [`COMMANDS`] table the parser, the help overlay and Tab
//! completion all read. What a command does to the chat is in `app/slash.rs`.

use std::fmt;
use std::path::PathBuf;

/// A parsed slash command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `/model`: open the picker (`None`) or pin the model named (or matched) by the text.
    Model(Option<String>),
    /// `/auto`, `/model auto`: auto routing.
    Auto,
    /// `/route NAME`: switch route (the name may be empty; the chat lists the routes then).
    Route(String),
    /// `/add FILE`: attach a file.
    Add(PathBuf),
    /// `/diff`: attach `git diff`.
    Diff,
    /// `/clear`: new context.
    Clear,
    /// `/save`: flush the session and say where it is.
    Save,
    /// `/mouse`: toggle mouse capture.
    Mouse,
    /// `/copy [N]`: copy code block N of the last answer (`None`: the last block).
    Copy(Option<usize>),
    /// `/export [FILE]`: write the conversation as markdown.
    Export(Option<PathBuf>),
    /// `/status`: route and health detail.
    Status,
    /// `/help`.
    Help,
    /// `/quit`.
    Quit,
}

/// Why a slash text is not a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// No command has this name.
    Unknown(String),
    /// The command's arguments are wrong: its usage line.
    Usage(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(name) => write!(
                f,
                "unknown command /{name}; try {} (start with // to send a message that begins with /)",
                listed().map(|s| s.usage).collect::<Vec<_>>().join(" ")
            ),
            Self::Usage(usage) => f.write_str(usage),
        }
    }
}

/// One slash command: its names, how it is written, what it does, and how its argument
/// (already trimmed, maybe empty) becomes a [`Command`].
pub struct Spec {
    /// The name after the slash.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// How it is written, as the help shows it.
    pub usage: &'static str,
    /// What it does.
    pub help: &'static str,
    /// Listed in the help, the unknown-command hint and Tab completion (`/auto` is not: it
    /// is said as `/model auto` there).
    pub listed: bool,
    /// Builds the command from its argument.
    pub build: fn(&str) -> Result<Command, ParseError>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.usage)
    }
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "the signature of every `Spec::build`"
)]
fn model(arg: &str) -> Result<Command, ParseError> {
    Ok(match arg {
        "" => Command::Model(None),
        "auto" => Command::Auto,
        name => Command::Model(Some(name.to_string())),
    })
}

/// `/add FILE`, also written `/add @FILE` the way a mention names it.
fn add(arg: &str) -> Result<Command, ParseError> {
    let path = arg.strip_prefix('@').unwrap_or(arg);
    if path.is_empty() {
        return Err(ParseError::Usage(
            "usage: /add FILE (or /add @FILE; Tab completes it)",
        ));
    }
    Ok(Command::Add(PathBuf::from(path)))
}

fn copy(arg: &str) -> Result<Command, ParseError> {
    if arg.is_empty() {
        return Ok(Command::Copy(None));
    }
    arg.parse::<usize>()
        .map(|n| Command::Copy(Some(n)))
        .map_err(|_| ParseError::Usage("usage: /copy [N] (code block N of the last answer)"))
}

/// Every slash command, in the order the help lists them.
pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "model",
        aliases: &["m"],
        usage: "/model NAME",
        help: "pin a model (`/model auto` for auto routing)",
        listed: true,
        build: model,
    },
    Spec {
        name: "route",
        aliases: &["r"],
        usage: "/route NAME",
        help: "switch to another configured route",
        listed: true,
        build: |arg| Ok(Command::Route(arg.to_string())),
    },
    Spec {
        name: "add",
        aliases: &["a"],
        usage: "/add FILE",
        help: "attach a file as context",
        listed: true,
        build: add,
    },
    Spec {
        name: "diff",
        aliases: &[],
        usage: "/diff",
        help: "attach `git diff` as context",
        listed: true,
        build: |_| Ok(Command::Diff),
    },
    Spec {
        name: "clear",
        aliases: &[],
        usage: "/clear",
        help: "new context (the session keeps the history)",
        listed: true,
        build: |_| Ok(Command::Clear),
    },
    Spec {
        name: "save",
        aliases: &[],
        usage: "/save",
        help: "flush the session and show where it is",
        listed: true,
        build: |_| Ok(Command::Save),
    },
    Spec {
        name: "copy",
        aliases: &["y"],
        usage: "/copy [N]",
        help: "copy code block N of the last answer (default: the last)",
        listed: true,
        build: copy,
    },
    Spec {
        name: "export",
        aliases: &[],
        usage: "/export [FILE]",
        help: "write the conversation as markdown (default: the data dir's exports/)",
        listed: true,
        build: |arg| {
            Ok(Command::Export(
                (!arg.is_empty()).then(|| PathBuf::from(arg)),
            ))
        },
    },
    Spec {
        name: "status",
        aliases: &[],
        usage: "/status",
        help: "route, health and tokens",
        listed: true,
        build: |_| Ok(Command::Status),
    },
    Spec {
        name: "mouse",
        aliases: &[],
        usage: "/mouse",
        help: "capture the mouse for wheel scrolling, or give it back for selecting",
        listed: true,
        build: |_| Ok(Command::Mouse),
    },
    Spec {
        name: "auto",
        aliases: &[],
        usage: "/auto",
        help: "auto routing over the route, with fallback",
        listed: false,
        build: |_| Ok(Command::Auto),
    },
    Spec {
        name: "help",
        aliases: &["h", "?"],
        usage: "/help",
        help: "this help",
        listed: true,
        build: |_| Ok(Command::Help),
    },
    Spec {
        name: "quit",
        aliases: &["exit", "q"],
        usage: "/quit",
        help: "leave",
        listed: true,
        build: |_| Ok(Command::Quit),
    },
];

impl Command {
    /// Parses the text after the slash (`model gpt`, `copy 2`).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let (name, arg) = match text.split_once(char::is_whitespace) {
            Some((n, a)) => (n, a.trim()),
            None => (text, ""),
        };
        spec(name)
            .ok_or_else(|| ParseError::Unknown(name.to_string()))
            .and_then(|s| (s.build)(arg))
    }
}

/// The command named `name` (after the slash), by its name or an alias.
pub fn spec(name: &str) -> Option<&'static Spec> {
    COMMANDS
        .iter()
        .find(|s| s.name == name || s.aliases.contains(&name))
}

/// The commands the help lists, in order.
pub fn listed() -> impl Iterator<Item = &'static Spec> {
    COMMANDS.iter().filter(|s| s.listed)
}

/// Every listed command as typed (`/model`), for completion.
pub fn names() -> impl Iterator<Item = String> {
    listed().map(|s| format!("/{}", s.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_parses_to_its_command() {
        for s in COMMANDS {
            for name in std::iter::once(&s.name).chain(s.aliases) {
                let arg = if s.name == "add" { " f.rs" } else { "" };
                assert!(
                    Command::parse(&format!("{name}{arg}")).is_ok(),
                    "/{name} does not parse"
                );
            }
            assert!(s.usage.starts_with(&format!("/{}", s.name)), "{s:?}");
        }
    }

    #[test]
    fn arguments_are_parsed_here() {
        assert_eq!(Command::parse("model"), Ok(Command::Model(None)));
        assert_eq!(Command::parse("m auto"), Ok(Command::Auto));
        assert_eq!(
            Command::parse("model  gpt-5 "),
            Ok(Command::Model(Some("gpt-5".into())))
        );
        assert_eq!(Command::parse("copy 2"), Ok(Command::Copy(Some(2))));
        assert!(matches!(
            Command::parse("copy two"),
            Err(ParseError::Usage(_))
        ));
        assert!(matches!(Command::parse("add"), Err(ParseError::Usage(_))));
        assert!(matches!(Command::parse("add @"), Err(ParseError::Usage(_))));
        assert_eq!(
            Command::parse("add @src/main.rs"),
            Ok(Command::Add(PathBuf::from("src/main.rs")))
        );
        assert_eq!(Command::parse("export"), Ok(Command::Export(None)));
        assert_eq!(
            Command::parse("nope x"),
            Err(ParseError::Unknown("nope".into()))
        );
    }
}
