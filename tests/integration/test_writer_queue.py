"""The SQLite writer queue: writers of one process take turns in the order they asked; a write
transaction also holds a file lock that makes writers of other processes wait for it."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from infusionist.adapters.db.engine import make_engine
from infusionist.adapters.db.uow import SqlUnitOfWork


def test_writers_of_one_process_get_the_lock_in_the_order_they_asked(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    order: list[int] = []
    holder = SqlUnitOfWork(engine, write=True).__enter__()  # the writer everyone queues behind
    threads = []
    try:
        for index in range(6):
            def write(index: int = index) -> None:
                with SqlUnitOfWork(engine, write=True):
                    order.append(index)
            thread = threading.Thread(target=write)
            thread.start()
            threads.append(thread)
            time.sleep(0.05)  # let it queue before the next one asks
    finally:
        holder.__exit__(None, None, None)
    for thread in threads:
        thread.join(10)
    engine.dispose()
    assert order == list(range(6))


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_a_write_transaction_holds_the_file_lock_that_writers_of_other_processes_wait_for(
    tmp_path: Path,
) -> None:
    database = tmp_path / "shared.db"
    lock_file = f"{database}.writers"
    make_engine(f"sqlite:///{database}").dispose()
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from infusionist.adapters.db.engine import make_engine
        from infusionist.adapters.db.uow import SqlUnitOfWork
        engine = make_engine("sqlite:///{database}")
        with SqlUnitOfWork(engine, write=True):
            print("writing", flush=True)
            sys.stdin.readline()  # hold the write transaction until told to finish
        print("done", flush=True)
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdin is not None
    with child:
        assert child.stdout.readline().strip() == "writing"
        fd = os.open(lock_file, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process is writing
            child.stdin.write("\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "done"
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once its transaction ended
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
