"""`python -m bot` is the `soc-bot` command."""

from bot.cli.main import main

raise SystemExit(main())
