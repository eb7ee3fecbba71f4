"""How pymemcache's exceptions read: `memcache: cannot increment or decrement non-numeric value`,
the server's words as text (never b'...').

Found by the core's describe() (shell/errors.py) by the module that defines the exception's
class; nothing here imports the driver.
"""

from __future__ import annotations

import re

from opsh.shell.errors import Described, ErrorTable


def _pymemcache(exc: BaseException) -> Described:
    # pymemcache puts the server's bytes in its messages: show them as text, not b'...'.
    text = " ".join(a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in exc.args)
    text = re.sub(r"\bb'([^']*)'", r"'\1'", text) or type(exc).__name__
    return Described.failure(f"memcache: {text}")


ERRORS: ErrorTable = {"pymemcache": _pymemcache}
