"""``python -m core`` works like ``paddock``."""

from core.cli import main

raise SystemExit(main())
