"""The one place that decides whether an actor may do an action on an object (default deny).

Services call :func:`assert_can` before acting and :func:`readable_organizations` to scope lists.
A token-authenticated actor is further limited to its token's scopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from sangsaeng.core.errors import Forbidden, NotFound
from sangsaeng.core.models import Organization
from sangsaeng.core.orgs.graph import downstream_cte, downstream_ids


class Role(StrEnum):
    OPERATOR = "operator"
    SPONSOR = "sponsor"
    SME = "sme"
    ADVISER = "adviser"
    EVALUATOR = "evaluator"
    ADMIN = "admin"


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class Action(StrEnum):
    ORG_READ = "org.read"
    ORG_CREATE = "org.create"
    ORG_UPDATE = "org.update"
    SUPPLIERS_MANAGE = "org.suppliers.manage"
    USERS_MANAGE = "users.manage"
    REVENUE_BANDS_EDIT = "revenue_bands.edit"
    REFERENCE_READ = "reference.read"
    OWN_ACCOUNT = "account.own"
    AUDIT_READ = "audit.read"
    ASSESSMENT_READ = "assessment.read"
    ASSESSMENT_WRITE = "assessment.write"
    ASSESSMENT_VERIFY = "assessment.verify"
    ASSESSMENTS_MANAGE = "assessments.manage"
    LEDGER_READ = "ledger.read"
    PROGRAM_CREATE = "program.create"
    PROGRAM_MANAGE = "program.manage"
    LEDGER_WRITE = "ledger.write"


_SCOPE_OF_ACTION = {
    Action.ORG_READ: Scope.READ,
    Action.REFERENCE_READ: Scope.READ,
    Action.ORG_CREATE: Scope.WRITE,
    Action.ORG_UPDATE: Scope.WRITE,
    Action.SUPPLIERS_MANAGE: Scope.WRITE,
    Action.OWN_ACCOUNT: Scope.WRITE,
    Action.USERS_MANAGE: Scope.ADMIN,
    Action.REVENUE_BANDS_EDIT: Scope.ADMIN,
    Action.AUDIT_READ: Scope.ADMIN,
    Action.ASSESSMENT_READ: Scope.READ,
    Action.ASSESSMENT_WRITE: Scope.WRITE,
    Action.ASSESSMENT_VERIFY: Scope.WRITE,
    Action.ASSESSMENTS_MANAGE: Scope.WRITE,
    Action.LEDGER_READ: Scope.READ,
    Action.PROGRAM_CREATE: Scope.WRITE,
    Action.PROGRAM_MANAGE: Scope.WRITE,
    Action.LEDGER_WRITE: Scope.WRITE,
}

# Roles whose members speak for their organization's own profile and supply chain.
_ORG_OWNER_ROLES = frozenset({Role.SME, Role.SPONSOR, Role.OPERATOR})


@dataclass(frozen=True)
class Actor:
    user_id: int
    email: str
    name: str
    memberships: frozenset[tuple[int, str]] = field(default_factory=frozenset)
    # None for a browser session (the user's full rights); a token's scopes otherwise.
    scopes: frozenset[str] | None = None
    session_id: str | None = None
    # The installation itself (CLI commands, the demo seeder): acts with an administrator's rights.
    system: bool = False

    def has_role(self, *roles: str) -> bool:
        return any(role in roles for _org, role in self.memberships)

    def org_ids(self, *roles: str) -> set[int]:
        return {org for org, role in self.memberships if not roles or role in roles}

    @property
    def is_admin(self) -> bool:
        return self.system or self.has_role(Role.ADMIN)

    @property
    def roles(self) -> set[str]:
        return {role for _org, role in self.memberships}


def _scope_allows(actor: Actor, action: Action) -> bool:
    if actor.scopes is None:
        return True
    needed = _SCOPE_OF_ACTION[action]
    if needed == Scope.READ:
        return bool(actor.scopes)
    if needed == Scope.WRITE:
        return bool({Scope.WRITE, Scope.ADMIN} & actor.scopes)
    return Scope.ADMIN in actor.scopes


def _can_read_org(session: Session, actor: Actor, org: Organization) -> bool:
    if actor.is_admin or actor.has_role(Role.OPERATOR) or org.id in actor.org_ids():
        return True
    sponsors = actor.org_ids(Role.SPONSOR)
    if not sponsors:
        return False
    chain = downstream_cte(sponsors)
    hit = session.execute(select(chain.c.org_id).where(chain.c.org_id == org.id).limit(1))
    return hit.first() is not None


def _owns_org(actor: Actor, org_id: int) -> bool:
    return org_id in actor.org_ids(*_ORG_OWNER_ROLES)


def can(session: Session, actor: Actor, action: Action, obj: object = None) -> bool:
    if not _scope_allows(actor, action):
        return False
    match action:
        case Action.REFERENCE_READ | Action.OWN_ACCOUNT:
            return True
        case Action.ORG_READ:
            return isinstance(obj, Organization) and _can_read_org(session, actor, obj)
        case Action.ORG_CREATE:
            return actor.is_admin or actor.has_role(Role.OPERATOR)
        case Action.ORG_UPDATE:
            # An organization's own profile is its members' to keep (and the administrators').
            return isinstance(obj, Organization) and (actor.is_admin or _owns_org(actor, obj.id))
        case Action.SUPPLIERS_MANAGE:
            # Operators register supply chains from sponsors' lists, confirming both sides.
            if not isinstance(obj, Organization):
                return False
            return actor.is_admin or actor.has_role(Role.OPERATOR) or _owns_org(actor, obj.id)
        case Action.USERS_MANAGE | Action.REVENUE_BANDS_EDIT | Action.AUDIT_READ:
            return actor.is_admin
        case Action.ASSESSMENT_READ:
            # A diagnosis is its organization's own; operators follow it, sponsors do not see it.
            return isinstance(obj, Organization) and (
                actor.is_admin or actor.has_role(Role.OPERATOR) or obj.id in actor.org_ids()
            )
        case Action.ASSESSMENT_WRITE:
            return isinstance(obj, Organization) and (actor.is_admin or _owns_org(actor, obj.id))
        case Action.PROGRAM_CREATE:
            return actor.is_admin or actor.has_role(Role.OPERATOR)
        case Action.PROGRAM_MANAGE:
            # A program is run by the operators of its operating organization (``obj``).
            return isinstance(obj, Organization) and (
                actor.is_admin or obj.id in actor.org_ids(Role.OPERATOR)
            )
        case Action.LEDGER_READ | Action.LEDGER_WRITE:
            # Program modules scope ledger access further (a program's own operators).
            return actor.is_admin or actor.has_role(Role.OPERATOR)
        case Action.ASSESSMENT_VERIFY | Action.ASSESSMENTS_MANAGE:
            # Assessors assigned to one response are allowed by the assessments service itself.
            return actor.is_admin or actor.has_role(Role.OPERATOR)
    return False


def assert_can(session: Session, actor: Actor, action: Action, obj: object = None) -> None:
    """Raise 404 when the actor may not even know the object exists, else 403."""
    if can(session, actor, action, obj):
        return
    hidden = isinstance(obj, Organization) and (
        action == Action.ORG_READ or not can(session, actor, Action.ORG_READ, obj)
    )
    error = NotFound() if hidden else Forbidden()
    # The web layer logs this denial in its own transaction (the request's is rolled back).
    error.denial = {
        "action": str(action),
        "object_type": type(obj).__name__.lower() if obj is not None else None,
        "object_id": getattr(obj, "id", None),
    }
    raise error


def readable_organizations(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause limiting an organization query to rows the actor may read."""
    if actor.is_admin or actor.has_role(Role.OPERATOR):
        return true()
    clauses = [Organization.id.in_(actor.org_ids())]
    if sponsors := actor.org_ids(Role.SPONSOR):
        clauses.append(Organization.id.in_(downstream_ids(sponsors)))
    return or_(*clauses)


SYSTEM_ACTOR = Actor(user_id=0, email="system", name="system", system=True)
