#!/usr/bin/env bash
# Set up genlab on a fresh Debian/Ubuntu machine: system packages, a virtual environment in .venv, Python packages.
# Usage: bash scripts/setup.sh          the app (Fashion-MNIST data, PyTorch, Streamlit, ...)
#        bash scripts/setup.sh --dev    the app plus what the tests need (Chromium, pytest, playwright)
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[[ "${1:-}" == "--dev" ]] && dev=1

apt_packages=(dataset-fashion-mnist fonts-dejavu-core)  # the data; a font with Greek letters for charts
(( dev )) && apt_packages+=(chromium nginx-light)  # a real browser; nginx for the replica test

sudo=""
[[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo="sudo"
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if (( ${#missing[@]} )); then
  if command -v apt-get >/dev/null; then
    echo "== installing system packages: ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
  else
    echo "note: no apt-get here; install ${missing[*]} yourself (see README)" >&2
  fi
fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "== creating the virtual environment .venv"
  if ! $python -m venv .venv; then
    $sudo apt-get install -y -q python3-venv && $python -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
if (( dev )); then
  .venv/bin/python -m pip install -q -r requirements-dev.txt
else
  .venv/bin/python -m pip install -q -r requirements.txt
fi
echo "== ready: .venv/bin/streamlit run app.py"
