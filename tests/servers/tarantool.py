"""A real Tarantool (Debian 2.6) on 127.0.0.1 for the queue tests, with a test user.

The tarantool `queue` module (github.com/tarantool/queue) cannot be installed from any registry
reachable here. So the init file below defines a TEST STAND-IN for it: the same call API that
clients use (`queue.create_tube`, `queue.tube.NAME:put/take/ack/release/peek/bury/kick/delete`,
`queue.statistics`), the same task tuples `{task_id, status, data}` and status letters, and the
fifottl driver's space layout (space named after the tube, a `status` index on status, pri,
id). Blocking take waits on a fiber.cond. It follows the session rules the module documents
for its 1.2.x releases (CHANGELOG 1.0.6 and 1.1.0, with the default session `ttr` of 0): a task
belongs to the session that took it, and only that session may ack or release it ("Task was
not taken" otherwise); the tasks a session took go back to ready when it disconnects, a take
that finishes after its session is gone takes nothing, and every taken task goes back to
ready when the server starts. It is not the real module and does not pretend to be.

    with start_tarantool(tmpdir) as srv:
        srv.url -> "tarantool://ops@127.0.0.1:PORT"   (password in srv.password)

`tarantool_server` is the session-wide fixture; tubes emails, jobs and slow exist from the start.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.servers.base import ServerProcess, free_port, port_open, require_binary, wait_until

TUBES = ("emails", "jobs", "slow")

# -- A TEST STAND-IN for the tarantool `queue` module: its call API on a space, nothing more. --
QUEUE_SHIM = r"""
-- A TEST STAND-IN for the tarantool `queue` module (github.com/tarantool/queue), not the module.
-- Session rules as documented for queue 1.2.x (CHANGELOG 1.0.6: release at disconnect, release
-- at start, no take during a disconnect; 1.1.0: only the session that took a task may ack or
-- release it, "Task was not taken"), with the default session ttr of 0.
local fiber = require('fiber')

queue = {tube = {}}
local leaving = {}  -- sessions whose disconnect is being handled: they take nothing more
local Tube = {}
Tube.__index = Tube
local ID, STATUS, PRI, NEXT_EVENT, TTL_END, DATA = 1, 2, 3, 4, 5, 6
local WORDS = {r = 'ready', t = 'taken', ['!'] = 'buried', ['~'] = 'delayed'}

local function task(t, status)
    if t == nil then return nil end
    return {t[ID], status or t[STATUS], t[DATA]}
end

local function count(tube, call)
    tube.calls[call] = (tube.calls[call] or 0) + 1
end

function queue.create_tube(name, tube_type, opts)
    if queue.tube[name] ~= nil then return queue.tube[name] end
    local space = box.schema.space.create(name, {if_not_exists = true})
    space:create_index('task_id', {parts = {ID, 'unsigned'}, if_not_exists = true})
    space:create_index('status', {parts = {STATUS, 'string', PRI, 'unsigned', ID, 'unsigned'},
                                  if_not_exists = true})
    local tube = setmetatable({name = name, space = space, cond = fiber.cond(), owner = {}, calls = {},
                               done = 0}, Tube)
    -- The server (re)started: no session owns anything, so what was taken is ready again
    -- (queue 1.0.6, #66).
    local stuck = {}
    for _, t in space.index.status:pairs({'t'}, {iterator = 'EQ'}) do table.insert(stuck, t[ID]) end
    for _, id in ipairs(stuck) do space:update(id, {{'=', STATUS, 'r'}}) end
    queue.tube[name] = tube
    return tube
end

-- Delayed tasks whose time has come become ready; ready tasks past their ttl go away.
function Tube:_tick()
    local now = fiber.time()
    local due, expired = {}, {}
    for _, t in self.space.index.status:pairs({'~'}, {iterator = 'EQ'}) do
        if t[NEXT_EVENT] <= now then table.insert(due, t[ID]) end
    end
    for _, t in self.space.index.status:pairs({'r'}, {iterator = 'EQ'}) do
        if t[TTL_END] > 0 and t[TTL_END] <= now then table.insert(expired, t[ID]) end
    end
    for _, id in ipairs(due) do self.space:update(id, {{'=', STATUS, 'r'}}) end
    for _, id in ipairs(expired) do self.space:delete(id) end
end

local function existing(self, id)
    local t = self.space:get(id)
    if t == nil then error(string.format('Task %s not found', tostring(id)), 0) end
    return t
end

-- The task must be taken, and by the session asking (queue 1.1+: check_task_is_taken).
local function taken(self, id)
    local t = existing(self, id)
    if t[STATUS] ~= 't' or self.owner[id] ~= box.session.id() then error('Task was not taken', 0) end
    return t
end

function Tube:put(data, opts)
    opts = opts or {}
    count(self, 'put')
    local last = self.space.index.task_id:max()
    local id = last and last[ID] + 1 or 0
    local now = fiber.time()
    local delay = opts.delay or 0
    local status = delay > 0 and '~' or 'r'
    local ttl_end = opts.ttl and (now + delay + opts.ttl) or 0
    local t = self.space:insert{id, status, opts.pri or 0, now + delay, ttl_end, data}
    if status == 'r' then self.cond:broadcast() end
    return task(t)
end

function Tube:take(timeout)
    count(self, 'take')
    local sid = box.session.id()
    local deadline = timeout == nil and math.huge or fiber.time() + timeout
    while true do
        -- A session that went away while waiting takes nothing (queue 1.0.6, #104).
        if leaving[sid] or not box.session.exists(sid) then return nil end
        self:_tick()
        local t = self.space.index.status:select({'r'}, {limit = 1, iterator = 'EQ'})[1]
        if t ~= nil then
            t = self.space:update(t[ID], {{'=', STATUS, 't'}})
            self.owner[t[ID]] = sid
            return task(t)
        end
        local left = deadline - fiber.time()
        if left <= 0 then return nil end
        self.cond:wait(math.min(left, 0.05))
    end
end

function Tube:ack(id)
    count(self, 'ack')
    local t = taken(self, id)
    self.space:delete(id)
    self.owner[id] = nil
    self.done = self.done + 1
    return task(t, '-')
end

function Tube:release(id, opts)
    opts = opts or {}
    count(self, 'release')
    taken(self, id)
    self.owner[id] = nil
    local t
    if (opts.delay or 0) > 0 then
        t = self.space:update(id, {{'=', STATUS, '~'}, {'=', NEXT_EVENT, fiber.time() + opts.delay}})
    else
        t = self.space:update(id, {{'=', STATUS, 'r'}})
        self.cond:broadcast()
    end
    return task(t)
end

function Tube:peek(id)
    count(self, 'peek')
    return task(existing(self, id))
end

function Tube:bury(id)
    count(self, 'bury')
    existing(self, id)
    self.owner[id] = nil
    return task(self.space:update(id, {{'=', STATUS, '!'}}))
end

function Tube:kick(n)
    count(self, 'kick')
    local ids = {}
    for _, t in self.space.index.status:pairs({'!'}, {iterator = 'EQ'}) do
        if #ids >= n then break end
        table.insert(ids, t[ID])
    end
    for _, id in ipairs(ids) do self.space:update(id, {{'=', STATUS, 'r'}}) end
    if #ids > 0 then self.cond:broadcast() end
    return #ids
end

function Tube:delete(id)
    count(self, 'delete')
    local t = existing(self, id)
    self.space:delete(id)
    self.owner[id] = nil
    return task(t, '-')
end

local function figures(tube)
    tube:_tick()
    local tasks = {ready = 0, taken = 0, buried = 0, delayed = 0, done = tube.done, total = 0}
    for _, t in tube.space:pairs() do
        local word = WORDS[t[STATUS]]
        tasks[word] = tasks[word] + 1
        tasks.total = tasks.total + 1
    end
    local calls = {}
    for k, v in pairs(tube.calls) do calls[k] = v end
    return {tasks = tasks, calls = calls}
end

function queue.statistics(name)
    if name ~= nil then
        local tube = queue.tube[name]
        return tube and figures(tube) or nil
    end
    local all = {}
    for tube_name, tube in pairs(queue.tube) do all[tube_name] = figures(tube) end
    return all
end

-- As the real module does: what a session took and did not ack goes back when it disconnects.
box.session.on_disconnect(function()
    local sid = box.session.id()
    leaving[sid] = true
    for _, tube in pairs(queue.tube) do
        for id, owner in pairs(tube.owner) do
            if owner == sid then
                local t = tube.space:get(id)
                if t ~= nil and t[STATUS] == 't' then tube.space:update(id, {{'=', STATUS, 'r'}}) end
                tube.owner[id] = nil
                tube.cond:broadcast()
            end
        end
    end
end)
"""

INIT = """
box.cfg{{work_dir = {workdir!r}, background = false, memtx_memory = 64 * 1024 * 1024}}
box.schema.user.create({user!r}, {{password = {password!r}, if_not_exists = true}})
box.schema.user.grant({user!r}, 'read,write,execute,create,drop', 'universe', nil, {{if_not_exists = true}})
local kv = box.schema.space.create('kv', {{if_not_exists = true,
    format = {{{{name = 'key', type = 'string'}}, {{name = 'value', type = 'any'}}}}}})
kv:create_index('primary', {{parts = {{1, 'string'}}, if_not_exists = true}})
kv:replace{{'alpha', 1}}
kv:replace{{'beta', {{nested = true}}}}
{shim}
for _, name in ipairs({{{tubes}}}) do queue.create_tube(name, 'fifottl') end
-- After a restart, the tubes tests created come back from their spaces.
for _, space in box.space._space:pairs() do
    if space[3]:match('^t%x+$') and box.space[space[3]].index.status ~= nil then
        queue.create_tube(space[3], 'fifottl')
    end
end
-- Listening last: an open port means users, spaces and tubes exist.
box.cfg{{listen = '127.0.0.1:{port}'}}
"""


@dataclass
class TarantoolServer:
    host: str
    port: int
    user: str
    password: str
    process: ServerProcess
    argv: list[str] = field(default_factory=list)
    workdir: Path | None = None

    def kill(self) -> None:
        """Stop the server (by the PID we started), as a crash or an admin would."""
        self.process.stop()

    def restart(self) -> None:
        """Start it again on the same port after kill(): the data comes back from the
        write-ahead log, and the tubes that existed are created again (see the init file)."""
        assert self.workdir is not None
        log = self.workdir / "tarantool.log"
        self.process = ServerProcess.spawn("tarantool", self.argv, log, cwd=str(self.workdir))
        wait_until(lambda: port_open(self.host, self.port) or not self.process.alive(), 30, "tarantool", log)

    @property
    def url(self) -> str:
        return f"tarantool://{self.user}@{self.host}:{self.port}"

    def client(self) -> Any:
        import tarantool

        return tarantool.Connection(self.host, self.port, user=self.user, password=self.password)

    def create_tube(self, name: str) -> None:
        conn = self.client()
        try:
            conn.eval("queue.create_tube(...) return true", [name])
        finally:
            conn.close()


@contextmanager
def start_tarantool(workdir: Path) -> Iterator[TarantoolServer]:
    binary = require_binary("tarantool")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    password = "tp-" + secrets.token_hex(8)
    init = workdir / "init.lua"
    tubes = ", ".join(repr(t) for t in TUBES)
    init.write_text(
        INIT.format(workdir=str(workdir), user="ops", password=password, shim=QUEUE_SHIM, tubes=tubes, port=port)
    )
    log = workdir / "tarantool.log"
    argv = [binary, str(init)]
    server = TarantoolServer(
        "127.0.0.1", port, "ops", password, ServerProcess.spawn("tarantool", argv, log, cwd=str(workdir)), argv, workdir
    )
    try:
        wait_until(lambda: port_open("127.0.0.1", port) or not server.process.alive(), 30, "tarantool", log)
        if not server.process.alive():
            raise RuntimeError("tarantool exited:\n" + log.read_text(errors="replace")[-2000:])
        yield server
    finally:
        server.process.stop()


@pytest.fixture(scope="session")
def tarantool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TarantoolServer]:
    with start_tarantool(tmp_path_factory.mktemp("tarantool")) as server:
        yield server


@pytest.fixture
def own_tarantool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TarantoolServer]:
    """A Tarantool of this test's own, for tests that kill and restart it."""
    with start_tarantool(tmp_path_factory.mktemp("tarantool-own")) as server:
        yield server
