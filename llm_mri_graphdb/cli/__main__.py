"""``python -m llm_mri_graphdb.cli``: the command line."""

import sys

from llm_mri_graphdb.cli import main

sys.exit(main())
