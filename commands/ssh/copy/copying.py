"""How `copy` works: sides and hosts decided here, then one SFTP transfer per host in parallel."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from opsh.commands.ssh.copy.transfer import (
    CopyPlan,
    LocalItem,
    Location,
    local_items,
    parse_location,
    pull_from_host,
    push_to_host,
)
from opsh.commands.ssh.exec.launch import HostEvents, Launch, prepare
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.state import LastRun, ssh_state
from opsh.shell.errors import UsageError
from opsh.shell.result import Result
from opsh.shell.spec import Args

if TYPE_CHECKING:
    from opsh.commands.ssh.transport.prompting import QueuedPrompter
    from opsh.shell.progress import Progress
    from opsh.shell.session import Session


def copy(session: Session, args: Args) -> Result:
    """`copy`: see command.py for the spec; sides, hosts and local files are settled here."""
    sources, dest, hosts_expr = _sides(args.paths)
    labels = [h for h in lookup.targets(session, hosts_expr, args.exclude) if h != "local"]
    if not labels:
        raise UsageError(f"no hosts in {hosts_expr!r}")
    push = dest.hosts is not None
    paths = [session.path(s.path) for s in sources]
    items, roots, skipped = local_items(paths, args.recursive, args.dereference) if push else ([], [], [])
    launch = prepare(session, labels, args.timeout or session.timeout, args.accept_new)
    plan = _plan(session, args, launch, sources, dest, items, roots)
    plan.skipped = skipped
    fan = launch.start(partial(push_to_host if push else pull_from_host, plan), _fanout(session, args))
    total = sum(i.size for i in items if not i.is_dir) * len(labels) if push else None
    try:
        with session.progress(total, "copy", unit="B") as bar:
            fan.wait(CopyProgress(launch.prompter, bar))
    finally:
        outcome = fan.outcome()
        ssh_state(session).last = LastRun("copy", outcome.ok, outcome.failed)
    return _report(fan.ordered(), fan.seconds, args.verify, fan.interrupted)


class CopyProgress(HostEvents):
    """The bar in bytes: every host's workers report what they sent or received."""

    def __init__(self, prompter: QueuedPrompter, bar: Progress) -> None:
        super().__init__(prompter)
        self.bar = bar

    def ev_progress(self, target: str, amount: int) -> None:
        self.bar.advance(amount)


def _sides(paths: list[str]) -> tuple[list[Location], Location, str]:
    """(sources, destination, the hosts expression): exactly one side names hosts."""
    if len(paths) < 2:
        raise UsageError("copy needs a source and a destination", "e.g. copy app.tgz web[1-3]:/tmp/")
    sources = [parse_location(p) for p in paths[:-1]]
    dest = parse_location(paths[-1])
    remote_sources = [s for s in sources if s.hosts is not None]
    if dest.hosts is not None and remote_sources:
        raise UsageError("copying from host to host is not supported", "copy to a local file first")
    if dest.hosts is None and not remote_sources:
        raise UsageError("both sides are local", "use cp, or write HOST:PATH on one side")
    if dest.hosts is None and len(remote_sources) != len(sources):
        raise UsageError("mix of local and remote sources", "copy from one side at a time")
    if remote_sources and len({s.hosts for s in remote_sources}) > 1:
        raise UsageError("all remote sources must name the same hosts")
    hosts_expr = dest.hosts if dest.hosts is not None else remote_sources[0].hosts
    assert hosts_expr is not None
    return sources, dest, hosts_expr


def _plan(
    session: Session,
    args: Args,
    launch: Launch,
    sources: list[Location],
    dest: Location,
    items: list[LocalItem],
    roots: list[LocalItem],
) -> CopyPlan:
    push = dest.hosts is not None
    return CopyPlan(
        direction="push" if push else "pull",
        sources=[s.path for s in sources],
        items=items,
        roots=roots,
        dest=dest.path if push else str(session.path(dest.path)) + ("/" if dest.path.endswith("/") else ""),
        recursive=args.recursive,
        preserve=args.preserve,
        verify=args.verify,
        state=ssh_state(session),
        options=launch.options,
        specs=launch.specs,
        many_hosts=not push and len(launch.labels) > 1,
        follow=args.dereference,
    )


def _fanout(session: Session, args: Args) -> int:
    return int(args.fanout or session.settings.get("fanout"))


def _report(results: list[HostResult], seconds: float, verify: bool, interrupted: bool) -> Result:
    rows = [
        [
            r.host,
            r.detail.get("files", 0),
            r.detail.get("bytes", 0),
            len(r.detail.get("skipped", ())),
            round(r.seconds, 3),
            ("yes" if r.detail.get("verified") else "no") if verify else "",
            r.error or "",
        ]
        for r in results
    ]
    ok = sum(1 for r in results if r.ok)
    total = sum(r.detail.get("bytes", 0) for r in results)
    status = f"{ok} of {len(results)} host{'s' if len(results) != 1 else ''} ok, {_size(total)} in {seconds:.2f}s"
    skipped = max((len(r.detail.get("skipped", ())) for r in results), default=0)
    if skipped:
        status += f"; {skipped} entr{'ies' if skipped != 1 else 'y'} not copied (see the error column)"
    if interrupted:
        status = "interrupted: " + status
    return Result.table(
        ["host", "files", "bytes", "skipped", "seconds", "verified", "error"],
        rows,
        status=status,
        failed=ok != len(results),
        interrupted=interrupted,
    )


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
