"""`python -m shell` runs opsh."""

from shell.app import main

raise SystemExit(main())
