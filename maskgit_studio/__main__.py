"""``python -m maskgit_studio``: the same as the ``maskgit-studio`` command."""

from .cli import main

raise SystemExit(main())
