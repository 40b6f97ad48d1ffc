"""``python -m paddock`` works like ``paddock``."""

from paddock.cli import main

raise SystemExit(main())
