"""``python -m sb3_marl``: the ``sb3-marl`` command line."""

from sb3_marl.cli import main

raise SystemExit(main())
