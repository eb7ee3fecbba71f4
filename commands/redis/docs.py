"""What opsh knows about Redis commands: argument hints, key positions, summaries.

The server describes itself with `COMMAND DOCS` (Redis 7+); that is read in the background
after connecting. Older servers, or a line typed before the docs arrive, use the built-in
table of common commands below. Either way one `CommandDoc` per command (and per container
subcommand, `CONFIG GET`) drives completion hints, key completion and the mode's `help`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opsh.commands.redis.syntax import CONTAINERS, Arg, Binding, parse_syntax


@dataclass(frozen=True)
class CommandDoc:
    """One command: `name` is `GET` or `CONFIG GET`; `hint` is its argument syntax, `args` the
    same as a structure (which arguments are keys, which words are options)."""

    name: str
    hint: str = ""
    summary: str = ""
    group: str = ""
    since: str = ""
    complexity: str = ""
    args: tuple[Arg, ...] = ()

    def bind(self, words: list[str]) -> Binding:
        """How `words` (the arguments typed after the name) bind to this syntax."""
        return Binding.of(self.args, words)

    def usage(self) -> str:
        return f"{self.name} {self.hint}".strip()


@dataclass
class Catalog:
    """Every known command by upper-case name, plus the subcommands of each container."""

    commands: dict[str, CommandDoc] = field(default_factory=dict)
    source: str = "built-in"

    def get(self, words: list[str]) -> CommandDoc | None:
        """The doc for the command these words start with (container subcommands first)."""
        if not words:
            return None
        name = words[0].upper()
        if len(words) > 1 and name in CONTAINERS:
            sub = self.commands.get(f"{name} {words[1].upper()}")
            if sub is not None:
                return sub
        return self.commands.get(name)

    def arg_offset(self, words: list[str]) -> int:
        """How many of `words` name the command (2 for `CONFIG GET`)."""
        doc = self.get(words)
        return len(doc.name.split()) if doc else 1

    def top_level(self) -> list[CommandDoc]:
        return [d for n, d in self.commands.items() if " " not in n]

    def subcommands(self, container: str) -> list[CommandDoc]:
        prefix = container.upper() + " "
        return [d for n, d in self.commands.items() if n.startswith(prefix)]


# ---------------------------------------------------------------- the built-in table

# name | argument syntax | summary. Key positions are read from the syntax: leading `key`
# words are keys, and `key [key ...]` makes every later argument a key.
_BUILTIN = """
APPEND|key value|append a value to a string
AUTH|[username] password|authenticate the connection
BGSAVE|[SCHEDULE]|save the dataset to disk in the background
BLMOVE|source destination LEFT|RIGHT LEFT|RIGHT timeout|pop from one list, push to another; block until one is there
BLPOP|key [key ...] timeout|pop the first element of a list, blocking until there is one
BRPOP|key [key ...] timeout|pop the last element of a list, blocking until there is one
BZPOPMIN|key [key ...] timeout|pop the lowest-scored member, blocking until there is one
CLIENT KILL|[ID client-id] [ADDR ip:port] [USER username]|close client connections
CLIENT LIST|[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id ...]|list client connections
CLIENT SETNAME|connection-name|name this connection
COMMAND DOCS|[command-name ...]|documentation of commands
CONFIG GET|parameter [parameter ...]|read configuration parameters
CONFIG RESETSTAT|| reset INFO statistics
CONFIG REWRITE||write the running configuration to the config file
CONFIG SET|parameter value [parameter value ...]|change configuration parameters
COPY|source destination [DB destination-db] [REPLACE]|copy a key
DBSIZE||number of keys in the selected database
DECR|key|decrement an integer by one
DECRBY|key decrement|decrement an integer
DEL|key [key ...]|delete keys
DISCARD||discard a MULTI transaction
DUMP|key|serialized value of a key
ECHO|message|return the message
EVAL|script numkeys [key [key ...]] [arg [arg ...]]|run a Lua script
EXEC||run a MULTI transaction
EXISTS|key [key ...]|count how many of the keys exist
EXPIRE|key seconds [NX|XX|GT|LT]|set a time to live in seconds
EXPIREAT|key unix-time-seconds [NX|XX|GT|LT]|expire at a unix time
FLUSHALL|[ASYNC|SYNC]|delete every key of every database
FLUSHDB|[ASYNC|SYNC]|delete every key of the selected database
GET|key|the string value of a key
GETDEL|key|get a string and delete the key
GETEX|key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]|get and set expiry
GETRANGE|key start end|a substring of a string
GETSET|key value|set a string, returning the old value
HDEL|key field [field ...]|delete hash fields
HEXISTS|key field|whether a hash field exists
HGET|key field|the value of a hash field
HGETALL|key|every field and value of a hash
HINCRBY|key field increment|increment an integer hash field
HKEYS|key|the fields of a hash
HLEN|key|number of fields in a hash
HMGET|key field [field ...]|values of hash fields
HSCAN|key cursor [MATCH pattern] [COUNT count]|iterate hash fields
HSET|key field value [field value ...]|set hash fields
HSETNX|key field value|set a hash field if it does not exist
HVALS|key|the values of a hash
INCR|key|increment an integer by one
INCRBY|key increment|increment an integer
INCRBYFLOAT|key increment|increment a float
INFO|[section [section ...]]|server information and statistics
KEYS|pattern|every key matching a pattern (blocks the server: prefer SCAN)
LASTSAVE||unix time of the last save
LINDEX|key index|a list element by index
LINSERT|key BEFORE|AFTER pivot element|insert into a list
LLEN|key|length of a list
LMOVE|source destination LEFT|RIGHT LEFT|RIGHT|pop from one list and push to another
LPOP|key [count]|remove and return the first elements of a list
LPOS|key element [RANK rank] [COUNT num-matches] [MAXLEN len]|index of a list element
LPUSH|key element [element ...]|prepend elements to a list
LRANGE|key start stop|a range of list elements
LREM|key count element|remove list elements
LSET|key index element|set a list element by index
LTRIM|key start stop|trim a list to a range
MEMORY USAGE|key [SAMPLES count]|bytes a key uses
MGET|key [key ...]|values of several strings
MONITOR||stream every command the server receives
MSET|key value [key value ...]|set several strings
MULTI||start a transaction
OBJECT ENCODING|key|internal encoding of a value
OBJECT FREQ|key|access frequency of a key
OBJECT IDLETIME|key|seconds since the key was last used
PERSIST|key|remove the expiry of a key
PEXPIRE|key milliseconds [NX|XX|GT|LT]|set a time to live in milliseconds
PING|[message]|check the connection
PSUBSCRIBE|pattern [pattern ...]|listen to channels matching patterns
PTTL|key|time to live in milliseconds
PUBLISH|channel message|post a message to a channel
RANDOMKEY||a random key
RENAME|key newkey|rename a key
RENAMENX|key newkey|rename a key if the new name is free
RPOP|key [count]|remove and return the last elements of a list
RPUSH|key element [element ...]|append elements to a list
SADD|key member [member ...]|add set members
SAVE||save the dataset to disk (blocks)
SCAN|cursor [MATCH pattern] [COUNT count] [TYPE type]|iterate the keys
SCARD|key|number of set members
SCRIPT FLUSH|[ASYNC|SYNC]|remove every cached script
SDIFF|key [key ...]|difference of sets
SELECT|index|switch database
SET|key value [NX|XX] [GET] [EX seconds|PX ms|EXAT unix-seconds|PXAT unix-ms|KEEPTTL]|set a string
SETEX|key seconds value|set a string with a time to live
SETNX|key value|set a string if the key does not exist
SETRANGE|key offset value|overwrite part of a string
SHUTDOWN|[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]|stop the server
SINTER|key [key ...]|intersection of sets
SISMEMBER|key member|whether a member is in a set
SLOWLOG GET|[count]|entries of the slow log
SMEMBERS|key|every member of a set
SPOP|key [count]|remove and return random members
SRANDMEMBER|key [count]|random members of a set
SREM|key member [member ...]|remove set members
SSCAN|key cursor [MATCH pattern] [COUNT count]|iterate set members
STRLEN|key|length of a string
SUBSCRIBE|channel [channel ...]|listen to channels
SUNION|key [key ...]|union of sets
SWAPDB|index1 index2|swap two databases
TIME||server time
TOUCH|key [key ...]|update the last access time of keys
TTL|key|time to live in seconds
TYPE|key|type of the value at a key
UNLINK|key [key ...]|delete keys in the background
UNWATCH||forget WATCHed keys
WATCH|key [key ...]|watch keys for a MULTI transaction
XADD|key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold] *|id field value [field value ...]|append to a stream
XDEL|key id [id ...]|delete stream entries
XLEN|key|number of stream entries
XRANGE|key start end [COUNT count]|stream entries in an id range
XREAD|[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]|read from streams
XREVRANGE|key end start [COUNT count]|stream entries, newest first
XTRIM|key MAXLEN|MINID [=|~] threshold|trim a stream
ZADD|key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]|add sorted-set members
ZCARD|key|number of sorted-set members
ZCOUNT|key min max|members with a score in a range
ZINCRBY|key increment member|increment a member's score
ZRANGE|key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]|a range of members
ZRANGEBYSCORE|key min max [WITHSCORES] [LIMIT offset count]|members by score
ZRANK|key member|rank of a member
ZREM|key member [member ...]|remove sorted-set members
ZREVRANGE|key start stop [WITHSCORES]|members, highest score first
ZSCAN|key cursor [MATCH pattern] [COUNT count]|iterate sorted-set members
ZSCORE|key member|score of a member
"""


def builtin_catalog() -> Catalog:
    commands = {}
    for line in _BUILTIN.strip().splitlines():
        name, rest = line.split("|", 1)
        hint, _, summary = rest.rpartition("|")
        commands[name] = doc_from_hint(name, hint.strip(), summary.strip())
    return Catalog(commands, "built-in")


def doc_from_hint(name: str, hint: str, summary: str = "") -> CommandDoc:
    """A command of the built-in table: its arguments are read off the syntax string."""
    return CommandDoc(name, hint, summary, args=parse_syntax(hint))


# ---------------------------------------------------------------- COMMAND DOCS


def catalog_from_docs(reply: Mapping[Any, Any] | list[Any]) -> Catalog:
    """A Catalog from the server's `COMMAND DOCS` reply (a map in RESP3, pairs in RESP2)."""
    commands: dict[str, CommandDoc] = {}
    for name, body in _pairs(reply):
        _add_doc(commands, _text(name).upper(), _as_map(body))
    return Catalog(commands, "server")


def _add_doc(commands: dict[str, CommandDoc], name: str, body: dict[str, Any]) -> None:
    args = [_as_map(a) for a in body.get("arguments") or []]
    commands[name] = _doc_from_args(name, body, args)
    for sub_name, sub_body in _pairs(body.get("subcommands") or {}):
        sub = _text(sub_name).upper().replace("|", " ")
        _add_doc(commands, sub, _as_map(sub_body))


def _doc_from_args(name: str, body: dict[str, Any], args: list[dict[str, Any]]) -> CommandDoc:
    parsed = tuple(_arg(a) for a in args)
    return CommandDoc(
        name=name,
        hint=" ".join(a.syntax() for a in parsed),
        summary=_text(body.get("summary", "")),
        group=_text(body.get("group", "")),
        since=_text(body.get("since", "")),
        complexity=_text(body.get("complexity", "")),
        args=parsed,
    )


def _arg(raw: dict[str, Any]) -> Arg:
    """One argument of COMMAND DOCS (`display_text` is the name the docs show, when given)."""
    children = tuple(_arg(_as_map(c)) for c in raw.get("arguments") or [])
    name = _text(raw.get("display_text") or raw.get("name", ""))
    return Arg(
        name=name,
        kind=_text(raw.get("type", "string")),
        token=_text(raw.get("token", "")),
        optional=_flag(raw, "optional"),
        multiple=_flag(raw, "multiple"),
        children=children,
    )


def _flag(arg: dict[str, Any], name: str) -> bool:
    flags = arg.get("flags") or []
    return any(_text(f) == name for f in flags) or bool(arg.get(name))


def _pairs(value: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(value, dict):
        return value.items()
    if isinstance(value, list):
        return zip(value[::2], value[1::2], strict=False)
    return ()


def _as_map(value: Any) -> dict[str, Any]:
    return {_text(k): v for k, v in _pairs(value)}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
