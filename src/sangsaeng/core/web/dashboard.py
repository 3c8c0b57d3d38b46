"""What each role sees first: figures over the organizations the actor may read."""

from __future__ import annotations

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
    org_total: int = 0
    charts: list[dict] = field(default_factory=list)
    sponsors: list[SponsorPanel] = field(default_factory=list)
    own_orgs: list[orgs.OrgDetail] = field(default_factory=list)


def _bar(chart_id: str, title: str, rows: list[tuple[str, int]], label) -> dict:
    return {
        "id": chart_id,
        "title": title,
        "x": [label(code) for code, _n in rows],
        "y": [n for _code, n in rows],
        "n": sum(n for _code, n in rows),
    }


def build(session: Session, actor: Actor) -> Dashboard:
    board = Dashboard(memberships=accounts.own_memberships(session, actor))
    if actor.is_admin or actor.has_role(Role.OPERATOR):
        by_region = orgs.counts_by(session, actor, "region")
        board.org_total = sum(n for _c, n in by_region)
        region_name = lambda c: ((r := reference.region(c)) and r.name) or c  # noqa: E731
        size_name = lambda c: ((s := reference.size_class(c)) and s.name) or c  # noqa: E731
        division_name = lambda c: reference.ksic_label(c)  # noqa: E731
        board.charts = [
            _bar("chart-region", gettext("Organizations by region"), by_region, region_name),
            _bar(
                "chart-size",
                gettext("Organizations by size class"),
                orgs.counts_by(session, actor, "size_class"),
                size_name,
            ),
            _bar(
                "chart-ksic",
                gettext("Top 10 industries (KSIC division)"),
                orgs.counts_by(session, actor, "ksic_division")[:10],
                division_name,
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
