"""`python -m opsh`: the same entry as the `opsh` command."""

from opsh.shell.app import main

raise SystemExit(main())
