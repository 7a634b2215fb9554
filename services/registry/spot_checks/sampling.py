"""Spot checks (抽查): a reproducible random sample of organizations for a year.

Algorithm `sha256-street-v1`, simple enough for an auditor to recompute by hand:

1. The population is every organization not closed (`active` or `abnormal`),
   optionally limited to one registration and one district.
2. It is stratified by street (organizations without a street form one stratum, `''`).
3. In each stratum of N organizations, n = ceil(N × percentage / 100) are drawn: those
   with the smallest SHA-256 of `"<seed>:<organization id>"` (the UUID in its
   canonical lower-case form), ranked 1..n in that order.

The same seed and population always give the same sample, whatever order the rows
come in; adding an organization to one street never changes another street's draw.
Rounding up per stratum makes the sample at least the percentage overall — the
regulatory minimum is 3% at county level, 4% city, 5% province — and gives every
street at least one check. The seed, the percentage and the algorithm name are
stored with the draw.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ALGORITHM = "sha256-street-v1"


@dataclass(frozen=True, slots=True)
class Drawn:
    organization_id: uuid.UUID
    stratum: str
    rank: int


def _key(seed: int, organization_id: uuid.UUID) -> bytes:
    return hashlib.sha256(f"{seed}:{organization_id}".encode()).digest()


def draw_sample(
    population: Iterable[tuple[uuid.UUID, str | None]], *, seed: int, percentage: Decimal
) -> list[Drawn]:
    """The sample of `population` ((id, street) pairs) for this seed and percentage."""
    strata: dict[str, list[uuid.UUID]] = defaultdict(list)
    for organization_id, street in population:
        strata[street or ""].append(organization_id)
    sample: list[Drawn] = []
    for stratum in sorted(strata):
        members = strata[stratum]
        size = math.ceil(Decimal(len(members)) * percentage / 100)
        chosen = sorted(members, key=lambda member: _key(seed, member))[:size]
        sample += [Drawn(member, stratum, rank) for rank, member in enumerate(chosen, 1)]
    return sample
