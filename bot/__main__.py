"""`python -m bot` is the same as `newsbot`."""

from bot.cli import main

raise SystemExit(main())
