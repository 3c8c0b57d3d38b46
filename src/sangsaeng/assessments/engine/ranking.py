"""Rankings and peer comparisons: certification cut-offs with explained tie-breaks, percentiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

MIN_PEERS = 5


@dataclass(frozen=True)
class Entry:
    key: int  # the caller's id (e.g. an assessment id)
    overall: float
    dimensions: dict[str, float]
    submitted_at: datetime
    # False when the entry may not be certified yet (e.g. awaiting a required on-site check):
    # it keeps its rank but takes none of the ``top_n`` places.
    eligible: bool = True


@dataclass(frozen=True)
class Ranked:
    key: int
    rank: int
    overall: float
    certified: bool
    # Why this entry sits below the one ranked just above it when their overall scores tie:
    # the tie-break that decided, or None when the overall score alone decided.
    decided_by: str | None
    reason: str  # "top_n", "min_score", "ineligible" or "" for certified entries


def rank_entries(
    entries: Sequence[Entry], *, top_n: int | None, min_score: float, tie_breaks: Sequence[str]
) -> list[Ranked]:
    """Rank by overall score (higher first); ties broken by each named dimension (higher first),
    then by ``submitted_at`` (earlier first), then by key. Certified: eligible, overall ≥
    min_score, and among the first ``top_n`` eligible entries. Ranks are strict (1, 2, 3, …):
    a tie-break always decides."""

    def sort_key(entry: Entry) -> tuple:
        parts: list = [-entry.overall]
        for name in tie_breaks:
            if name == "submitted_at":
                parts.append(entry.submitted_at.timestamp())
            else:
                parts.append(-entry.dimensions.get(name, 0.0))
        parts.append(entry.submitted_at.timestamp())
        parts.append(entry.key)
        return tuple(parts)

    ordered = sorted(entries, key=sort_key)
    ranked: list[Ranked] = []
    places_taken = 0
    for index, entry in enumerate(ordered):
        decided_by = None
        if index and ordered[index - 1].overall == entry.overall:
            decided_by = _decider(ordered[index - 1], entry, tie_breaks)
        reason = ""
        if not entry.eligible:
            reason = "ineligible"
        elif top_n is not None and places_taken >= top_n:
            reason = "top_n"
        elif entry.overall < min_score:
            reason = "min_score"
        else:
            places_taken += 1
        ranked.append(Ranked(entry.key, index + 1, entry.overall, not reason, decided_by, reason))
    return ranked


def _decider(above: Entry, below: Entry, tie_breaks: Sequence[str]) -> str:
    for name in tie_breaks:
        if name == "submitted_at":
            if above.submitted_at != below.submitted_at:
                return name
        elif above.dimensions.get(name, 0.0) != below.dimensions.get(name, 0.0):
            return name
    if above.submitted_at != below.submitted_at:
        return "submitted_at"
    return "key"


@dataclass(frozen=True)
class PeerStanding:
    n_peers: int
    percentile: float | None  # None when fewer than MIN_PEERS peers: nothing is shown


def peer_percentile(own: float, peers: Sequence[float]) -> PeerStanding:
    """Mid-rank percentile of ``own`` among peers' scores (the organization itself excluded):
    100 × (below + ½·equal) / n. Withheld below :data:`MIN_PEERS` peers to protect them."""
    n = len(peers)
    if n < MIN_PEERS:
        return PeerStanding(n, None)
    below = sum(1 for p in peers if p < own)
    equal = sum(1 for p in peers if p == own)
    return PeerStanding(n, round(100.0 * (below + 0.5 * equal) / n, 1))
