"""The sandbox gateway's state file set up by several processes at once (`podpiska serve
--workers 2` starts two): each process gets a working gateway. SQLite refused the second
process's switch to WAL and its tables with "database is locked" at once, without waiting,
and that server process died at start (seen as one of two processes serving in CI)."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path

from podpiska.adapters.sandbox import SandboxGateway

ROUNDS = 20
PROCESSES = 3


def _set_up(path: str, together: Barrier, failures: multiprocessing.Queue[str]) -> None:
    together.wait()
    try:
        gateway = SandboxGateway(path=Path(path), base_url="http://127.0.0.1", secret="s" * 32)
        assert gateway.payments() == []  # its tables are there
    except Exception as error:  # reported to the test, which fails with it
        failures.put(f"{type(error).__name__}: {error}")


def test_processes_starting_together_each_set_up_the_state_file(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    failures: multiprocessing.Queue[str] = context.Queue()
    for round_ in range(ROUNDS):
        path = tmp_path / f"round-{round_}" / "gateway.db"
        path.parent.mkdir()
        together = context.Barrier(PROCESSES)
        started = [
            context.Process(target=_set_up, args=(str(path), together, failures))
            for _ in range(PROCESSES)
        ]
        for process in started:
            process.start()
        for process in started:
            process.join(timeout=60)
            assert process.exitcode == 0
    found = []
    while not failures.empty():
        found.append(failures.get())
    assert found == []
