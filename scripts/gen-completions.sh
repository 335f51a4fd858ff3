#!/usr/bin/env bash
# Regenerates completions/ from the CLI definition (`aiw completions SHELL`). Run it after
# changing a command or flag; tests/integration/cli.rs fails when completions/ has drifted.
# Uses the build without `local` (no llama.cpp compile); the CLI is the same in both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p completions
while read -r shell file; do
    cargo run --quiet --no-default-features --bin aiw -- completions "$shell" >"completions/$file.tmp"
    mv -f "completions/$file.tmp" "completions/$file"
    echo "completions/$file"
done <<'LIST'
bash aiw.bash
zsh _aiw
fish aiw.fish
powershell _aiw.ps1
elvish aiw.elv
LIST
