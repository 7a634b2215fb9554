"""An included router answers "no match" at once only where none of its routes matches.

`shared.app` puts one regex (the alternation of its routes' own) in front of each router
the app includes; the router must decide every path any of its routes could take,
in full (method too) or by path only (a 405), exactly as without it.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import fastapi.routing
import pytest
from starlette.routing import Match

_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
_SAMPLE = "0192f1a8-5c3e-7b2a-9d4e-1f2a3b4c5d6e"


def _scope(path: str, method: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


def _paths(route: Any) -> set[str]:
    """Each route path of the router, made concrete, with near misses around it."""
    paths: set[str] = set()
    for context in fastapi.routing.iter_route_contexts([route]):
        concrete = _PARAM.sub(_SAMPLE, context.path)
        paths |= {concrete, concrete + "/", concrete + "/x", concrete[:-1], "/x" + concrete}
    return paths


@pytest.mark.parametrize("service", ["registry", "projects", "workflow"])
def test_guarded_routers_match_as_without_the_guard(service: str) -> None:
    app = importlib.import_module(f"services.{service}.main").app
    routers = [r for r in app.router.routes if "matches" in vars(r)]  # the guarded ones
    assert routers, "no included router is guarded"
    every_path = set().union(*(_paths(router) for router in app.router.routes))
    every_path |= {"/", "/api/v1", "/api/v1/", "/nothing/here"}
    decided = 0
    for router in routers:
        for path in every_path:
            for method in ("GET", "POST", "DELETE"):
                guarded, _ = router.matches(_scope(path, method))
                unguarded, _ = type(router).matches(router, _scope(path, method))
                assert guarded == unguarded, (path, method)
                decided += guarded is not Match.NONE
    assert decided  # some paths were matched, so the comparison compared something
