"""Registered command objects, one module per area.

Each module lists its commands in a module-level `COMMANDS` tuple (and may offer
`CONNECTORS`, `RESOLVERS`, `COMPLETERS`, `SETTINGS`); see shell/registry.py. Modules import
their drivers (paramiko, pymysql, redis...) inside functions, so startup stays fast. A backend
package whose driver raises its own exceptions words them in its errors.py (`ERRORS`, see
shell/errors.py) and imports that module in its __init__.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def modules() -> list[ModuleType]:
    """Every command module, in name order; the entry hands this to the Registry, which calls
    it on first use (so the modules load after the first prompt is drawn)."""
    return [importlib.import_module(f"{__name__}.{info.name}") for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)]
