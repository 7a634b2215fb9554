"""Import reports."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ImportIssueOut(BaseModel):
    row: int = Field(description="Spreadsheet row number: the header is row 1")
    column: str
    code: str
    message: str


class ImportReport(BaseModel):
    """What an import did (or, with `dry_run`, would do)."""

    dry_run: bool
    applied: bool = Field(description="Whether anything was written")
    total_rows: int
    created: int
    updated: int
    unchanged: int
    skipped_rows: int = Field(description="Rows left out for their errors (all_or_nothing=false)")
    error_count: int = Field(description="How many errors the rows left out have")
    errors: list[ImportIssueOut] = Field(
        description="The errors of the rows left out: the first 1,000 found"
    )
