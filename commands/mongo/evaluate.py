"""Evaluating a parsed mongo line: method chains on `db`, variables, print/printjson, and the
simple expressions people type in mongosh (`1 + 1`, `x.length`, `docs[0].name`).

Nothing here runs JavaScript: the parser (syntax.py) builds a small tree, and each node means
one thing: a name (`db`, a variable, print/printjson), a member or index, a call, an operator.
Method calls go to methods.py; what opsh does not support says so by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsh.commands.mongo import methods
from opsh.commands.mongo.syntax import (
    Index,
    Invoke,
    Line,
    Literal,
    Member,
    Name,
    Node,
    Operation,
    Template,
    not_supported,
)
from opsh.shell.errors import UsageError

if TYPE_CHECKING:
    from opsh.shell.session import Session


class _Undefined:
    """JavaScript's undefined: what forEach and print return; shows as nothing."""

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()
PRINTERS = ("printjson", "print")


@dataclass(frozen=True)
class DbRef:
    name: str


@dataclass(frozen=True)
class CollectionRef:
    database: str
    name: str


@dataclass
class CursorValue:
    """An open cursor (find or aggregate) and how it was made, for `.count()` and paging."""

    cursor: Any
    source: str  # find | aggregate
    find_filter: dict[str, Any] = field(default_factory=dict)
    whole: bool = False  # .toArray() or a script: shown whole, not in batches

    def documents(self) -> Iterator[Any]:
        return iter(self.cursor)


@dataclass
class Printed:
    """What print()/printjson() wrote: `values` (a list, or a cursor's documents for forEach)."""

    style: str  # printjson | print
    values: Any
    separate: bool = False  # print(a, b): the values of one call, on one line


@dataclass
class Evaluation:
    value: Any = UNDEFINED
    printed: list[Printed] = field(default_factory=list)
    status: str = ""


class Evaluator:
    """Evaluates one line against a database, with the session's variables."""

    def __init__(self, session: Session, client: Any, database: str, readonly: bool, line: Line) -> None:
        self.session = session
        self.client = client
        self.database = database
        self.readonly = readonly
        self.line = line
        self.variables: dict[str, Any] = session.area("mongo-variables", dict)
        self.result = Evaluation()

    def run(self) -> Evaluation:
        assert self.line.expression is not None
        value = self.eval(self.line.expression)
        if self.line.assign:
            if isinstance(value, (DbRef, CollectionRef, CursorValue)):
                value = self._settle(value)
            self.variables[self.line.assign] = value
            self.result.value = UNDEFINED
        else:
            self.result.value = value
        return self.result

    def _settle(self, value: Any) -> Any:
        """A cursor kept in a variable is read whole (mongosh keeps the cursor; opsh keeps
        what it returned, so `x` shows the same documents every time)."""
        if isinstance(value, CursorValue):
            return list(value.documents())
        raise not_supported("keeping db or a collection in a variable")

    # ------------------------------------------------------------ nodes

    def eval(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Template):
            return self._fill(node.value)
        if isinstance(node, Name):
            return self._name(node)
        if isinstance(node, Member):
            return self._member(self.eval(node.target), node.name, node)
        if isinstance(node, Index):
            return self._index(self.eval(node.target), self.eval(node.key))
        if isinstance(node, Invoke):
            return self._invoke(node)
        if isinstance(node, Operation):
            return self._operation(node)
        raise AssertionError(f"unknown node {node!r}")

    def _fill(self, value: Any) -> Any:
        """A document or array with the values of the expressions inside it."""
        if isinstance(value, Node):
            return self._plain(self.eval(value))
        if isinstance(value, dict):
            return {k: self._fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._fill(v) for v in value]
        return value

    def _plain(self, value: Any) -> Any:
        if isinstance(value, CursorValue):
            return list(value.documents())
        if value is UNDEFINED:
            return None
        if isinstance(value, (DbRef, CollectionRef)):
            raise not_supported("db or a collection inside a document")
        return value

    def _name(self, node: Name) -> Any:
        if node.name == "db":
            return DbRef(self.database)
        if node.name in self.variables:
            return self.variables[node.name]
        if node.name in PRINTERS:
            return node.name
        hint = f"write db.{node.name}.find() for a collection, or var {node.name} = ... first"
        raise UsageError(f"{node.name} is not defined", hint)

    def _member(self, target: Any, name: str, node: Member) -> Any:
        if isinstance(target, DbRef):
            if name in methods.DATABASE_METHODS:
                raise UsageError(f"expected '(' after .{name}", f"db.{name}(...) is a method")
            return CollectionRef(target.name, name)
        if isinstance(target, CollectionRef):
            if name in methods.COLLECTION_METHODS:
                raise UsageError(f"expected '(' after .{name}", f"db.{target.name}.{name}(...) is a method")
            return CollectionRef(target.database, f"{target.name}.{name}")
        if isinstance(target, CursorValue):
            raise UsageError(f"expected '(' after .{name}", "a cursor has methods: .sort(...), .toArray(), ...")
        if name == "length" and isinstance(target, (list, str)):
            return len(target)
        if isinstance(target, dict):
            return target.get(name, UNDEFINED)
        if target is None or target is UNDEFINED:
            raise UsageError(f"cannot read .{name} of {_js_type(target)}")
        return UNDEFINED

    def _index(self, target: Any, key: Any) -> Any:
        if isinstance(target, DbRef) and isinstance(key, str):
            return CollectionRef(target.name, key)
        if isinstance(target, list) and isinstance(key, (int, float)) and not isinstance(key, bool):
            index = int(key)
            return target[index] if key == index and 0 <= index < len(target) else UNDEFINED
        if isinstance(target, dict):
            return target.get(str(key) if isinstance(key, int) else key, UNDEFINED)
        if target is None or target is UNDEFINED:
            raise UsageError(f"cannot read [{key!r}] of {_js_type(target)}")
        return UNDEFINED

    # ------------------------------------------------------------ calls

    def _invoke(self, node: Invoke) -> Any:
        target = node.target
        if isinstance(target, Name) and target.name in PRINTERS and target.name not in self.variables:
            return self._print(target.name, [self.eval(a) for a in node.args])
        if not isinstance(target, Member):
            name = target.name if isinstance(target, Name) else "calling this"
            raise not_supported(f"{name}()" if isinstance(target, Name) else name)
        owner = self.eval(target.target)
        args = [self._argument(a) for a in node.args]
        return self._method(owner, target.name, args, target.target)

    def _argument(self, node: Node) -> Any:
        if isinstance(node, Name) and node.name in PRINTERS and node.name not in self.variables:
            return node.name  # forEach(printjson)
        return self.eval(node)

    def _method(self, owner: Any, name: str, args: list[Any], owner_node: Node) -> Any:
        if isinstance(owner, DbRef):
            return self._database_method(owner, name, args)
        if isinstance(owner, CollectionRef):
            return self._collection_method(owner, name, args)
        if isinstance(owner, CursorValue):
            return self._cursor_method(owner, name, args)
        if isinstance(owner, list) and name == "forEach":
            return self._for_each(owner, args)
        previous = owner_node.target.name if isinstance(owner_node, Invoke) and isinstance(owner_node.target, Member) else ""
        if previous:
            raise UsageError(f".{name}() cannot follow {previous}(): it returns no cursor")
        raise not_supported(f".{name}() on {_js_type(owner)}")

    def _target(self, database: str, collection: str | None) -> methods.Target:
        db = self.client[database]
        return methods.Target(self.session, db, db[collection] if collection else None, self.readonly, self.line)

    def _database_method(self, owner: DbRef, name: str, args: list[Any]) -> Any:
        if name == "getCollection":
            if len(args) != 1 or not isinstance(args[0], str):
                raise UsageError('write db.getCollection("name")')
            return CollectionRef(owner.name, args[0])
        if name == "getSiblingDB":
            if len(args) != 1 or not isinstance(args[0], str):
                raise UsageError('write db.getSiblingDB("name")')
            return DbRef(args[0])
        method = methods.DATABASE_METHODS.get(name)
        if method is None:
            if name in methods.COLLECTION_METHODS:
                raise UsageError(f"{name} is a collection method", f"write db.COLLECTION.{name}(...)")
            raise UsageError(f"unknown database method db.{name}()", f"known: {', '.join(methods.DATABASE_METHODS)}")
        return self._reply(method(self._target(owner.name, None), args))

    def _collection_method(self, owner: CollectionRef, name: str, args: list[Any]) -> Any:
        method = methods.COLLECTION_METHODS.get(name)
        if method is None:
            raise UsageError(
                f"unknown collection method .{name}()", f"known: {', '.join(methods.COLLECTION_METHODS)}"
            )
        reply = method(self._target(owner.database, owner.name), args)
        if reply.cursor is not None:
            find_filter = ((args[0] if args else None) or {}) if name == "find" else {}
            return CursorValue(reply.cursor, "find" if name == "find" else "aggregate", find_filter)
        return self._reply(reply)

    def _reply(self, reply: methods.Reply) -> Any:
        if reply.status:
            self.result.status = reply.status
        return reply.value

    def _cursor_method(self, owner: CursorValue, name: str, args: list[Any]) -> Any:
        if name == "forEach":
            return self._for_each(owner, args)
        if name in ("itcount", "size") and not args:
            return sum(1 for _ in owner.documents())
        if name == "next" and not args:
            return next(owner.cursor, None)
        reply = methods.cursor_call(owner.cursor, name, args, owner.find_filter if owner.source == "find" else None)
        if reply.cursor is None:
            return reply.value
        if name == "toArray":
            return list(reply.cursor)
        return CursorValue(reply.cursor, owner.source, owner.find_filter, owner.whole)

    # ------------------------------------------------------------ printing

    def _print(self, style: str, values: list[Any]) -> Any:
        values = [list(v.documents()) if isinstance(v, CursorValue) else v for v in values]
        if style == "printjson" and len(values) != 1:
            raise UsageError("printjson takes 1 argument", "printjson(value)")
        self.result.printed.append(Printed(style, values, separate=style == "print"))
        return UNDEFINED

    def _for_each(self, owner: Any, args: list[Any]) -> Any:
        if len(args) != 1 or args[0] not in PRINTERS:
            raise not_supported("forEach with anything but printjson or print")
        documents = owner.documents() if isinstance(owner, CursorValue) else iter(owner)
        self.result.printed.append(Printed(args[0], documents))
        return UNDEFINED

    # ------------------------------------------------------------ operators

    def _operation(self, node: Operation) -> Any:
        if node.op in ("&&", "||"):
            left = self.eval(node.operands[0])
            if (node.op == "&&") != _truthy(left):
                return left
            return self.eval(node.operands[1])
        values = [self.eval(o) for o in node.operands]
        if len(values) == 1:
            return _unary(node.op, values[0])
        return _binary(node.op, values[0], values[1])


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, DbRef):
        return "db"
    return "a document" if isinstance(value, dict) else type(value).__name__


def _truthy(value: Any) -> bool:
    if value is None or value is UNDEFINED:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    if isinstance(value, (bool, int, float, str)):
        return bool(value)
    return True


def _number(value: Any, op: str) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if value is None:
        return 0
    if isinstance(value, str):
        try:
            return float(value) if value.strip() else 0
        except ValueError:
            return math.nan
    raise not_supported(f"the operator {op} on {_js_type(value)}")


def _unary(op: str, value: Any) -> Any:
    if op == "!":
        return not _truthy(value)
    number = _number(value, op)
    return -number if op == "-" else number


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: bool(a < b),
    ">": lambda a, b: bool(a > b),
    "<=": lambda a, b: bool(a <= b),
    ">=": lambda a, b: bool(a >= b),
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


def _binary(op: str, left: Any, right: Any) -> Any:
    if op == "+" and (isinstance(left, str) or isinstance(right, str)):
        return _text(left) + _text(right)
    if op in ("===", "!==", "==", "!="):
        same = left == right and type(left) is type(right) if op in ("===", "!==") else left == right
        return same if op in ("===", "==") else not same
    if op in ("<", ">", "<=", ">="):
        pair: tuple[Any, Any] = (left, right)
        if not (isinstance(left, str) and isinstance(right, str)):
            pair = (_number(left, op), _number(right, op))
        return _COMPARE[op](*pair)
    a, b = _number(left, op), _number(right, op)
    if op == "+":
        return a + b
    if op in _ARITHMETIC:
        return _ARITHMETIC[op](a, b)
    if b == 0:
        if op == "%" or a == 0 or (isinstance(a, float) and math.isnan(a)):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1, b)
    if op == "/":
        quotient = a / b
        return int(quotient) if quotient == int(quotient) and abs(quotient) < 2**53 else quotient
    return math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else int(math.fmod(a, b))


def _text(value: Any) -> str:
    from opsh.commands.mongo.pretty import js_number

    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return js_number(value)
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return "[object Object]" if isinstance(value, dict) else str(value)
