#!/usr/bin/env bash
# The project's test command (the README's second command; `.ci/run` calls it too).
#
# 1. scripts/setup-test-env.sh: system packages and the cached test model.
# 2. One cargo profile only (release): llama.cpp takes about 8 minutes to build per profile
#    on 2 cores, so building it twice (dev and release) would double CI time.
#      cargo test --release --workspace                          everything, with the local model
#      cargo test --release --no-default-features --lib --bins   the build without `local`
#    The second only recompiles aiw itself, not llama.cpp.
# 3. Prints one plain line `N passed, N failed` summed over every test binary, and exits
#    non-zero when anything failed or did not build.
#
# CARGO_TARGET_DIR defaults to ~/.cache/aiw/target: outside the clone, so it survives between
# CI runs on the same machine and a fresh clone does not rebuild llama.cpp.
set -euo pipefail

cd "$(dirname "$0")/.."

# The model paths come back as `export NAME=value` lines.
env_lines="$(scripts/setup-test-env.sh </dev/null)" || {
    echo "test.sh: scripts/setup-test-env.sh failed (see above); fix that first" >&2
    exit 1
}
eval "$env_lines"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/aiw/target}"
export AIW_TEST_MODEL AIW_TEST_WHEEL AIW_TEST_CLAUDE AIW_TEST_PYTHON

log="$(mktemp "${TMPDIR:-/tmp}/aiw-test.XXXXXX")"
trap 'rm -f "$log"' EXIT
status=0

step() {
    printf '\n==> %s\n' "$*" >&2
    if ! "$@" 2>&1 | tee -a "$log"; then
        status=1
        printf '==> FAILED: %s\n' "$*" >&2
    fi
}

echo "test.sh: CARGO_TARGET_DIR=$CARGO_TARGET_DIR AIW_TEST_MODEL=$AIW_TEST_MODEL" >&2
# --include-ignored: the slow install.sh test (tests/integration/install.rs) is ignored by a
# plain `cargo test` and run here.
step cargo test --release --workspace --no-fail-fast -- --include-ignored
step cargo test --release --no-default-features --lib --bins --no-fail-fast

# Sum "test result: ok. 12 passed; 0 failed; 1 ignored; ..." over every test binary.
read -r passed failed < <(
    awk '/^test result:/ {
            for (i = 1; i <= NF; i++) {
                if ($(i) ~ /^passed;?$/) p += $(i - 1)
                if ($(i) ~ /^failed;?$/) f += $(i - 1)
            }
         }
         END { printf "%d %d\n", p, f }' "$log"
)

echo
echo "$passed passed, $failed failed"
if [[ "$failed" -ne 0 || "$status" -ne 0 ]]; then
    if [[ "$failed" -eq 0 ]]; then
        echo "test.sh: cargo exited with an error (a build or compile failure?); see above" >&2
    fi
    exit 1
fi
