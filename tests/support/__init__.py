"""What the tests share: fixtures (loaded by `pytest_plugins` in tests/conftest.py) and helpers.

* `servers`: the PostgreSQL and Redis of the run (given, or embedded), a database per run;
* `apps`: the three services in-process (ASGI clients) and `auth` headers;
* `system`: the whole system as real processes (three uvicorn services and the arq worker);
* `registry`: the stand-in registry the projects tests talk to, or the real registry app;
* `processes`, `receiver`, `polling`, `paging`: helpers, no fixtures.

No test module imports from another test module (a `test_*.py` or a `conftest.py`):
what several of them use lives here.
"""
