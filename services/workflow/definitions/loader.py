"""Case definitions: the data files beside this module, stored in Postgres by version.

A file is `<case_type>.v<version>.yaml`. Stored versions are immutable: if a file's
content differs from what is stored under the same version, start-up fails loudly
(publish a new version instead), because running cases keep the version they began on.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from services.workflow.definitions import repository
from services.workflow.definitions.schemas import DefinitionContent
from shared.db import database

# The YAML files ship as package data (pyproject `[tool.setuptools.package-data]`).
DEFINITIONS_DIR = Path(__file__).parent


class DefinitionConflict(RuntimeError):
    """A definition file changed the content of an already stored version."""


def read_definition_files(directory: Path = DEFINITIONS_DIR) -> list[DefinitionContent]:
    definitions = []
    for path in sorted(directory.glob("*.yaml")):
        content = DefinitionContent.model_validate(yaml.safe_load(path.read_text("utf-8")))
        expected = f"{content.case_type}.v{content.version}.yaml"
        if path.name != expected:
            raise ValueError(f"{path.name}: a definition file must be named {expected}")
        definitions.append(content)
    return definitions


async def sync_definitions(session: AsyncSession, definitions: list[DefinitionContent]) -> None:
    """Store new versions; refuse a stored version whose content changed."""
    for definition in definitions:
        digest = definition.sha256()
        stored = await repository.store_version(session, definition, digest=digest)
        if stored != digest:
            raise DefinitionConflict(
                f"{definition.case_type} v{definition.version} differs from the stored version; "
                "publish it as a new version"
            )


async def load_case_definitions() -> None:
    """Store the repository's definition files (API and worker start-up)."""
    async with database.transaction() as session:
        await sync_definitions(session, read_definition_files())
