"""The long-running children of `make run`, kept running.

A child that exits while the system runs (killed, out of memory, or an arq worker giving
up when Redis went away) is started again after a delay that doubles with each quick
failure, up to a cap, and starts over once the child had stayed up for a while. The other
children are left alone.

Each child writes its output to a log file of its own (`var/log/<name>.log`); the
orchestrator shows it on the terminal, each line prefixed with the child's name, and
quotes the end of it when the child fails. Files rather than pipes: a child never blocks
on a full pipe while the orchestrator is busy, and the log outlives the session.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.settings import PROJECT_ROOT

# A tail is read from at most this many bytes at the end of a log.
_TAIL_BYTES = 64 * 1024


@dataclass
class RestartBackoff:
    """Delays between restarts: `initial`, doubled per quick failure, at most `maximum`.

    A child that had run `stable_after` seconds or more before exiting is not failing in a
    loop: its next restart waits `initial` again.
    """

    initial: float = 1.0
    maximum: float = 30.0
    stable_after: float = 60.0
    failures: int = 0

    def next_delay(self, ran_for: float) -> float:
        if ran_for >= self.stable_after:
            self.failures = 0
        delay: float = min(self.maximum, self.initial * 2.0**self.failures)
        self.failures += 1
        return delay


class ChildLog:
    """A child's log file: what is new since last shown, and the end of its current run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._shown = 0  # bytes of the file already shown on the terminal
        self._run_start = 0  # where the output of the current run begins
        self._partial = b""  # a last line not yet ended by a newline

    def open_for_run(self) -> int:
        """A file descriptor to hand to a new run of the child (appending; close it after)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as handle:
            start = handle.tell()
        if self._shown == 0 and self._run_start == 0:
            self._shown = start  # earlier sessions' output is not shown again
        self._run_start = start
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def new_lines(self) -> list[str]:
        """Complete lines written since the last call."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._shown)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        self._shown += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def tail(self, lines: int) -> list[str]:
        """The last `lines` lines of the current run's output."""
        try:
            with self.path.open("rb") as handle:
                end = handle.seek(0, 2)
                handle.seek(max(self._run_start, end - _TAIL_BYTES))
                text = handle.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return []
        return text.splitlines()[-lines:]


@dataclass
class Child:
    """One long-running process of the system: an API (with its `port`) or the worker."""

    name: str
    argv: list[str]
    log: ChildLog
    port: int | None = None
    backoff: RestartBackoff = field(default_factory=RestartBackoff)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    # Set while the child waits out its backoff after exiting.
    restart_at: float | None = None
    restarts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(
        self,
        python: str,
        env: Mapping[str, str],
        preexec: Callable[[], None] | None,
    ) -> None:
        output = self.log.open_for_run()
        try:
            # Own process group: the terminal's Ctrl-C reaches only the orchestrator, which
            # stops the children in order instead of having them all race on SIGINT.
            self.process = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
                [python, *self.argv],
                cwd=PROJECT_ROOT,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                process_group=0,
                # preexec_fn is unsafe only with threads, and the orchestrator has none.
                preexec_fn=preexec,
            )
        finally:
            os.close(output)
        self.started_at = time.monotonic()
        self.restart_at = None

    def exited(self, now: float) -> float | None:
        """If the child has just exited: schedule its restart and return the delay."""
        if self.restart_at is not None or self.process is None or self.process.poll() is None:
            return None
        delay = self.backoff.next_delay(now - self.started_at)
        self.restart_at = now + delay
        return delay

    def due_for_restart(self, now: float) -> bool:
        return self.restart_at is not None and now >= self.restart_at
