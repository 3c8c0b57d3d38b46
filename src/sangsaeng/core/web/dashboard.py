"""What each role sees first: figures over the organizations the actor may read."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from sangsaeng.core import reference
from sangsaeng.core.accounts import service as accounts
from sangsaeng.core.i18n import gettext
from sangsaeng.core.models import Organization
from sangsaeng.core.orgs import service as orgs
from sangsaeng.core.policy import Actor, Role


@dataclass
class SponsorPanel:
    org: Organization
    tier_counts: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.tier_counts.values())


@dataclass
class Dashboard:
    memberships: list[tuple[Organization, str]]
    counts: orgs.OrgCounts | None = None
    charts: list[dict] = field(default_factory=list)
    sponsors: list[SponsorPanel] = field(default_factory=list)
    own_orgs: list[orgs.OrgDetail] = field(default_factory=list)


class _CountsCache:
    """Registry-wide counts (identical for every operator and admin), kept briefly per process:
    they scan every organization, and the dashboard is the most visited page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, orgs.OrgCounts]] = {}

    def get(self, key: str, ttl: float, compute) -> orgs.OrgCounts:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit and now - hit[0] < ttl:
            return hit[1]
        value = compute()
        with self._lock:
            self._entries[key] = (now, value)
        return value


_registry_counts = _CountsCache()


def _bar(chart_id: str, title: str, rows: list[tuple[str, int]], label) -> dict:
    return {
        "id": chart_id,
        "title": title,
        "x": [label(code) for code, _n in rows],
        "y": [n for _code, n in rows],
        "n": sum(n for _code, n in rows),
    }


def _region_name(code: str) -> str:
    found = reference.region(code)
    return found.name if found else code


def _size_name(code: str) -> str:
    found = reference.size_class(code)
    return found.name if found else code


def build(session: Session, actor: Actor, *, cache_seconds: float = 0) -> Dashboard:
    board = Dashboard(memberships=accounts.own_memberships(session, actor))
    if actor.is_admin or actor.has_role(Role.OPERATOR):
        key = str(session.get_bind().url)
        counts = _registry_counts.get(key, cache_seconds, lambda: orgs.org_counts(session, actor))
        board.counts = counts
        board.charts = [
            _bar(
                "chart-region", gettext("Organizations by region"), counts.by_region, _region_name
            ),
            _bar(
                "chart-size",
                gettext("Organizations by size class"),
                counts.by_size_class,
                _size_name,
            ),
            _bar(
                "chart-ksic",
                gettext("Top 10 industries (KSIC division)"),
                counts.by_ksic_division[:10],
                reference.ksic_label,
            ),
        ]
    for org, role in board.memberships:
        if role == Role.SPONSOR:
            board.sponsors.append(
                SponsorPanel(org, orgs.supplier_tier_counts(session, actor, org.id))
            )
        if role == Role.SME:
            board.own_orgs.append(orgs.org_detail(session, actor, org.id))
    for panel in board.sponsors:
        board.charts.append(
            _bar(
                f"chart-tiers-{panel.org.id}",
                gettext("Suppliers of {name} by tier", name=panel.org.name_ko),
                [(str(t), n) for t, n in panel.tier_counts.items()],
                lambda t: gettext("Tier {n}", n=t),
            )
        )
    return board
