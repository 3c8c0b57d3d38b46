"""Who hears about what happens in a program, and the words for it.

The services call these inside the transaction of the event they report, so a refused action
(which raises and rolls back) tells nobody. Every text is a ``Msg``: ``notify`` renders it in
each recipient's own language.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sangsaeng.core.i18n import Msg
from sangsaeng.core.notifications import service as notifications
from sangsaeng.core.policy import Role
from sangsaeng.programs.models import A_REJECTED, A_RESERVE, A_SELECTED, A_UNDER_REVIEW, Program

# The roles that act for a company in its own applications and projects (as the services allow).
COMPANY_ROLES = (Role.SME.value, Role.SPONSOR.value, Role.OPERATOR.value)

MILESTONE_NAMES = {
    "kickoff": Msg("Kickoff"),
    "midterm": Msg("Midterm check"),
    "completion": Msg("Completion"),
    "final": Msg("Final inspection"),
}
OUTCOMES = {
    A_SELECTED: Msg("Selected"),
    A_RESERVE: Msg("Reserve list"),
    A_REJECTED: Msg("Not selected"),
    A_UNDER_REVIEW: Msg("Under review"),
}


def company_members(session: Session, organization_id: int) -> list[int]:
    return notifications.members_of(session, organization_id, COMPANY_ROLES)


def program_operators(session: Session, program: Program) -> list[int]:
    return notifications.members_of(session, program.operator_org_id, (Role.OPERATOR.value,))


def tell_company(
    session: Session, organization_id: int, *, title: Msg, body: Msg | str = "", link: str
) -> int:
    return notifications.notify(
        session, company_members(session, organization_id), title=title, body=body, link=link
    )


def tell_operators(
    session: Session, program: Program, *, title: Msg, body: Msg | str = "", link: str
) -> int:
    return notifications.notify(
        session, program_operators(session, program), title=title, body=body, link=link
    )


def tell_user(
    session: Session, user_id: int, *, title: Msg, body: Msg | str = "", link: str
) -> int:
    return notifications.notify(session, [user_id], title=title, body=body, link=link)


def milestone_name(kind: str) -> Msg | str:
    return MILESTONE_NAMES.get(kind, kind)


def outcome(status: str) -> Msg | str:
    return OUTCOMES.get(status, status)
