"""A simulated WAN in front of the suite's sshd hosts, for the `wan` bench and tests/ssh.

This kernel has no netem qdisc, so the latency is a relay of our own: every simulated host
address (127.0.9.1 and onward, one port for all) is a listener that forwards to one of the
suite's sshd hosts (tests/servers/sshd.py: one daemon per 16 addresses) and holds every chunk,
in each direction, 20 ms +- 5 ms before passing it on; with probability 0.5% a chunk is held
200-400 ms more, what a lost segment's retransmission costs (the chunks behind it wait too, as
on a TCP stream). Hosts can be given a fault:

    refuse   nothing listens on its address: connections are refused
    silent   accepts connections and never says a word
    slow     answers, 2 s late: a new connection waits 2 s before the relay forwards it

    with start_wan(workdir, count=20, faults={7: "refuse", 11: "silent"}) as wan:
        wan.addresses                    -> ["127.0.9.1", ..., "127.0.9.20"]
        files = wan.write_client(tmp)    # ssh config + known_hosts naming the relay addresses
        wan.reset(); ...; wan.stats()    # the relay's own CPU and lateness over the work

The relay is asyncio, one loop per process, the hosts spread over `processes` processes that
run in the real-time scheduling class, ahead of the tools measured (a network does not queue
for the CPU behind them); each counts its CPU time and how late each chunk left against its configured delay, so
a bench can print the relay's own cost and keep it off the tools' figures. Only 127.0.0.0/8:
the listeners and the daemons are loopback addresses.

    python -m tests.servers.wan          # a relay process: its plan as one JSON line on stdin,
                                         # then `stats` / `reset` lines; it ends at EOF
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DELAY = 0.020  # one way, each direction: 40 ms round trips
JITTER = 0.005
HOLD_CHANCE = 0.005
HOLD = (0.200, 0.400)
SLOW = 2.0
FIRST_ADDRESS = 9 * 256 + 1  # 127.0.9.1
HIGH_WATER = 1 << 20  # bytes held in one direction before its source stops being read
FAULTS = ("refuse", "silent", "slow")
# The bench's mix (issue 28): 5% refuse, 2% silent, 1% slow.
FAULT_SHARES = (("refuse", 0.05), ("silent", 0.02), ("slow", 0.01))


def wan_addresses(count: int, first: int = FIRST_ADDRESS) -> list[str]:
    """127.0.9.1, 127.0.9.2, ... skipping .0 and .255 of each /24 (no surprise for anyone)."""
    out: list[str] = []
    n = first
    while len(out) < count:
        if n % 256 not in (0, 255):
            out.append(f"127.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")
        n += 1
    return out


def random_faults(count: int, seed: int = 28) -> dict[int, str]:
    """Faults by host index, drawn once per index: the first N hosts of a larger fleet have the
    same faults as a fleet of N (the bench's sizes are nested)."""
    faults: dict[int, str] = {}
    for index in range(count):
        draw = random.Random(seed * 1_000_003 + index).random()
        edge = 0.0
        for kind, share in FAULT_SHARES:
            edge += share
            if draw < edge:
                faults[index] = kind
                break
    return faults


# ---------------------------------------------------------------- the relay process


@dataclass
class Lateness:
    """How late chunks left against their due time, in 0.1 ms steps (the relay's own delay)."""

    chunks: int = 0
    bytes: int = 0
    held: int = 0
    steps: Counter[int] = field(default_factory=Counter)

    def record(self, late: float, size: int) -> None:
        self.chunks += 1
        self.bytes += size
        self.steps[max(0, round(late * 10_000))] += 1

    def percentile(self, share: float) -> float:
        """Seconds: the lateness that `share` of the chunks stayed within."""
        wanted = share * self.chunks
        seen = 0
        for step in sorted(self.steps):
            seen += self.steps[step]
            if seen >= wanted:
                return step / 10_000
        return 0.0

    def summary(self, accepted: Counter[str]) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        mean = sum(s * n for s, n in self.steps.items()) / 10_000 / self.chunks if self.chunks else 0.0
        return {
            "cpu": usage.ru_utime + usage.ru_stime,
            "chunks": self.chunks,
            "bytes": self.bytes,
            "held": self.held,
            "late_mean": mean,
            "late_p50": self.percentile(0.5),
            "late_p99": self.percentile(0.99),
            "late_max": max(self.steps) / 10_000 if self.steps else 0.0,
            "accepted": dict(accepted),
        }


class Link:
    """One direction of a relayed connection: chunks wait until their due time, in order."""

    def __init__(self, relay: Relay, source: asyncio.Transport, on_done: Callable[[], None]) -> None:
        self.relay = relay
        self.source = source
        self.on_done = on_done
        self.target: asyncio.Transport | None = None
        self.queue: deque[tuple[float, bytes]] = deque()
        self.queued = 0
        self.last_due = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.ready_at = 0.0  # when the target was connected (a slow host's wait is not lateness)
        self.ended = False  # the source sent EOF or went away
        self.done = False  # ... and everything before that has been passed on

    def push(self, data: bytes) -> None:
        due = max(self.relay.loop.time() + self.relay.delay(), self.last_due)
        self.last_due = due
        self.queue.append((due, data))
        self.queued += len(data)
        if self.queued > HIGH_WATER:
            self.source.pause_reading()
        self.arm()

    def end(self) -> None:
        self.ended = True
        self.arm()

    def connect(self, target: asyncio.Transport) -> None:
        self.target = target
        self.ready_at = self.relay.loop.time()
        self.arm()

    def arm(self) -> None:
        if self.timer is not None or self.target is None or self.done:
            return
        if self.queue:
            self.timer = self.relay.loop.call_at(self.queue[0][0], self.flush)
        elif self.ended:
            self.finish()

    def flush(self) -> None:
        self.timer = None
        target = self.target
        assert target is not None
        now = self.relay.loop.time()
        while self.queue and self.queue[0][0] <= now:
            due, data = self.queue.popleft()
            self.queued -= len(data)
            self.relay.lateness.record(now - max(due, self.ready_at), len(data))
            if not target.is_closing():
                target.write(data)
        if self.queued <= HIGH_WATER // 2 and not self.source.is_closing() and not self.source.is_reading():
            self.source.resume_reading()
        self.arm()

    def finish(self) -> None:
        """Everything the source sent has gone: half-close the target (TCP's FIN)."""
        self.done = True
        target = self.target
        assert target is not None
        if not target.is_closing() and target.can_write_eof():
            with contextlib.suppress(OSError):  # the peer is already gone
                target.write_eof()
        self.on_done()


class Relayed(asyncio.Protocol):
    """The client's side of one relayed connection (Backend is the server's side); once both
    directions have ended, both sockets are closed."""

    def __init__(self, relay: Relay, backend: tuple[str, int], slow: float) -> None:
        self.relay = relay
        self.backend = backend
        self.slow = slow
        self.transport: asyncio.Transport | None = None
        self.server: asyncio.Transport | None = None
        self.up: Link | None = None  # client -> server
        self.down: Link | None = None  # server -> client

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.relay.accepted[transport.get_extra_info("sockname")[0]] += 1
        self.up = Link(self.relay, transport, self.ended)
        self.relay.spawn(self.open())

    async def open(self) -> None:
        assert self.transport is not None and self.up is not None
        if self.slow:
            await asyncio.sleep(self.slow)
        if self.transport.is_closing():
            return  # the client gave up meanwhile
        try:
            await self.relay.loop.create_connection(lambda: Backend(self), *self.backend)
        except OSError:
            self.transport.abort()

    def backend_made(self, server: asyncio.Transport) -> Link:
        assert self.transport is not None and self.up is not None
        self.server = server
        self.down = Link(self.relay, server, self.ended)
        self.down.connect(self.transport)
        self.up.connect(server)
        return self.down

    def ended(self) -> None:
        if self.up is not None and self.up.done and self.down is not None and self.down.done:
            for transport in (self.transport, self.server):
                if transport is not None:
                    transport.close()

    def data_received(self, data: bytes) -> None:
        assert self.up is not None
        self.up.push(data)

    def eof_received(self) -> bool:
        assert self.up is not None
        self.up.end()
        return True  # keep our side open: the server may still answer

    def connection_lost(self, exc: Exception | None) -> None:
        if self.up is not None:
            self.up.end()
        if self.server is None:
            return
        if self.down is not None and not self.down.done:
            if self.down.timer is not None:
                self.down.timer.cancel()
                self.down.timer = None
            self.down.queue.clear()  # nobody left to read it


class Backend(asyncio.Protocol):
    def __init__(self, client: Relayed) -> None:
        self.client = client
        self.down: Link | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.down = self.client.backend_made(transport)

    def data_received(self, data: bytes) -> None:
        assert self.down is not None
        self.down.push(data)

    def eof_received(self) -> bool:
        assert self.down is not None
        self.down.end()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.down is not None:
            self.down.end()


class Silent(asyncio.Protocol):
    """Accepts, reads, never answers (a host whose sshd hangs, or a firewall that eats packets
    after the handshake); the connection ends when the client gives up."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.relay.accepted[transport.get_extra_info("sockname")[0]] += 1

    def data_received(self, data: bytes) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        pass


class Relay:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.loop = asyncio.get_running_loop()
        self.random = random.Random(plan.get("seed", 0))
        self.lateness = Lateness()
        self.accepted: Counter[str] = Counter()  # connections per simulated host
        self.tasks: set[asyncio.Task[None]] = set()
        self.servers: list[asyncio.Server] = []

    def delay(self) -> float:
        plan = self.plan
        delay = self.random.uniform(plan["delay"] - plan["jitter"], plan["delay"] + plan["jitter"])
        if self.random.random() < plan["hold_chance"]:
            self.lateness.held += 1
            delay += self.random.uniform(*plan["hold"])
        return delay

    def spawn(self, work: Any) -> None:
        task = self.loop.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def listen(self) -> None:
        port = self.plan["port"]
        for address, backend, backend_port, fault in self.plan["hosts"]:
            if fault == "refuse":
                continue
            if fault == "silent":
                factory: Any = lambda: Silent(self)  # noqa: E731
            else:
                slow = self.plan["slow"] if fault == "slow" else 0.0
                factory = lambda b=(backend, backend_port), s=slow: Relayed(self, b, s)  # noqa: E731
            server = await self.loop.create_server(factory, address, port, backlog=1024, reuse_address=True)
            self.servers.append(server)

    async def control(self) -> None:
        """`stats` answers a JSON line, `reset` starts the counts again; EOF ends the relay."""
        reader = asyncio.StreamReader()
        await self.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = line.decode().strip()
            if command == "reset":
                self.lateness = Lateness()
                self.accepted = Counter()
                print(json.dumps({"reset": True}), flush=True)
            elif command == "stats":
                print(json.dumps(self.lateness.summary(self.accepted)), flush=True)


async def serve(plan: dict[str, Any]) -> None:
    relay = Relay(plan)
    await relay.listen()
    print("ready", flush=True)
    await relay.control()
    for server in relay.servers:
        server.close()


def network_priority() -> None:
    """A network does not queue for the CPU behind the machines it connects: the relay runs
    in the real-time class (round robin, the lowest priority), ahead of every ordinary
    thread. A nice value is not enough: the scheduler is fair per thread, and a client with
    a thousand threads outweighs a niced relay. (The kernel keeps 5% of each second for the
    ordinary class whatever happens; the relay itself uses a few percent of a core.)"""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    except (PermissionError, OSError):
        with contextlib.suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, 0, -10)


def relay_main() -> None:
    plan = json.loads(sys.stdin.readline())
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    network_priority()
    # The stdin pipe is read by the loop from here on: nothing may be buffered in sys.stdin.
    asyncio.run(serve(plan))


# ---------------------------------------------------------------- the parent's side


@dataclass
class Wan:
    """The simulated hosts: addresses, their faults, the relay processes and the daemons."""

    addresses: list[str]
    port: int
    faults: dict[str, str]  # address -> refuse | silent | slow
    hosts: Any  # tests.servers.sshd.SshHosts: the daemons behind the relay
    relays: list[subprocess.Popen[str]] = field(default_factory=list)

    def of(self, fault: str) -> list[str]:
        return [a for a in self.addresses if self.faults.get(a) == fault]

    @property
    def answering(self) -> list[str]:
        """Hosts that log in (slow ones included)."""
        return [a for a in self.addresses if self.faults.get(a) in (None, "slow")]

    def known_hosts_text(self, addresses: list[str] | None = None) -> str:
        key = self.hosts.host_key_line
        return "".join(f"[{a}]:{self.port} {key}\n" for a in (addresses or self.addresses))

    def write_client(self, directory: Path, extra: str = "") -> Any:
        """An ssh config (every host on the relay's port, the test user and key) and a
        known_hosts trusting every relay address: what opsh, ssh and clush are given."""
        from tests.servers.sshd import ClientFiles

        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "ssh_config"
        config.write_text(
            f"{extra}\nHost *\n    Port {self.port}\n    User {self.hosts.user}\n    IdentityFile {self.hosts.key}\n"
        )
        known = directory / "known_hosts"
        known.write_text(self.known_hosts_text())
        return ClientFiles(config, known)

    def _ask(self, command: str) -> list[dict[str, Any]]:
        answers = []
        for relay in self.relays:
            assert relay.stdin is not None and relay.stdout is not None
            relay.stdin.write(command + "\n")
            relay.stdin.flush()
        for relay in self.relays:
            assert relay.stdout is not None
            answers.append(json.loads(relay.stdout.readline()))
        return answers

    def reset(self) -> None:
        """Counts start again (before the work to be measured)."""
        self._ask("reset")

    def stats(self) -> dict[str, Any]:
        """The relay processes' CPU seconds so far; since `reset`: the chunks relayed, how late
        they left against their configured delay (mean of all, worst p99 and max), and the
        connections each simulated host accepted (`accepted`: address -> count)."""
        parts = self._ask("stats")
        chunks = sum(p["chunks"] for p in parts)
        accepted: Counter[str] = Counter()
        for part in parts:
            accepted.update(part["accepted"])
        return {
            "accepted": accepted,
            "cpu": sum(p["cpu"] for p in parts),
            "chunks": chunks,
            "bytes": sum(p["bytes"] for p in parts),
            "held": sum(p["held"] for p in parts),
            "late_mean": sum(p["late_mean"] * p["chunks"] for p in parts) / chunks if chunks else 0.0,
            "late_p50": max((p["late_p50"] for p in parts), default=0.0),
            "late_p99": max((p["late_p99"] for p in parts), default=0.0),
            "late_max": max((p["late_max"] for p in parts), default=0.0),
        }

    def logins(self) -> int:
        """Successful logins so far, from the daemons' logs (the relay hides who connected)."""
        return sum(log.read_text(errors="replace").count("Accepted publickey") for log in self.hosts.logs)


def relay_plans(
    addresses: list[str],
    port: int,
    backends: list[str],
    backend_port: int,
    faults: Mapping[str, str],
    processes: int,
    hold_chance: float = HOLD_CHANCE,
) -> list[dict[str, Any]]:
    hosts = [(a, b, backend_port, faults.get(a, "ok")) for a, b in zip(addresses, backends, strict=True)]
    base = {"port": port, "delay": DELAY, "jitter": JITTER, "hold_chance": hold_chance, "hold": HOLD, "slow": SLOW}
    return [{**base, "seed": n, "hosts": hosts[n::processes]} for n in range(processes)]


@contextmanager
def start_wan(
    workdir: Path,
    count: int,
    faults: Mapping[int, str] | None = None,
    processes: int | None = None,
    first: int = FIRST_ADDRESS,
    hold_chance: float = HOLD_CHANCE,
) -> Iterator[Wan]:
    """`count` simulated hosts (faults by index), behind relays, in front of `count` sshd hosts.
    `hold_chance`: a chunk's chance to be held 200-400 ms more (a small test raises it, so
    that a few chunks surely are)."""
    from tests.servers.base import free_port, port_open, wait_until
    from tests.servers.sshd import start_sshd

    addresses = wan_addresses(count, first)
    by_address = {addresses[i]: kind for i, kind in (faults or {}).items()}
    unknown = set(by_address.values()) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults {unknown}: {FAULTS}")
    processes = processes or max(1, min(4, (count + 249) // 250))
    with start_sshd(workdir / "sshd", count=count) as hosts:
        port = free_port(addresses)
        wan = Wan(addresses, port, by_address, hosts)
        try:
            plans = relay_plans(addresses, port, hosts.addresses, hosts.port, by_address, processes, hold_chance)
            for plan in plans:
                relay = subprocess.Popen(
                    [sys.executable, "-m", "tests.servers.wan"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=Path(__file__).resolve().parents[2],
                )
                wan.relays.append(relay)
                assert relay.stdin is not None and relay.stdout is not None
                relay.stdin.write(json.dumps(plan) + "\n")
                relay.stdin.flush()
            for relay in wan.relays:
                assert relay.stdout is not None
                if relay.stdout.readline().strip() != "ready":
                    raise RuntimeError("a WAN relay process did not start")
            first_up = next(a for a in addresses if by_address.get(a) not in ("refuse",))
            wait_until(lambda: port_open(first_up, port), 10, f"the WAN relay on {first_up}:{port}")
            yield wan
        finally:
            for relay in wan.relays:
                if relay.stdin is not None:
                    relay.stdin.close()  # EOF: the relay ends by itself
            for relay in wan.relays:
                try:
                    relay.wait(5)
                except subprocess.TimeoutExpired:
                    relay.kill()
                    relay.wait()


if __name__ == "__main__":
    relay_main()
