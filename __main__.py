"""`python -m opsh`: installed as opsh/__main__.py (pyproject maps the package `opsh` to this
folder and takes only this file from it; the code lives in shell/, commands/ and history/)."""

from opsh.shell.app import main

raise SystemExit(main())
