"""Background threads end before the session does (a thread left inside a driver while the
interpreter exits can crash the process)."""

from __future__ import annotations

import threading

from opsh.shell.background import Background


def test_stop_waits_for_running_work_and_refuses_new_work():
    background = Background()
    release = threading.Event()
    done = []
    background.start("worker", lambda: (release.wait(5), done.append(True)))
    assert background.running() == ["worker"]
    threading.Timer(0.1, release.set).start()
    assert background.stop(timeout=5) == []
    assert done == [True]
    assert background.start("late", lambda: None) is None


def test_stop_reports_a_thread_that_does_not_finish_in_time():
    background = Background()
    hold = threading.Event()
    background.start("stuck", hold.wait, 5)
    assert background.stop(timeout=0.1) == ["stuck"]
    hold.set()


def test_a_worker_can_watch_the_stopping_flag(sh):
    seen = []

    def worker() -> None:
        seen.append(sh.session.background.stopping.wait(5))

    sh.session.background.start("watcher", worker)
    sh.close()
    assert seen == [True] and sh.session.background.running() == []
