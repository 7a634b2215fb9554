"""Development tooling, never part of a deployment: `make run` and the test harness.

* `devtools.embedded`: PostgreSQL and Redis from PyPI wheels (the `local` extra);
* `devtools.run`: the `make run` orchestrator (`python -m devtools.run`);
* `devtools.supervision`: restarting the children of `make run` with backoff;
* `devtools.processes`: child processes with a log file, stopped for sure, and ports;
* `devtools.settings`: the settings only these tools read (`DevSettings`).
"""
