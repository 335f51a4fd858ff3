#!/usr/bin/env bash
# Regenerates assets/chat.png, the README's screenshot of `aiw chat`, from a real run:
# the provider emulator (aiw-emulator) plays Anthropic and OpenAI on 127.0.0.1, `aiw chat`
# runs in a detached tmux pane, claude-opus-4-8 answers the first question, then the
# emulator switches it to `overloaded` errors and the second question fails over to
# gpt-5.5. The pane is captured with its colours and drawn by scripts/ansi2png.py.
# Needs: cargo, tmux, curl, python3 with Pillow, a monospace TTF (DejaVu Sans Mono).
# Builds without the `local` feature (no llama.cpp compile); no real provider is called.
#   usage: scripts/screenshot.sh [OUT.png]   (default: assets/chat.png; SHOT_ANSI=FILE keeps the capture)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
out=${1:-$root/assets/chat.png}
cols=110
rows=32

cargo build --quiet --no-default-features --bin aiw
cargo build --quiet -p aiw-emulator --bin aiw-emulator
bin=${CARGO_TARGET_DIR:-$root/target}/debug

tmp=$(mktemp -d)
sock=aiw-shot-$$
emu_pid=
cleanup() {
    tmux -L "$sock" kill-server 2>/dev/null || true
    if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# Scripts: {"model-id": Script}; see emulator/src/script.rs.
reply() { # TEXT -> a Script that streams TEXT
    python3 -c 'import json,sys; print(json.dumps({"phases": [{"actions": [
        {"type": "reply", "text": sys.argv[1], "chunk_chars": 6, "interval_ms": 12}]}]}))' "$1"
}
opus_answer=$(cat <<'EOF'
Use `std::fs::read_to_string` and let `?` pass the error up:

```rust
use std::{fs, io};

fn load(path: &str) -> io::Result<String> {
    let text = fs::read_to_string(path)?;
    Ok(text.trim_end().to_owned())
}
```

The caller gets an **`io::Error`** that says what failed.
EOF
)
gpt_answer=$(cat <<'EOF'
Wrap the file in a `BufReader` and iterate over `lines()`; each item is an
`io::Result<String>`, so one bad line does not end the loop silently.
EOF
)
printf '{"claude-opus-4-8": %s, "gpt-5.5": %s}\n' "$(reply "$opus_answer")" "$(reply "$gpt_answer")" \
    >"$tmp/scripts.json"

"$bin/aiw-emulator" --scripts "$tmp/scripts.json" >"$tmp/emulator.log" 2>&1 &
emu_pid=$!
port=
for _ in $(seq 50); do
    port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/emulator.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "screenshot.sh: the emulator did not start:" >&2; cat "$tmp/emulator.log" >&2; exit 1; }
emu=http://127.0.0.1:$port

cat >"$tmp/config.toml" <<EOF
[providers.anthropic]
base_url = "$emu"

[providers.openai]
base_url = "$emu/v1"

[routes]
default = ["anthropic/claude-opus-4-8", "openai/gpt-5.5", "local/smollm2-135m"]
EOF
printf 'set -g status off\n' >"$tmp/tmux.conf"

# Fake keys: the emulator accepts any key.
tmux -L "$sock" -f "$tmp/tmux.conf" new-session -d -x "$cols" -y "$rows" -s shot \
    env AIW_CONFIG="$tmp/config.toml" AIW_DATA_DIR="$tmp/data" AIW_STATE_DIR="$tmp/state" \
    ANTHROPIC_API_KEY=sk-ant-emulator OPENAI_API_KEY=sk-emulator \
    TERM=xterm-256color COLORTERM=truecolor "$bin/aiw" chat
sleep 2

tmux -L "$sock" send-keys -t shot -l 'How do I read a whole file into a String in Rust, with errors handled?'
tmux -L "$sock" send-keys -t shot Enter
sleep 4

# Claude goes down: every request now gets Anthropic's 529 overloaded_error.
curl -fsS -X POST "$emu/_emulator/scripts" -H 'content-type: application/json' \
    -d '{"claude-opus-4-8": {"phases": [{"actions": [{"type": "error", "kind": "overloaded"}]}]}}' >/dev/null

tmux -L "$sock" send-keys -t shot -l 'And line by line?'
tmux -L "$sock" send-keys -t shot Enter
sleep 6

tmux -L "$sock" capture-pane -t shot -e -p >"$tmp/chat.ansi"
if [ -n "${SHOT_ANSI:-}" ]; then cp "$tmp/chat.ansi" "$SHOT_ANSI"; fi   # keep the raw capture
python3 "$root/scripts/ansi2png.py" "$tmp/chat.ansi" "$out" --cols "$cols" --rows "$rows"
echo "wrote $out ($(wc -c <"$out") bytes)"
