"""``python -m training`` == ``maskgit-train``."""

import sys

from training.cli import main

sys.exit(main())
