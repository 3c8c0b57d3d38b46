"""Recording and reading audit events.

``record`` writes in the caller's transaction, so an event and the change it describes commit or
roll back together. ``record_separately`` has its own transaction, for events whose request fails
(a permission denial rolls the request back, but must still be logged). The request's client IP
reaches services through a context variable the web layer sets.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.pagination import Page, paginate
from sangsaeng.core.policy import Action, Actor, assert_can

client_ip: ContextVar[str | None] = ContextVar("sangsaeng_client_ip", default=None)

# Values of these fields never enter the log; only the fact that they changed.
_SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash"})


def changes(before: dict[str, object], after: dict[str, object]) -> dict[str, dict[str, object]]:
    """Field-by-field before/after of what differs (secrets masked)."""
    diff = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            masked = key in _SECRET_FIELDS
            diff[key] = {"before": "***" if masked else old, "after": "***" if masked else new}
    return diff


def _event(
    actor: Actor | None,
    action: str,
    *,
    object_type: str | None,
    object_id: object,
    organization_id: int | None,
    details: dict | None,
    email: str | None,
) -> AuditEvent:
    user_id = actor.user_id if actor is not None and not actor.system else None
    return AuditEvent(
        actor_user_id=user_id,
        actor_email=email or (actor.email if actor is not None else None),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        organization_id=organization_id,
        ip=client_ip.get(),
        details=details or None,
    )


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    organization_id: int | None = None,
    details: dict | None = None,
    email: str | None = None,
) -> None:
    session.add(
        _event(
            actor,
            action,
            object_type=object_type,
            object_id=object_id,
            organization_id=organization_id,
            details=details,
            email=email,
        )
    )


def record_separately(factory: sessionmaker[Session], actor: Actor | None, action: str, **fields):
    with factory() as session:
        record(session, actor, action, **fields)
        session.commit()


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor_email: str = ""
    object_type: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _filtered(filters: AuditFilters):
    stmt = select(AuditEvent)
    if filters.action:
        stmt = stmt.where(AuditEvent.action.startswith(filters.action))
    if filters.actor_email:
        stmt = stmt.where(AuditEvent.actor_email == filters.actor_email.strip().lower())
    if filters.object_type:
        stmt = stmt.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(AuditEvent.object_id == filters.object_id)
    if filters.since:
        stmt = stmt.where(AuditEvent.at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEvent.at < filters.until)
    return stmt.order_by(AuditEvent.id.desc())


def list_events(
    session: Session, actor: Actor, filters: AuditFilters, *, page: int = 1, per_page: int = 50
) -> Page[AuditEvent]:
    assert_can(session, actor, Action.AUDIT_READ)
    return paginate(session, _filtered(filters), page, per_page)


EXPORT_LIMIT = 100_000


def export_events(session: Session, actor: Actor, filters: AuditFilters) -> list[AuditEvent]:
    """Events for a download (newest first, at most ``EXPORT_LIMIT``); the export is logged too."""
    assert_can(session, actor, Action.AUDIT_READ)
    events = list(session.scalars(_filtered(filters).limit(EXPORT_LIMIT)))
    record(session, actor, "audit.export", details={"rows": len(events)})
    return events


def details_text(details: dict | None) -> str:
    import json

    return json.dumps(details, ensure_ascii=False, sort_keys=True) if details else ""
