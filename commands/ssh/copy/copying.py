"""How `copy` works: sides and hosts decided here, then one SFTP transfer per host in parallel."""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING

from opsh.commands.ssh.copy import rootcopy
from opsh.commands.ssh.copy.transfer import (
    CopyPlan,
    LocalItem,
    Location,
    Transfer,
    local_items,
    on_host,
    parse_location,
    pull_from_host,
    push_to_host,
    size_text,
)
from opsh.commands.ssh.exec.fleetsudo import FleetSudo, fleet_sudo
from opsh.commands.ssh.exec.launch import HostEvents, Launch, prepare
from opsh.commands.ssh.exec.outcome import HostResult
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.hosts.names import valid_user
from opsh.commands.ssh.state import LastRun, ssh_state
from opsh.shell.errors import UsageError
from opsh.shell.result import Result
from opsh.shell.spec import Args

if TYPE_CHECKING:
    from collections.abc import Callable

    from opsh.commands.shared.fanout.control import Job
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
    fleet, mode = _sudo(session, args, push), _mode(args.mode)
    paths = [session.path(s.path) for s in sources]
    items, roots, skipped = local_items(paths, args.recursive, args.dereference) if push else ([], [], [])
    launch = prepare(session, labels, args.timeout or session.timeout, args.accept_new)
    plan = _plan(session, args, launch, sources, dest, items, roots)
    plan.skipped = skipped
    plan.sudo, plan.owner, plan.mode = fleet, args.owner, mode
    fan = launch.start(_work(plan, push), _fanout(session, args))
    total = sum(i.size for i in items if not i.is_dir) * len(labels) if push else None
    try:
        with session.progress(total, "copy", unit="B") as bar:
            fan.wait(CopyProgress(launch.prompter, bar, fleet))
    finally:
        outcome = fan.outcome()
        ssh_state(session).last = LastRun("copy", outcome.ok, outcome.failed)
    return _report(fan.ordered(), fan.seconds, args.verify, fan.interrupted, launch.status_notes())


def _work(plan: CopyPlan, push: bool) -> Callable[[Job], HostResult]:
    if plan.sudo is None:
        return partial(push_to_host if push else pull_from_host, plan)
    transfer: Transfer = rootcopy.push_as_root if push else rootcopy.pull_as_root
    return partial(on_host, plan, transfer)


def _sudo(session: Session, args: Args, push: bool) -> FleetSudo | None:
    """--sudo and its options, checked before anything connects."""
    if not args.sudo:
        if args.owner or args.mode or args.sudo_password_env:
            raise UsageError("--owner, --mode and --sudo-password-env go with --sudo", "e.g. copy F HOST:/etc/ --sudo")
        return None
    if not push and args.recursive:
        raise UsageError("copy --sudo pulls files, not directories (-r)", "name the files, or archive them first")
    if args.owner and not all(valid_user(part) for part in args.owner.split(":", 1)):
        raise UsageError(f"--owner: not USER or USER:GROUP: {args.owner!r}")
    return fleet_sudo(session, None, args.sudo_password_env)


def _mode(text: str | None) -> int | None:
    if text is None:
        return None
    if not re.fullmatch(r"[0-7]{3,4}", text):
        raise UsageError(f"--mode: not an octal mode: {text!r}", "e.g. --mode 0644")
    return int(text, 8)


class CopyProgress(HostEvents):
    """The bar in bytes: every host's workers report what they sent or received."""

    def __init__(self, prompter: QueuedPrompter, bar: Progress, sudo: FleetSudo | None = None) -> None:
        super().__init__(prompter, sudo)
        self.bar = bar

    def ev_progress(self, target: str, amount: int) -> None:
        self.bar.advance(amount)

    def before_asking(self) -> None:
        self.bar.clear()


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


def _report(results: list[HostResult], seconds: float, verify: bool, interrupted: bool, notes: list[str]) -> Result:
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
    status = f"{ok} of {len(results)} host{'s' if len(results) != 1 else ''} ok, {size_text(total)} in {seconds:.2f}s"
    skipped = max((len(r.detail.get("skipped", ())) for r in results), default=0)
    if skipped:
        status += f"; {skipped} entr{'ies' if skipped != 1 else 'y'} not copied (see the error column)"
    if interrupted:
        status = "interrupted: " + status
    status = "; ".join([status, *notes])
    return Result.table(
        ["host", "files", "bytes", "skipped", "seconds", "verified", "error"],
        rows,
        status=status,
        failed=ok != len(results),
        interrupted=interrupted,
    )
