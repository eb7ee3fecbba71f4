"""The output formats: one registry line each, read by everything that names a format.

`--format` (on every command and on `opsh` itself), `set format`, `set table_style`, the
redirect extensions (`> out.csv`), completion, `help set` and `run`'s choice between streamed
and per-host output all come from REGISTRY below. Adding a format is one module in this package
(an `Output` class, a base.Renderer) plus one line here; a module may draw several
formats (tabulated.py draws every tabulate style, told which by the line's `style`).

This module is imported at start-up (argument choices, settings), so it holds names only: a
format's module is imported the first time something is rendered in it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsh.shell.formats.base import Renderer

BOX = "psql"  # the `table_style` that keeps opsh's own box


@dataclass(frozen=True)
class Format:
    """One output format, as the registry lists it."""

    name: str
    module: str  # the module of this package that renders it
    summary: str  # one line, for help and completion
    extensions: tuple[str, ...] = ()  # `> out.EXT` picks this format
    # One record per row (per host for `run`, which then gathers each host's whole output).
    structured: bool = False
    # Rows become records keyed by column name, so duplicate column names must be made distinct.
    keyed: bool = False
    style: str = ""  # what the module draws, when it draws several formats (tabulate's name)
    table_style: bool = False  # also a look for `table` (`set table_style NAME`)

    def renderer(self) -> Renderer:
        from opsh.shell.formats.base import Renderer

        module = importlib.import_module(f"{__name__}.{self.module}")
        output = getattr(module, "Output", None)
        if not (isinstance(output, type) and issubclass(output, Renderer)):
            raise TypeError(f"{module.__name__} has no Output renderer")
        return output(self)


REGISTRY: tuple[Format, ...] = (
    Format("table", "box", "opsh's box, fitted to the terminal (its look: set table_style)"),
    Format("vertical", "vertical", "one `column: value` block per row, as mysql's \\G", structured=True, keyed=True),
    Format("json", "jsonfmt", "a JSON array of objects", (".json", ".jsonl"), structured=True, keyed=True),
    Format("csv", "csvfmt", "comma-separated values with a header line", (".csv",), structured=True),
    Format("plain", "plain", "tab-separated values, no header", (".tsv",)),
    Format("yaml", "yamlfmt", "a YAML list of mappings", (".yaml", ".yml"), structured=True, keyed=True),
    Format("markdown", "tabulated", "a GitHub Markdown table", (".md",), style="github", table_style=True),
    Format("grid", "tabulated", "a grid with a rule between rows", style="grid", table_style=True),
    Format("simple", "tabulated", "columns under dashes, no frame", style="simple", table_style=True),
    Format("rst", "tabulated", "a reStructuredText simple table", (".rst",), style="rst", table_style=True),
    Format("html", "tabulated", "an HTML <table>", (".html", ".htm"), style="html", table_style=True),
    Format("latex", "tabulated", "a LaTeX tabular", (".tex",), style="latex", table_style=True),
    Format("jira", "tabulated", "a Jira / Confluence wiki table", style="jira", table_style=True),
    Format("mediawiki", "tabulated", "a MediaWiki table", style="mediawiki", table_style=True),
    Format("orgtbl", "tabulated", "an Emacs Org-mode table", (".org",), style="orgtbl", table_style=True),
    Format("asciidoc", "tabulated", "an AsciiDoc table", (".adoc",), style="asciidoc", table_style=True),
)

_BY_NAME = MappingProxyType({f.name: f for f in REGISTRY})
_BY_EXTENSION = MappingProxyType({ext: f.name for f in REGISTRY for ext in f.extensions})


def names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def find(name: str) -> Format | None:
    return _BY_NAME.get(name)


def for_extension(extension: str) -> str | None:
    """The format a redirect target's extension (`.csv`, any case) asks for, if any."""
    return _BY_EXTENSION.get(extension.lower())


def structured() -> tuple[str, ...]:
    return tuple(f.name for f in REGISTRY if f.structured)


def keyed(name: str) -> bool:
    found = _BY_NAME.get(name)
    return found is not None and found.keyed


def table_styles() -> tuple[str, ...]:
    """The looks `table` can take: opsh's own box first (the default), then the registry's."""
    return (BOX, *(f.name for f in REGISTRY if f.table_style))


def drawn_as(name: str, table_style: str) -> str:
    """The format a table is drawn in: `table` takes the look `set table_style` chose."""
    if name == "table" and table_style != BOX and table_style in _BY_NAME:
        return table_style
    return name


def renderer(name: str) -> Renderer:
    """The renderer of `name`; a name outside the registry (a backend's own look that its
    Result did not present) is drawn as a table, as before there was a registry."""
    return (_BY_NAME.get(name) or _BY_NAME["table"]).renderer()
