"""Supply-chain graph queries (recursive CTEs that run on SQLite and PostgreSQL alike).

A supplier's tier for a sponsor is its shortest distance from the sponsor along confirmed buyer →
supplier links: 1 for a direct supplier. Depth is bounded so a cycle in the data cannot run away.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from sqlalchemy import CTE, Select, bindparam, func, literal, select
from sqlalchemy.orm import Session

from sangsaeng.core.models import Organization, SupplierLink, link_is_active

MAX_TIER = 10


def downstream_cte(root_ids: Iterable[int], name: str = "downstream") -> CTE:
    """Rows (org_id, depth) for every organization reachable below ``root_ids``."""
    links = SupplierLink.__table__
    roots = list(root_ids)
    base = select(links.c.supplier_id.label("org_id"), literal(1).label("depth")).where(
        links.c.buyer_id.in_(roots), link_is_active()
    )
    chain = base.cte(name, recursive=True)
    step = (
        select(links.c.supplier_id, chain.c.depth + 1)
        .join(chain, links.c.buyer_id == chain.c.org_id)
        .where(chain.c.depth < MAX_TIER, link_is_active())
    )
    return chain.union(step)


def downstream_ids(root_ids: Iterable[int]) -> Select:
    chain = downstream_cte(root_ids)
    return select(chain.c.org_id)


def supplier_tiers(session: Session, sponsor_id: int) -> dict[int, int]:
    """Shortest tier of every supplier below one sponsor: {org_id: tier}."""
    chain = downstream_cte([sponsor_id])
    rows = session.execute(
        select(chain.c.org_id, func.min(chain.c.depth)).group_by(chain.c.org_id)
    ).all()
    return {org_id: tier for org_id, tier in rows if org_id != sponsor_id}


@cache
def _tiers_of_statement() -> Select:
    """Built once with a bound parameter: SQLAlchemy then reuses its compiled form."""
    links = SupplierLink.__table__
    org_id = bindparam("org_id")
    base = select(links.c.buyer_id.label("org_id"), literal(1).label("depth")).where(
        links.c.supplier_id == org_id, link_is_active()
    )
    chain = base.cte("upstream", recursive=True)
    step = (
        select(links.c.buyer_id, chain.c.depth + 1)
        .join(chain, links.c.supplier_id == chain.c.org_id)
        .where(chain.c.depth < MAX_TIER, link_is_active())
    )
    chain = chain.union(step)
    nearest = (
        select(chain.c.org_id, func.min(chain.c.depth).label("tier"))
        .group_by(chain.c.org_id)
        .subquery()
    )
    return (
        select(Organization, nearest.c.tier)
        .join(nearest, nearest.c.org_id == Organization.id)
        .where(Organization.kind == "sponsor", Organization.id != org_id)
        .order_by(nearest.c.tier, Organization.name_ko)
    )


def tiers_of(session: Session, org_id: int) -> list[tuple[Organization, int]]:
    """For one organization, its tier under each sponsor above it, nearest first."""
    rows = session.execute(_tiers_of_statement(), {"org_id": org_id}).all()
    return [(sponsor, tier) for sponsor, tier in rows]
