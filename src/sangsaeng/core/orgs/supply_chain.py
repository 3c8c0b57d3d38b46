"""Buyer → supplier links, confirmed by both sides, and what each reader may see of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.i18n import Msg
from sangsaeng.core.ids import normalize_business_no
from sangsaeng.core.models import Organization, SupplierLink, utcnow
from sangsaeng.core.notifications import service as notifications
from sangsaeng.core.orgs import graph
from sangsaeng.core.policy import Action, Actor, Role, assert_can, can, readable_organizations

Side = Literal["buyer", "supplier"]


@dataclass(frozen=True)
class Neighbour:
    link: SupplierLink
    org: Organization
    # Whether ``org`` supplies the organization being viewed (else it buys from it).
    is_supplier: bool

    @property
    def active(self) -> bool:
        return self.link.active

    @property
    def status(self) -> str:
        """active, or who still has to confirm: "awaiting_us" (the viewed organization) or
        "awaiting_them" (the counterpart)."""
        if self.link.active:
            return "active"
        # The viewed organization is the buyer when the counterpart supplies it.
        ours = self.link.buyer_confirmed_at if self.is_supplier else self.link.supplier_confirmed_at
        return "awaiting_them" if ours is not None else "awaiting_us"


def _trusted(actor: Actor) -> bool:
    """Registry keepers confirm a link for both sides at once."""
    return actor.is_admin or actor.has_role(Role.OPERATOR)


def _insider(actor: Actor, org: Organization) -> bool:
    return _trusted(actor) or org.id in actor.org_ids()


def _org(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound()
    return org


def declare_link(
    session: Session, actor: Actor, org_id: int, counterpart_business_no: str, *, side: Side
) -> SupplierLink:
    """``org_id`` declares that it buys from (side="buyer") or supplies (side="supplier") the
    organization with that business number. The link counts once the other side confirms."""
    org = _org(session, org_id)
    assert_can(session, actor, Action.SUPPLIERS_MANAGE, org)
    field = "supplier_business_no" if side == "buyer" else "buyer_business_no"
    digits = normalize_business_no(counterpart_business_no)
    if digits is None:
        raise InvalidInput(
            {
                field: Msg(
                    "Enter a valid business registration number (10 digits, e.g. 123-45-67891)."
                )
            }
        )
    counterpart = session.scalar(select(Organization).where(Organization.business_no == digits))
    if counterpart is None:
        raise InvalidInput({field: Msg("No organization is registered with this number.")})
    if counterpart.id == org.id:
        raise InvalidInput({field: Msg("An organization cannot supply itself.")})
    buyer, supplier = (org, counterpart) if side == "buyer" else (counterpart, org)
    link = _find(session, buyer.id, supplier.id)
    if link is None:
        link = SupplierLink(buyer_id=buyer.id, supplier_id=supplier.id)
        try:
            with session.begin_nested():  # a concurrent declaration of the same pair wins
                session.add(link)
        except IntegrityError:
            link = _find(session, buyer.id, supplier.id)
    now = utcnow()
    if side == "buyer" or _trusted(actor):
        link.buyer_confirmed_at = link.buyer_confirmed_at or now
    if side == "supplier" or _trusted(actor):
        link.supplier_confirmed_at = link.supplier_confirmed_at or now
    session.flush()
    if not link.active:
        _ask_to_confirm(session, org, counterpart)
    record(
        session,
        actor,
        "org.link_declare",
        object_type="supplier_link",
        object_id=link.id,
        organization_id=org.id,
        details={"buyer_id": buyer.id, "supplier_id": supplier.id, "active": link.active},
    )
    return link


def _ask_to_confirm(session: Session, declared_by: Organization, counterpart: Organization) -> None:
    notifications.notify(
        session,
        notifications.members_of(session, counterpart.id, ("sme", "sponsor", "operator")),
        title=Msg("Please confirm a supply-chain link"),
        body=Msg(
            "{name} registered a buyer–supplier link with {counterpart}. Confirm or decline "
            "it on the organization page.",
            name=declared_by.name_ko,
            counterpart=counterpart.name_ko,
        ),
        link=f"/orgs/{counterpart.id}",
    )


def _find(session: Session, buyer_id: int, supplier_id: int) -> SupplierLink | None:
    return session.scalar(
        select(SupplierLink).where(
            SupplierLink.buyer_id == buyer_id, SupplierLink.supplier_id == supplier_id
        )
    )


def _link_of(session: Session, actor: Actor, org_id: int, link_id: int) -> SupplierLink:
    org = _org(session, org_id)
    assert_can(session, actor, Action.SUPPLIERS_MANAGE, org)
    link = session.get(SupplierLink, link_id)
    if link is None or org_id not in (link.buyer_id, link.supplier_id):
        raise NotFound()
    return link


def confirm_link(session: Session, actor: Actor, org_id: int, link_id: int) -> SupplierLink:
    """``org_id`` agrees to a link the other side declared."""
    link = _link_of(session, actor, org_id, link_id)
    now = utcnow()
    if link.buyer_id == org_id or _trusted(actor):
        link.buyer_confirmed_at = link.buyer_confirmed_at or now
    if link.supplier_id == org_id or _trusted(actor):
        link.supplier_confirmed_at = link.supplier_confirmed_at or now
    session.flush()
    record(
        session,
        actor,
        "org.link_confirm",
        object_type="supplier_link",
        object_id=link.id,
        organization_id=org_id,
        details={"active": link.active},
    )
    return link


def remove_link(session: Session, actor: Actor, org_id: int, link_id: int) -> None:
    """Either side may end a link (or decline one it was asked to confirm)."""
    link = _link_of(session, actor, org_id, link_id)
    record(
        session,
        actor,
        "org.link_remove",
        object_type="supplier_link",
        object_id=link.id,
        organization_id=org_id,
        details={"buyer_id": link.buyer_id, "supplier_id": link.supplier_id},
    )
    session.delete(link)
    session.flush()


def neighbours(session: Session, actor: Actor, org: Organization) -> list[Neighbour]:
    """Direct buyers and suppliers. The organization's own members (and registry keepers) see
    every link, pending ones included; anyone else sees confirmed links to organizations they
    may read."""
    other = aliased(Organization)
    stmt = (
        select(SupplierLink, other)
        .join(
            other,
            or_(
                (SupplierLink.supplier_id == other.id) & (SupplierLink.buyer_id == org.id),
                (SupplierLink.buyer_id == other.id) & (SupplierLink.supplier_id == org.id),
            ),
        )
        .order_by(other.name_ko)
    )
    if not _insider(actor, org):
        readable = readable_organizations(actor)
        stmt = stmt.where(
            SupplierLink.buyer_confirmed_at.is_not(None),
            SupplierLink.supplier_confirmed_at.is_not(None),
            other.id.in_(select(Organization.id).where(readable)),
        )
    return [
        Neighbour(link=link, org=counterpart, is_supplier=link.supplier_id == counterpart.id)
        for link, counterpart in session.execute(stmt).all()
    ]


def visible_tiers(
    session: Session, actor: Actor, org: Organization
) -> list[tuple[Organization, int]]:
    """The organization's tier under each sponsor; outsiders see only sponsors they may read."""
    tiers = graph.tiers_of(session, org.id)
    if _insider(actor, org):
        return tiers
    return [(s, t) for s, t in tiers if can(session, actor, Action.ORG_READ, s)]
