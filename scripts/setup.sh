#!/usr/bin/env bash
# Create .venv and install pocketagent into it (with test extras when asked: setup.sh test).
# Works on a fresh machine with only Python >= 3.11: llama-cpp-python builds from source (~6 min).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
extras=""
[ "${1:-}" = "test" ] && extras="[test]"
# LLaVA (multimodal) is not needed and is the slowest part of the llama.cpp build.
# GGML_NATIVE=OFF: a -march=native build on a CPU with AMX crashed (general protection fault in
# libggml-cpu) where the sandbox does not grant AMX state; AVX2/FMA/F16C is portable and fast.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# pip's wheel cache ignores CMAKE_ARGS: a llama-cpp-python wheel built earlier with other flags
# (e.g. -march=native) would be reused. Build it fresh when this venv does not have it yet.
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  .venv/bin/python -m pip cache remove llama_cpp_python >/dev/null 2>&1 || true
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
