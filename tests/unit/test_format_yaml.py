"""`--format yaml` reads back, with a real YAML parser, as the data `--format json` gives."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math

import yaml
from hypothesis import given
from hypothesis import strategies as st

from opsh.shell.formats.yamlfmt import string
from opsh.shell.output import StreamSink
from opsh.shell.render import render
from opsh.shell.result import Result

AWKWARD = [
    "",
    " ",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "n",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "-",
    "- a",
    "a: b",
    "a:b",
    "#x",
    "x #y",
    " lead",
    "trail ",
    "multi\nline",
    "tab\there",
    'say "hi"',
    "back\\slash",
    "1e3",
    "0x1F",
    "12:30",
    "2024-01-01",
    "1_000",
    ".5",
    ".inf",
    ".nan",
    "-.inf",
    "<<",
    "=",
    "@at",
    "`tick",
    "!bang",
    "&anchor",
    "*alias",
    "%pct",
    "{a}",
    "[a]",
    ",",
    "?",
    "|",
    ">",
    "'s",
    "日本語",
    "\u2028",
    "\x85",
    "\x7f",
    "\x00",
    "😀",
    "\ufeffbom",
    "/usr/bin",
    "web-01.example.com",
    "ready (current)",
    "a  b",
]


def as_text(result: Result, fmt: str) -> str:
    buffer = io.StringIO()
    render(result, fmt, StreamSink(buffer))
    return buffer.getvalue()


def test_awkward_strings_read_back_as_themselves():
    for text in AWKWARD:
        assert yaml.safe_load(string(text)) == text, repr(text)


@given(st.text())
def test_any_string_reads_back_as_itself(text):
    assert yaml.safe_load(string(text)) == text


def test_plain_words_stay_bare_and_the_rest_is_quoted():
    assert string("web1") == "web1" and string("/var/log/syslog") == "/var/log/syslog"
    assert string("yes") == '"yes"' and string("1e3") == '"1e3"' and string("a\tb") == '"a\\tb"'


def test_a_table_is_a_list_of_mappings_with_json_values():
    headers = ["id", "name", "price", "when", "blob", "doc", "ratio", "ok"]
    rows = [
        [
            1,
            "apple",
            decimal.Decimal("1.50"),
            dt.datetime(2024, 1, 2, 3, 4, 5),
            b"\xff",
            {"a": [1, {"b": None}]},
            1e20,
            True,
        ],
        [2, None, None, dt.date(2024, 1, 2), b"text", [], -1.5e-7, False],
        [3, "yes", decimal.Decimal("0"), None, b"", {}, 0.1, None],
    ]
    text = as_text(Result.table(headers, rows), "yaml")
    assert text.startswith('- id: 1\n  name: apple\n  price: "1.50"\n')
    assert yaml.safe_load(text) == json.loads(as_text(Result.table(headers, rows), "json"))


def test_floats_read_as_floats_in_yaml_1_1():
    text = as_text(Result.table(["x"], [[1e20], [float("inf")], [float("-inf")], [float("nan")], [2.5]]), "yaml")
    values = [row["x"] for row in yaml.safe_load(text)]
    assert values[0] == 1e20 and values[1] == math.inf and values[2] == -math.inf and math.isnan(values[3])
    assert values[4] == 2.5


def test_empty_results_and_documents():
    assert as_text(Result.table(["a"], []), "yaml") == "[]\n"
    assert yaml.safe_load(as_text(Result.doc({}), "yaml")) == {}
    doc = {"name": "x", "tags": ["a", "b"], "nested": {"list": [[1, 2], {"k": "v"}], "empty": []}, "n": None}
    text = as_text(Result.doc(doc), "yaml")
    assert yaml.safe_load(text) == doc
    assert "tags:\n  - a\n  - b\n" in text
    assert yaml.safe_load(as_text(Result.doc([doc, 5, "s"]), "yaml")) == [doc, 5, "s"]


def test_text_is_one_string():
    assert yaml.safe_load(as_text(Result.of_text("line 1\nline: 2"), "yaml")) == "line 1\nline: 2"


def test_in_the_shell(sh, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("hello")
    listed = yaml.safe_load(sh.ok("ls -l sub --format yaml").text)
    assert [row["name"] for row in listed] == ["a.txt"]
    assert listed[0]["size"] == 5  # exact, as in json (the table shows 5B)
