"""The KPI catalogue as users see it: the shipped KPIs (kpis.csv) plus those operators added.

An added KPI has every field a shipped one has (unit, direction, valid range, category, how its
improvement is computed) and is checked the same way; codes are unique across both, so a stored
measurement always means one KPI.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.audit.service import record as audit
from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import KpiDefinition
from sangsaeng.core.policy import Actor, Role
from sangsaeng.core.reference import Kpi, kpis

CATEGORIES = ("operations", "business", "input")
DIRECTIONS = ("higher", "lower")
IMPROVEMENTS = ("relative", "difference")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _as_kpi(row: KpiDefinition) -> Kpi:
    return Kpi(
        code=row.code,
        name_ko=row.name_ko,
        name_en=row.name_en,
        unit=row.unit,
        direction=row.direction,
        min_value=row.min_value,
        max_value=row.max_value,
        category=row.category,
        improvement=row.improvement,
    )


def kpi_catalogue(session: Session) -> dict[str, Kpi]:
    """Shipped KPIs first, then added ones in the order they were added."""
    added = session.scalars(select(KpiDefinition).order_by(KpiDefinition.created_at))
    return {**kpis(), **{row.code: _as_kpi(row) for row in added}}


def can_define(actor: Actor) -> bool:
    return actor.is_admin or bool(actor.org_ids(Role.OPERATOR))


def _number(raw, field: str, errors: dict) -> float | None:
    text = str(raw if raw is not None else "").strip().replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        errors[field] = Msg("Enter a number.")
        return None


def define_kpi(session: Session, actor: Actor, values: dict) -> Kpi:
    """Add a KPI to the catalogue (operators and admins); every field is checked and nothing is
    stored when one is wrong."""
    if not can_define(actor):
        raise Forbidden()
    errors: dict[str, Msg] = {}
    code = str(values.get("code") or "").strip().lower()
    if not _CODE.match(code):
        errors["code"] = Msg(
            "Use 2 to 40 lower-case letters, digits and underscores, starting with a letter."
        )
    names = {k: str(values.get(k) or "").strip() for k in ("name_ko", "name_en", "unit")}
    for key, text in names.items():
        if not text:
            errors[key] = Msg("This field is required.")
        elif len(text) > (30 if key == "unit" else 100):
            errors[key] = Msg("Enter at most {n} characters.", n=30 if key == "unit" else 100)
    choices = {
        "direction": DIRECTIONS,
        "category": CATEGORIES,
        "improvement": IMPROVEMENTS,
    }
    chosen = {key: str(values.get(key) or "").strip() for key in choices}
    for key, allowed in choices.items():
        if chosen[key] not in allowed:
            errors[key] = Msg("Choose a listed value.")
    low = _number(values.get("min_value"), "min_value", errors)
    high = _number(values.get("max_value"), "max_value", errors)
    if low is not None and high is not None and low >= high:
        errors["max_value"] = Msg("The upper bound must be above the lower bound.")
    if errors:
        raise InvalidInput(errors)
    if code in kpi_catalogue(session):
        raise Conflict(Msg("A KPI with this code already exists."))
    home = sorted(actor.org_ids(Role.OPERATOR))
    row = KpiDefinition(
        code=code,
        **names,
        **chosen,
        min_value=low,
        max_value=high,
        organization_id=home[0] if home else None,
        created_by_id=actor.user_id or None,
    )
    session.add(row)
    session.flush()
    audit(session, actor, "kpi.define", details={"code": code})
    return _as_kpi(row)
