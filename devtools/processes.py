"""Child processes for `make run`, the tests and the benchmarks: started in a process group
of their own with their output in a log file, stopped for sure (the whole group), and
waited for until they answer.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import httpx

from shared.settings import PROJECT_ROOT

# How long a stopped process gets between SIGTERM and SIGKILL.
STOP_TIMEOUT_SECONDS = 15.0


def free_port() -> int:
    """A TCP port nothing listens on right now (on loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could bind `host:port` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def signal_group(pid: int, signum: int) -> None:
    """Send `signum` to the process group led by `pid` (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def group_alive(pid: int) -> bool:
    """Whether any process is left in the group led by `pid`."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ManagedProcess:
    """A child process in a group of its own, with its output in `<log_dir>/<name>.log`.

    `argv` is given to the current Python interpreter unless `python=False` (then argv[0]
    is the executable). The environment is the caller's plus `env`, or `env` alone with
    `inherit_env=False`.
    """

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        log_dir: str | Path,
        *,
        python: bool = True,
        inherit_env: bool = True,
    ) -> None:
        self.name = name
        self.argv = [sys.executable, *argv] if python else list(argv)
        self.env = {**os.environ, **env} if inherit_env else dict(env)
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        # Our own interpreter (or a venv tool) with arguments chosen by our code.
        self.process = subprocess.Popen(  # noqa: S603
            self.argv,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: stopping it also stops whatever it spawned.
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    @property
    def group_alive(self) -> bool:
        return self.process is not None and group_alive(self.process.pid)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the process alone and wait for it to exit."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM to the whole group, without waiting."""
        if self.process is not None and self.process.poll() is None:
            signal_group(self.process.pid, signal.SIGTERM)

    def wait_stopped(self, timeout: float = STOP_TIMEOUT_SECONDS) -> list[str]:
        """Wait for the process; SIGKILL the group if it or anything it left is still there.

        Returns what had to be killed (empty when it stopped on its own)."""
        if self.process is None:
            return []
        killed: list[str] = []
        try:
            self.process.wait(timeout=max(0.1, timeout))
        except subprocess.TimeoutExpired:
            killed.append(self.name)
        if group_alive(self.process.pid):
            if not killed:
                killed.append(f"{self.name}'s left-over processes")
            signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        return killed

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> list[str]:
        """SIGTERM the group, SIGKILL it after `timeout`; returns what had to be killed."""
        if self.process is None:
            return []
        self.terminate()
        return self.wait_stopped(timeout)

    def output(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.output().splitlines()[-lines:])
        except OSError:
            return "(no output)"

    def describe(self) -> str:
        return f"{self.name} ({shlex.join(self.argv)}):\n{self.tail()}"


def stop_all(
    processes: Iterable[ManagedProcess], timeout: float = STOP_TIMEOUT_SECONDS
) -> list[str]:
    """SIGTERM every group at once (as `docker compose stop` does), SIGKILL what is left
    after `timeout`. Returns what had to be killed."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + timeout
    killed: list[str] = []
    for process in processes:
        killed += process.wait_stopped(deadline - time.monotonic())
    return killed


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    *,
    interval: float = 0.1,
    description: str = "condition",
) -> None:
    """Poll `predicate` until it returns True; raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {description}")
        time.sleep(min(interval, remaining))


class ProcessExited(RuntimeError):
    def __init__(self, process: ManagedProcess) -> None:
        super().__init__(f"exited with code {process.returncode}: {process.describe()}")
        self.process = process


def wait_ready(
    urls: Mapping[str, str],
    processes: Mapping[str, ManagedProcess],
    timeout: float,
    *,
    interval: float = 0.1,
) -> None:
    """Poll each `urls[name]` until it answers 200.

    Raises ProcessExited as soon as one of `processes` exits, and TimeoutError (quoting
    the logs of the processes still pending) after `timeout` seconds."""
    pending = dict(urls)
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=3.0, trust_env=False) as client:
        while pending:
            for process in processes.values():
                if process.process is not None and not process.alive:
                    raise ProcessExited(process)
            for name, url in list(pending.items()):
                try:
                    if client.get(url).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if not pending:
                return
            if time.monotonic() > deadline:
                details = "\n\n".join(
                    processes[name].describe() if name in processes else name
                    for name in sorted(pending)
                )
                raise TimeoutError(f"not ready in {timeout:g}s:\n{details}")
            time.sleep(interval)
