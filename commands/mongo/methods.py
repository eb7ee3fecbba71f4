"""What each mongosh method does, in pymongo terms.

A method gets its parsed arguments and a `Target` (database, collection, session, handle) and
returns a Result, or a cursor for find/aggregate which the handle pages (`it`). Arguments are
checked here so a wrong call reads as a usage line, not as a pymongo TypeError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsh.commands.mongo import guard
from opsh.shell.errors import BackendError, UsageError

if TYPE_CHECKING:
    from opsh.commands.mongo.syntax import Line
    from opsh.shell.session import Session


@dataclass
class Target:
    """Where a call runs: pymongo Database and (for collection methods) Collection."""

    session: Session
    db: Any
    collection: Any
    readonly: bool
    statement: Line


@dataclass
class Reply:
    """A method's answer: a value to show, or a cursor to page through."""

    value: Any = None
    cursor: Any = None
    status: str = ""
    # Whether the cursor should be shown whole (toArray, a script) instead of in batches.
    whole: bool = False


Method = Callable[[Target, list[Any]], Reply]


def _usage(name: str, signature: str, args: list[Any], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise UsageError(f"{name} takes {_count(low, high)}", f"usage: {name}({signature})")


def _count(low: int, high: int) -> str:
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


def _doc(value: Any, what: str, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{name}: the {what} must be a document {{...}}, not {_type_name(value)}")
    return value


def _type_name(value: Any) -> str:
    return {str: "a string", int: "a number", float: "a number", list: "an array", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _options(value: Any, name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    options = _doc(value, "options", name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise UsageError(f"{name}: unknown option {unknown[0]!r}", f"known: {', '.join(allowed)}")
    return options


def _write(target: Target, name: str) -> None:
    guard.refuse_write(target.readonly, name)


def _collection(target: Target, name: str) -> Any:
    if target.collection is None:
        raise UsageError(f"{name} is a collection method", f"write db.COLLECTION.{name}(...)")
    return target.collection


def _namespace(target: Target) -> str:
    return f"{target.db.name}.{target.collection.name}"


# ---------------------------------------------------------------- reads


def find(target: Target, args: list[Any]) -> Reply:
    _usage("find", "filter, projection", args, 0, 3)
    coll = _collection(target, "find")
    filt = _doc(args[0] if args else None, "filter", "find")
    projection = _doc(args[1], "projection", "find") if len(args) > 1 and args[1] is not None else None
    options = _options(args[2] if len(args) > 2 else None, "find", ("sort", "skip", "limit", "hint", "maxTimeMS"))
    cursor = coll.find(filt, projection)
    return Reply(cursor=_apply_options(cursor, options))


def _apply_options(cursor: Any, options: dict[str, Any]) -> Any:
    if "sort" in options:
        cursor = cursor.sort(sort_spec(options["sort"], "sort"))
    if "skip" in options:
        cursor = cursor.skip(_int(options["skip"], "skip"))
    if "limit" in options:
        cursor = cursor.limit(_int(options["limit"], "limit"))
    if "hint" in options:
        cursor = cursor.hint(
            options["hint"] if isinstance(options["hint"], str) else sort_spec(options["hint"], "hint")
        )
    if "maxTimeMS" in options:
        cursor = cursor.max_time_ms(_int(options["maxTimeMS"], "maxTimeMS"))
    return cursor


def find_one(target: Target, args: list[Any]) -> Reply:
    _usage("findOne", "filter, projection", args, 0, 2)
    coll = _collection(target, "findOne")
    filt = _doc(args[0] if args else None, "filter", "findOne")
    projection = _doc(args[1], "projection", "findOne") if len(args) > 1 and args[1] is not None else None
    return Reply(coll.find_one(filt, projection))


def count_documents(target: Target, args: list[Any]) -> Reply:
    _usage("countDocuments", "filter, options", args, 0, 2)
    coll = _collection(target, "countDocuments")
    options = _options(args[1] if len(args) > 1 else None, "countDocuments", ("limit", "skip", "hint", "maxTimeMS"))
    return Reply(coll.count_documents(_doc(args[0] if args else None, "filter", "countDocuments"), **options))


def estimated_count(target: Target, args: list[Any]) -> Reply:
    _usage("estimatedDocumentCount", "", args, 0, 1)
    return Reply(_collection(target, "estimatedDocumentCount").estimated_document_count())


def distinct(target: Target, args: list[Any]) -> Reply:
    _usage("distinct", "field, filter", args, 1, 2)
    if not isinstance(args[0], str):
        raise UsageError("distinct: the field must be a string", 'e.g. db.users.distinct("city")')
    filt = _doc(args[1] if len(args) > 1 else None, "filter", "distinct")
    return Reply(_collection(target, "distinct").distinct(args[0], filt))


def aggregate(target: Target, args: list[Any]) -> Reply:
    _usage("aggregate", "[stages], options", args, 0, 2)
    coll = _collection(target, "aggregate")
    pipeline = args[0] if args else []
    if isinstance(pipeline, dict):
        pipeline = [pipeline]
    if not isinstance(pipeline, list) or not all(isinstance(s, dict) for s in pipeline):
        raise UsageError("aggregate: the pipeline must be an array of stages", "e.g. aggregate([{$match: {}}])")
    if any(next(iter(stage), "") in ("$out", "$merge") for stage in pipeline):
        _write(target, "aggregate with $out/$merge")
    options = _options(args[1] if len(args) > 1 else None, "aggregate", ("allowDiskUse", "maxTimeMS", "hint"))
    return Reply(cursor=coll.aggregate(pipeline, **options))


def get_indexes(target: Target, args: list[Any]) -> Reply:
    _usage("getIndexes", "", args, 0, 0)
    return Reply([dict(index) for index in _collection(target, "getIndexes").list_indexes()])


# ---------------------------------------------------------------- writes


def insert_one(target: Target, args: list[Any]) -> Reply:
    _usage("insertOne", "document, options", args, 1, 2)
    _write(target, "insertOne")
    doc = _doc(args[0], "document", "insertOne")
    options = _options(args[1] if len(args) > 1 else None, "insertOne", ("bypassDocumentValidation",))
    result = _collection(target, "insertOne").insert_one(doc, **_snake(options))
    return Reply({"acknowledged": result.acknowledged, "insertedId": result.inserted_id}, status="1 inserted")


def insert_many(target: Target, args: list[Any]) -> Reply:
    _usage("insertMany", "[documents], options", args, 1, 2)
    _write(target, "insertMany")
    docs = args[0]
    if not isinstance(docs, list) or not docs or not all(isinstance(d, dict) for d in docs):
        raise UsageError("insertMany: give a non-empty array of documents", "e.g. insertMany([{a: 1}, {a: 2}])")
    options = _options(args[1] if len(args) > 1 else None, "insertMany", ("ordered",))
    from pymongo.errors import BulkWriteError

    try:
        result = _collection(target, "insertMany").insert_many(docs, **options)
    except BulkWriteError as exc:
        raise _bulk_error(exc, len(docs), options.get("ordered", True) is not False) from None
    ids = list(result.inserted_ids)
    return Reply(
        {"acknowledged": result.acknowledged, "insertedIds": {str(i): v for i, v in enumerate(ids)}},
        status=f"{len(ids)} inserted",
    )


def _bulk_error(exc: Any, total: int, ordered: bool) -> BackendError:
    """insertMany that failed part-way: the first error, and how many documents went in (with
    ordered: false the others were all tried; ordered, the rest after the error were not)."""
    details = exc.details or {}
    errors = details.get("writeErrors") or [{}]
    inserted = int(details.get("nInserted") or 0)
    first = errors[0]
    if ordered:
        done = f"{inserted} of {total} inserted before it; the rest were not tried (ordered)"
    else:
        done = f"{inserted} of {total} inserted, {len(errors)} failed"
    return BackendError(f"mongodb {first.get('code')}: {first.get('errmsg')}", done)


_UPDATE_OPTIONS = ("upsert", "arrayFilters", "hint", "collation")


def update(many: bool) -> Method:
    name = "updateMany" if many else "updateOne"

    def run(target: Target, args: list[Any]) -> Reply:
        _usage(name, "filter, update, options", args, 2, 3)
        _write(target, name)
        coll = _collection(target, name)
        filt = _doc(args[0], "filter", name)
        change = args[1]
        if isinstance(change, dict):
            if not change or not all(str(k).startswith("$") for k in change):
                raise UsageError(
                    f"{name}: the update needs $-operators", f"e.g. {name}({{...}}, {{$set: {{field: value}}}})"
                )
        elif not (isinstance(change, list) and all(isinstance(s, dict) for s in change)):
            raise UsageError(f"{name}: the update must be a document or a pipeline array")
        options = _options(args[2] if len(args) > 2 else None, name, _UPDATE_OPTIONS)
        if many and not filt:
            _confirm_everything(target, "Update")
        method = coll.update_many if many else coll.update_one
        return _update_reply(method(filt, change, **_snake(options)))

    return run


def replace_one(target: Target, args: list[Any]) -> Reply:
    _usage("replaceOne", "filter, replacement, options", args, 2, 3)
    _write(target, "replaceOne")
    filt = _doc(args[0], "filter", "replaceOne")
    replacement = _doc(args[1], "replacement", "replaceOne")
    if any(str(k).startswith("$") for k in replacement):
        raise UsageError("replaceOne: the replacement is a whole document, without $-operators", "use updateOne")
    options = _options(args[2] if len(args) > 2 else None, "replaceOne", ("upsert", "hint", "collation"))
    return _update_reply(_collection(target, "replaceOne").replace_one(filt, replacement, **options))


def _update_reply(result: Any) -> Reply:
    value = {
        "acknowledged": result.acknowledged,
        "insertedId": result.upserted_id,
        "matchedCount": result.matched_count,
        "modifiedCount": result.modified_count,
        "upsertedCount": 1 if result.upserted_id is not None else 0,
    }
    status = f"{result.matched_count} matched, {result.modified_count} modified"
    if result.upserted_id is not None:
        status += ", 1 upserted"
    return Reply(value, status=status)


def _snake(options: dict[str, Any]) -> dict[str, Any]:
    names = {"arrayFilters": "array_filters", "bypassDocumentValidation": "bypass_document_validation"}
    return {names.get(k, k): v for k, v in options.items()}


def delete(many: bool) -> Method:
    name = "deleteMany" if many else "deleteOne"

    def run(target: Target, args: list[Any]) -> Reply:
        _usage(name, "filter, options", args, 1, 2)
        _write(target, name)
        coll = _collection(target, name)
        filt = _doc(args[0], "filter", name)
        options = _options(args[1] if len(args) > 1 else None, name, ("hint", "collation"))
        if many and not filt:
            _confirm_everything(target, "Delete")
        result = (coll.delete_many if many else coll.delete_one)(filt, **options)
        return Reply(
            {"acknowledged": result.acknowledged, "deletedCount": result.deleted_count},
            status=f"{result.deleted_count} deleted",
        )

    return run


def _confirm_everything(target: Target, verb: str) -> None:
    guard.confirm_every_document(target.session, target.collection, _namespace(target), verb)


def create_index(target: Target, args: list[Any]) -> Reply:
    _usage("createIndex", "keys, options", args, 1, 2)
    _write(target, "createIndex")
    keys = sort_spec(args[0], "createIndex")
    options = _options(
        args[1] if len(args) > 1 else None,
        "createIndex",
        ("unique", "name", "sparse", "expireAfterSeconds", "background", "partialFilterExpression", "collation"),
    )
    return Reply(_collection(target, "createIndex").create_index(keys, **options))


def drop_index(target: Target, args: list[Any]) -> Reply:
    _usage("dropIndex", "name or keys", args, 1, 1)
    _write(target, "dropIndex")
    index = args[0] if isinstance(args[0], str) else sort_spec(args[0], "dropIndex")
    _collection(target, "dropIndex").drop_index(index)
    return Reply({"ok": 1}, status="index dropped")


def drop(target: Target, args: list[Any]) -> Reply:
    _usage("drop", "", args, 0, 0)
    _write(target, "drop")
    coll = _collection(target, "drop")
    guard.confirm_drop(target.session, f"collection {_namespace(target)}")
    coll.drop()
    return Reply(True, status=f"dropped {_namespace(target)}")


# ---------------------------------------------------------------- the database itself


def get_name(target: Target, args: list[Any]) -> Reply:
    _usage("getName", "", args, 0, 0)
    return Reply(target.db.name)


def collection_names(target: Target, args: list[Any]) -> Reply:
    _usage("getCollectionNames", "", args, 0, 0)
    return Reply(sorted(target.db.list_collection_names()))


def create_collection(target: Target, args: list[Any]) -> Reply:
    _usage("createCollection", "name, options", args, 1, 2)
    _write(target, "createCollection")
    if not isinstance(args[0], str):
        raise UsageError("createCollection: the name must be a string")
    options = _doc(args[1] if len(args) > 1 else None, "options", "createCollection")
    target.db.create_collection(args[0], **options)
    return Reply({"ok": 1}, status=f"created {target.db.name}.{args[0]}")


def drop_database(target: Target, args: list[Any]) -> Reply:
    _usage("dropDatabase", "", args, 0, 0)
    _write(target, "dropDatabase")
    guard.confirm_drop(target.session, f"database {target.db.name} and every collection in it")
    target.db.client.drop_database(target.db.name)
    return Reply({"ok": 1, "dropped": target.db.name}, status=f"dropped database {target.db.name}")


def db_stats(target: Target, args: list[Any]) -> Reply:
    _usage("stats", "", args, 0, 0)
    return Reply(dict(target.db.command("dbStats")))


def server_version(target: Target, args: list[Any]) -> Reply:
    _usage("version", "", args, 0, 0)
    return Reply(target.db.client.server_info().get("version"))


def run_command(admin: bool) -> Method:
    name = "adminCommand" if admin else "runCommand"

    def run(target: Target, args: list[Any]) -> Reply:
        _usage(name, "{command: ...}", args, 1, 1)
        command = {args[0]: 1} if isinstance(args[0], str) else _doc(args[0], "command", name)
        if not command:
            raise UsageError(f"{name}: the command document is empty", f"e.g. db.{name}({{ping: 1}})")
        guard.refuse_command(target.readonly, next(iter(command)))
        db = target.db.client.admin if admin else target.db
        return Reply(dict(db.command(command)))

    return run


COLLECTION_METHODS: dict[str, Method] = {
    "find": find,
    "findOne": find_one,
    "insertOne": insert_one,
    "insertMany": insert_many,
    "updateOne": update(many=False),
    "updateMany": update(many=True),
    "replaceOne": replace_one,
    "deleteOne": delete(many=False),
    "deleteMany": delete(many=True),
    "countDocuments": count_documents,
    "estimatedDocumentCount": estimated_count,
    "distinct": distinct,
    "aggregate": aggregate,
    "createIndex": create_index,
    "getIndexes": get_indexes,
    "dropIndex": drop_index,
    "drop": drop,
}

DATABASE_METHODS: dict[str, Method] = {
    "getName": get_name,
    "getCollectionNames": collection_names,
    "createCollection": create_collection,
    "dropDatabase": drop_database,
    "stats": db_stats,
    "version": server_version,
    "runCommand": run_command(admin=False),
    "adminCommand": run_command(admin=True),
}

# Methods of a cursor (find()/aggregate()); forEach, next and itcount are the evaluator's.
CURSOR_METHODS = ("sort", "skip", "limit", "toArray", "count", "explain", "pretty", "batchSize", "hint", "forEach")


def cursor_call(cursor: Any, name: str, args: list[Any], find_filter: dict[str, Any] | None) -> Reply:
    """`.sort() .skip() .limit() ...` on a cursor: a new cursor, or the answer (count, explain).

    `find_filter` is the filter of find() (None for aggregate), which `.count()` counts."""
    if name not in CURSOR_METHODS:
        raise UsageError(f"unknown cursor method .{name}()", f"known: {', '.join(CURSOR_METHODS)}")
    if find_filter is None and name not in ("toArray", "pretty", "forEach"):
        raise UsageError(f".{name}() works on find(), not on aggregate()", "use a pipeline stage instead")
    if name == "sort":
        _usage("sort", "{field: 1|-1}", args, 1, 1)
        return Reply(cursor=cursor.sort(sort_spec(args[0], "sort")))
    if name in ("skip", "limit", "batchSize"):
        _usage(name, "n", args, 1, 1)
        value = _int(args[0], name)
        return Reply(cursor=cursor.batch_size(value) if name == "batchSize" else getattr(cursor, name)(value))
    if name == "hint":
        _usage("hint", "index", args, 1, 1)
        index = args[0] if isinstance(args[0], str) else sort_spec(args[0], "hint")
        return Reply(cursor=cursor.hint(index))
    if name in ("pretty", "toArray"):
        _usage(name, "", args, 0, 0)
        return Reply(cursor=cursor, whole=name == "toArray")
    if name == "explain":
        return Reply(dict(cursor.explain()))
    # count(): the documents the filter matches, skip and limit ignored (as mongosh does).
    return Reply(cursor.collection.count_documents(find_filter or {}))


def sort_spec(value: Any, name: str) -> list[tuple[str, Any]]:
    """`{a: 1, b: -1}` (or "a") as pymongo's list of (key, direction), order kept."""
    if isinstance(value, str):
        return [(value, 1)]
    if isinstance(value, dict) and value:
        return list(value.items())
    raise UsageError(f"{name}: give a document like {{field: 1}} (1 ascending, -1 descending)")


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise UsageError(f"{name} takes a whole number >= 0")
    return int(value)
