"""Reference data for the front-end: vocabularies with Chinese labels, administrative regions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.vocabulary import Term

__all__ = ["RegionOut", "Term"]


class RegionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: str
    parent_code: str | None
