"""`make run`: start the whole system locally, in the foreground, until Ctrl-C.

    python -m devtools.run                # servers if needed, migrations, demo data, services
    python -m devtools.run servers        # only ensure the embedded servers; print their URLs
    python -m devtools.run stop-servers   # stop the embedded servers

Embedded PostgreSQL / Redis (see devtools.embedded) are started only for DATABASE_URL /
REDIS_URL left unset, and their URLs are passed to every child process. `run` stops on exit
only the embedded servers it started itself, so a session started by `servers` survives.

Once everything is ready, `run` supervises: a service or the worker that exits is started
again with backoff (devtools.supervision) while the rest keep running. Each child's output
is shown prefixed with its name and kept in `var/log/<name>.log`. Startup waits at most
RUN_READY_TIMEOUT_SECONDS for every API's /readyz, and on failure quotes the end of the
failing child's log.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import httpx

from devtools.embedded import EmbeddedPostgres, EmbeddedRedis
from devtools.processes import port_free, signal_group
from devtools.settings import DevSettings, get_dev_settings
from devtools.supervision import Child, ChildLog
from shared.settings import PROJECT_ROOT

TERMINATE_TIMEOUT_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.2
# How much of a failing child's log a failure message quotes.
TAIL_LINES = 25
HOW_TO_MINT = "make token role=civil_affairs"

# What `run` launches, as arguments to the current Python interpreter (cwd: project root).
MIGRATE = ["-m", "alembic", "-c", "alembic.ini", "upgrade", "heads"]
# Each demo loads once per database (it leaves a database that has data alone).
LOAD_DEMO_DATA = ["-m", "services.registry.demo"]
# People (社工, volunteers, party organizations) of the register the step above loaded.
LOAD_PEOPLE_DEMO_DATA = ["-m", "services.registry.people.demo_people"]
# The incubation pipeline (hubs, 社创大赛, phases, seed pools) on that register.
LOAD_INCUBATION_DEMO_DATA = ["-m", "services.registry.incubation.demo_incubation"]
LOAD_PROJECTS_DEMO_DATA = ["-m", "services.projects.demo"]
API_APPS = {
    "registry": "services.registry.main:app",
    "projects": "services.projects.main:app",
    "workflow": "services.workflow.main:app",
}
WORKER = ["-m", "arq", "services.workflow.worker.WorkerSettings"]


class ShutdownRequested(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StartupFailed(Exception):
    pass


def _say(message: str) -> None:
    # Progress goes to stderr so that stdout of `servers` stays machine-readable.
    print(f"[run] {message}", file=sys.stderr, flush=True)


def redact(url: str) -> str:
    """The URL with any password replaced, fit for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def embedded_postgres(settings: DevSettings) -> EmbeddedPostgres:
    return EmbeddedPostgres(
        settings.var_dir.resolve() / "postgres",
        settings.embedded_pg_port,
        settings.embedded_pg_user,
    )


def embedded_redis(settings: DevSettings) -> EmbeddedRedis:
    return EmbeddedRedis(settings.var_dir.resolve() / "redis", settings.embedded_redis_port)


# -- servers / stop-servers -------------------------------------------------------------------


def cmd_servers(settings: DevSettings, database: str) -> int:
    postgres = embedded_postgres(settings)
    redis = embedded_redis(settings)
    _say(f"embedded PostgreSQL on 127.0.0.1:{postgres.port} (data in {postgres.data_dir})")
    postgres.start()
    postgres.create_database(database)
    _say(f"embedded Redis on 127.0.0.1:{redis.port}")
    redis.start()
    print(f"DATABASE_URL={postgres.url(database)}")
    print(f"REDIS_URL={redis.url()}")
    return 0


def cmd_migrate(settings: DevSettings) -> int:
    """Apply migrations to DATABASE_URL, or to the embedded server when it is unset."""
    env = dict(os.environ)
    if not settings.database_url:
        postgres = embedded_postgres(settings)
        postgres.start()
        postgres.create_database(settings.database_name)
        env["DATABASE_URL"] = postgres.url(settings.database_name)
    result = subprocess.run(  # noqa: S603
        [sys.executable, *MIGRATE], cwd=PROJECT_ROOT, env=env, check=False
    )
    return result.returncode


def cmd_stop_servers(settings: DevSettings) -> int:
    failed = False
    servers: tuple[tuple[str, EmbeddedRedis | EmbeddedPostgres], ...] = (
        ("Redis", embedded_redis(settings)),
        ("PostgreSQL", embedded_postgres(settings)),
    )
    for name, server in servers:
        try:
            if not server.is_running():
                _say(f"embedded {name} is not running")
                continue
            server.stop()
        except Exception as exc:
            _say(f"could not stop embedded {name}: {exc}")
            failed = True
            continue
        if server.is_running():
            # EmbeddedRedis.stop() leaves alone a Redis it did not start (no pid file of ours).
            _say(f"{name} on port {server.port} was not started here: left running")
        else:
            _say(f"embedded {name} stopped")
    return 1 if failed else 0


# -- run ------------------------------------------------------------------------------------


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec hook so children get SIGTERM if we are killed without a chance to clean up."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)
        # The parent may have died between fork and prctl; then nobody would signal us.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


class Orchestrator:
    def __init__(self, settings: DevSettings) -> None:
        self.settings = settings
        self.python = sys.executable
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.owns_postgres = False
        self.owns_redis = False
        self.children: list[Child] = []
        self.shutting_down = False
        self.log_dir = settings.var_dir.resolve() / "log"
        self.preexec = _parent_death_signal()
        self.env: dict[str, str] = {}

    # Signals: the first one aborts whatever is running (startup or supervision) via an
    # exception; later ones are ignored so that cleanup itself cannot be interrupted.
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.shutting_down:
            _say(f"{signal.Signals(signum).name} received, already shutting down")
            return
        self.shutting_down = True
        raise ShutdownRequested(signum)

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        exit_code = 0
        try:
            self._check_ports()  # fail fast, before servers and migrations
            env = self._prepare()
            self._start_children(env)
            self._wait_ready()
            self._print_summary(env)
            self._supervise()
        except ShutdownRequested as exc:
            _say(f"{exc} received, shutting down")
        except StartupFailed as exc:
            _say(f"startup failed: {exc}")
            exit_code = 1
        except Exception as exc:
            _say(f"error: {exc}")
            exit_code = 1
        finally:
            self.shutting_down = True
            if not self._cleanup():
                exit_code = exit_code or 1
        return exit_code

    def _prepare(self) -> dict[str, str]:
        settings = self.settings
        database_url = settings.database_url
        redis_url = settings.redis_url
        if not database_url:
            self.postgres = embedded_postgres(settings)
            self.owns_postgres = not self.postgres.is_running()
            _say(
                f"embedded PostgreSQL on 127.0.0.1:{self.postgres.port} "
                f"({'starting' if self.owns_postgres else 'already running'}, "
                f"data in {self.postgres.data_dir})"
            )
            self.postgres.start()
            self.postgres.create_database(settings.database_name)
            database_url = self.postgres.url(settings.database_name)
        if not redis_url:
            self.redis = embedded_redis(settings)
            self.owns_redis = not self.redis.is_running()
            _say(
                f"embedded Redis on 127.0.0.1:{self.redis.port} "
                f"({'starting' if self.owns_redis else 'already running'})"
            )
            self.redis.start()
            redis_url = self.redis.url()

        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            REGISTRY_URL=f"http://127.0.0.1:{settings.registry_port}",
            PROJECTS_URL=f"http://127.0.0.1:{settings.projects_port}",
            WORKFLOW_URL=f"http://127.0.0.1:{settings.workflow_port}",
            PYTHONUNBUFFERED="1",
        )

        self._run_step("migrations", MIGRATE, env)
        self._run_step("demo data", LOAD_DEMO_DATA, env)
        self._run_step("people demo data", LOAD_PEOPLE_DEMO_DATA, env)
        self._run_step("incubation demo data", LOAD_INCUBATION_DEMO_DATA, env)
        self._run_step("projects demo data", LOAD_PROJECTS_DEMO_DATA, env)
        return env

    def _run_step(self, title: str, args: list[str], env: dict[str, str]) -> None:
        _say(f"{title}: {' '.join(['python', *args])}")
        result = subprocess.run(  # noqa: S603
            [self.python, *args], cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, check=False
        )
        if result.returncode != 0:
            raise StartupFailed(f"{title} failed (exit code {result.returncode})")

    def _ports(self) -> dict[str, int]:
        return {
            "registry": self.settings.registry_port,
            "projects": self.settings.projects_port,
            "workflow": self.settings.workflow_port,
        }

    def _check_ports(self) -> None:
        busy = [f"{name} ({port})" for name, port in self._ports().items() if not port_free(port)]
        if busy:
            # Otherwise /readyz could be answered by whatever already holds the port.
            raise StartupFailed(f"ports already in use: {', '.join(busy)}")

    def _start_children(self, env: dict[str, str]) -> None:
        self._check_ports()
        self.env = env
        for name, app in API_APPS.items():
            port = self._ports()[name]
            argv = ["-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
            self.children.append(Child(name, argv, self._log_of(name), port))
        self.children.append(Child("worker", WORKER, self._log_of("worker")))
        _say(f"logs in {self.log_dir}")
        for child in self.children:
            _say(f"starting {child.name}: python {' '.join(child.argv)}")
            self._spawn(child)

    def _log_of(self, name: str) -> ChildLog:
        return ChildLog(self.log_dir / f"{name}.log")

    def _spawn(self, child: Child) -> None:
        child.start(self.python, self.env, self.preexec)

    def _show_output(self) -> None:
        """Print what the children wrote since last time, each line under its child's name."""
        width = max((len(child.name) for child in self.children), default=0)
        for child in self.children:
            for line in child.log.new_lines():
                print(f"{child.name:<{width}} | {line}", flush=True)

    def _dead_child(self) -> Child | None:
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                return child
        return None

    def _last_lines(self, child: Child) -> str:
        lines = child.log.tail(TAIL_LINES) or ["(no output)"]
        quoted = "\n".join(f"  {child.name} | {line}" for line in lines)
        return f"last lines of {child.log.path}:\n{quoted}"

    def _wait_ready(self) -> None:
        pending = [child for child in self.children if child.port is not None]
        timeout = self.settings.run_ready_timeout_seconds
        deadline = time.monotonic() + timeout
        # Why each pending child is not ready yet, from its latest probe.
        reasons = {child.name: "no answer yet" for child in pending}
        with httpx.Client(timeout=2.0) as client:
            while pending:
                self._show_output()
                dead = self._dead_child()
                if dead is not None:
                    assert dead.process is not None
                    raise StartupFailed(
                        f"{dead.name} exited with code {dead.process.returncode} during "
                        f"startup; {self._last_lines(dead)}"
                    )
                for child in list(pending):
                    try:
                        response = client.get(f"{child.base_url}/readyz")
                    except httpx.HTTPError as exc:
                        reasons[child.name] = f"{type(exc).__name__}: {exc}"
                        continue
                    if response.status_code == 200:
                        _say(f"{child.name} is ready")
                        pending.remove(child)
                    else:
                        reasons[child.name] = f"{response.status_code} {response.text[:300]}"
                if not pending:
                    break
                if time.monotonic() >= deadline:
                    details = "\n".join(
                        f"{child.name} (GET {child.base_url}/readyz: {reasons[child.name]}); "
                        f"{self._last_lines(child)}"
                        for child in pending
                    )
                    raise StartupFailed(
                        f"not ready after {timeout:g}s (RUN_READY_TIMEOUT_SECONDS): "
                        f"{', '.join(child.name for child in pending)}\n{details}"
                    )
                time.sleep(POLL_INTERVAL_SECONDS)

    def _print_summary(self, env: dict[str, str]) -> None:
        rows = [
            (child.name, child.base_url, f"{child.base_url}/docs")
            for child in self.children
            if child.port is not None
        ]
        width = max(len(name) for name, _, _ in rows)
        url_width = max(len(url) for _, url, _ in rows)
        lines = ["", "Sanshe is running (Ctrl-C to stop)", ""]
        lines += [f"  {n:<{width}}  {u:<{url_width}}  docs: {d}" for n, u, d in rows]
        embedded_db = " (embedded)" if self.postgres is not None else ""
        embedded_redis = " (embedded)" if self.redis is not None else ""
        lines += [
            f"  {'worker':<{width}}  python {' '.join(WORKER)}",
            f"  {'logs':<{width}}  {self.log_dir}",
            "",
            f"  {'database':<{width}}  {redact(env['DATABASE_URL'])}{embedded_db}",
            f"  {'redis':<{width}}  {redact(env['REDIS_URL'])}{embedded_redis}",
            "",
            f"  token: {HOW_TO_MINT}",
            "",
        ]
        print("\n".join(lines), flush=True)

    def _supervise(self) -> NoReturn:
        """Keep every child running until a signal ends the session (never returns)."""
        while True:
            self._show_output()
            now = time.monotonic()
            for child in self.children:
                delay = child.exited(now)
                if delay is not None:
                    assert child.process is not None
                    # Whatever the child left in its process group goes with it.
                    _signal_child(child, signal.SIGKILL)
                    _say(
                        f"{child.name} exited (code {child.process.returncode}) after "
                        f"{now - child.started_at:.1f}s; restarting it in {delay:g}s"
                    )
                elif child.due_for_restart(now):
                    child.restarts += 1
                    self._spawn(child)
                    assert child.process is not None
                    _say(
                        f"{child.name} restarted (pid {child.process.pid}, "
                        f"restart {child.restarts})"
                    )
            time.sleep(POLL_INTERVAL_SECONDS)

    def _cleanup(self) -> bool:
        """Stop children, then the embedded servers we started. False if anything failed."""
        ok = self._terminate_children()
        for name, owned, server in (
            ("Redis", self.owns_redis, self.redis),
            ("PostgreSQL", self.owns_postgres, self.postgres),
        ):
            if not owned or server is None:
                continue
            try:
                server.stop()
                _say(f"embedded {name} stopped")
            except Exception as exc:
                _say(f"could not stop embedded {name}: {exc}")
                ok = False
        return ok

    def _terminate_children(self) -> bool:
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            _signal_child(child, signal.SIGTERM)
        deadline = time.monotonic() + TERMINATE_TIMEOUT_SECONDS
        ok = True
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _say(f"{child.name} did not stop in {TERMINATE_TIMEOUT_SECONDS:g}s: killing it")
                _signal_child(child, signal.SIGKILL)
                child.process.wait()
                ok = False
        self._show_output()
        return ok


def _signal_child(child: Child, signum: int) -> None:
    if child.process is not None:
        signal_group(child.process.pid, signum)


# -- entry point ----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.run", description="Run Sanshe locally (`make run`)."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="start everything in the foreground (default)")
    servers = commands.add_parser(
        "servers", help="ensure the embedded servers run; print DATABASE_URL / REDIS_URL"
    )
    servers.add_argument("--database", help="database to create (default: DATABASE_NAME)")
    commands.add_parser("stop-servers", help="stop the embedded servers")
    commands.add_parser("migrate", help="apply migrations (embedded server unless DATABASE_URL)")
    args = parser.parse_args(argv)

    settings = get_dev_settings()
    try:
        if args.command == "servers":
            return cmd_servers(settings, args.database or settings.database_name)
        if args.command == "stop-servers":
            return cmd_stop_servers(settings)
        if args.command == "migrate":
            return cmd_migrate(settings)
    except (RuntimeError, TimeoutError) as exc:
        _say(f"error: {exc}")
        return 1
    return Orchestrator(settings).run()


if __name__ == "__main__":
    sys.exit(main())
