"""Benchmarks: rerunnable scripts that report ratios measured in one run.

Fresh processes are timed as a user runs them, with Python's bytecode cache:
``PYTHONDONTWRITEBYTECODE`` (set on some sandboxes) is dropped here, since
with it every fresh process recompiles every module it imports (about 8 s of
a 40 s scan on a 2-core Xeon).
"""

import os

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
