"""JSON API for organizations, supplier links, revenue bands and reference codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from sangsaeng.core import reference
from sangsaeng.core.models import Organization, RevenueBand
from sangsaeng.core.orgs import service, supply_chain
from sangsaeng.core.orgs.schemas import (
    BuyerLinkIn,
    CodeName,
    LinkOut,
    LinkStateOut,
    OrganizationDetailOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationPageOut,
    OrganizationPatch,
    RevenueBandIn,
    RevenueBandOut,
    SupplierLinkIn,
    SupplierTier,
)
from sangsaeng.core.policy import Action, assert_can
from sangsaeng.core.web.deps import CurrentActor, SessionDep

router = APIRouter(prefix="/api/v1", tags=["organizations"])


def _code_name(code: str, name: str) -> CodeName:
    return CodeName(code=code, name=name)


def organization_out(org: Organization, bands: list[RevenueBand]) -> OrganizationOut:
    division = reference.ksic_division_of(org.ksic_code)
    entry = reference.ksic_entry(org.ksic_code)
    region = reference.region(org.region_code)
    size = reference.size_class(org.size_class)
    band = service.band_for(bands, org.revenue_krw)
    return OrganizationOut(
        id=org.id,
        business_no=org.business_no,
        business_no_display=service.display_business_no(org),
        name_ko=org.name_ko,
        name_en=org.name_en,
        kind=org.kind,
        ksic=_code_name(org.ksic_code, entry.name if entry else ""),
        ksic_division=_code_name(
            division.code if division else "", division.name if division else ""
        ),
        region=_code_name(org.region_code, region.name if region else ""),
        size_class=_code_name(org.size_class, size.name if size else ""),
        employees=org.employees,
        revenue_krw=org.revenue_krw,
        revenue_band=_code_name(band.code, service.band_label(band)) if band else None,
        founded_year=org.founded_year,
    )


@router.get("/organizations", response_model=OrganizationPageOut)
def list_organizations(
    db: SessionDep,
    actor: CurrentActor,
    q: str = "",
    region: str = "",
    ksic: str = "",
    size: str = "",
    band: str = "",
    kind: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 20,
):
    filters = service.OrgFilters(
        query=q, region=region, ksic_division=ksic, size_class=size, revenue_band=band, kind=kind
    )
    result = service.list_orgs(db, actor, filters, page=page, per_page=per_page)
    bands = service.revenue_bands(db)
    return OrganizationPageOut(
        items=[organization_out(o, bands) for o in result.items],
        total=result.total,
        page=result.page,
        per_page=result.per_page,
        pages=result.pages,
    )


@router.post("/organizations", response_model=OrganizationOut, status_code=status.HTTP_201_CREATED)
def create_organization(body: OrganizationIn, db: SessionDep, actor: CurrentActor):
    org = service.create_org(db, actor, body.model_dump())
    return organization_out(org, service.revenue_bands(db))


@router.get("/organizations/{org_id}", response_model=OrganizationDetailOut)
def get_organization(org_id: int, db: SessionDep, actor: CurrentActor):
    detail = service.org_detail(db, actor, org_id)
    base = organization_out(detail.org, service.revenue_bands(db))
    return OrganizationDetailOut(
        **base.model_dump(),
        supplier_tiers=[
            SupplierTier(sponsor_id=s.id, sponsor_name=s.name_ko, tier=t)
            for s, t in detail.supplier_tiers
        ],
        suppliers=[_link_out(n) for n in detail.suppliers],
        buyers=[_link_out(n) for n in detail.buyers],
    )


@router.patch("/organizations/{org_id}", response_model=OrganizationOut)
def update_organization(org_id: int, body: OrganizationPatch, db: SessionDep, actor: CurrentActor):
    org = service.update_org(db, actor, org_id, body.model_dump(exclude_unset=True))
    return organization_out(org, service.revenue_bands(db))


def _link_out(n: supply_chain.Neighbour) -> LinkOut:
    return LinkOut(link_id=n.link.id, organization_id=n.org.id, name=n.org.name_ko, status=n.status)


@router.post(
    "/organizations/{org_id}/suppliers",
    response_model=LinkStateOut,
    status_code=status.HTTP_201_CREATED,
)
def declare_supplier(org_id: int, body: SupplierLinkIn, db: SessionDep, actor: CurrentActor):
    """This organization buys from the one with that business number (it confirms the link)."""
    link = supply_chain.declare_link(db, actor, org_id, body.supplier_business_no, side="buyer")
    return LinkStateOut(link_id=link.id, active=link.active)


@router.post(
    "/organizations/{org_id}/buyers",
    response_model=LinkStateOut,
    status_code=status.HTTP_201_CREATED,
)
def declare_buyer(org_id: int, body: BuyerLinkIn, db: SessionDep, actor: CurrentActor):
    """This organization supplies the one with that business number (it confirms the link)."""
    link = supply_chain.declare_link(db, actor, org_id, body.buyer_business_no, side="supplier")
    return LinkStateOut(link_id=link.id, active=link.active)


@router.post("/organizations/{org_id}/links/{link_id}/confirm", response_model=LinkStateOut)
def confirm_link(org_id: int, link_id: int, db: SessionDep, actor: CurrentActor):
    link = supply_chain.confirm_link(db, actor, org_id, link_id)
    return LinkStateOut(link_id=link.id, active=link.active)


@router.delete("/organizations/{org_id}/links/{link_id}", status_code=204)
def remove_link(org_id: int, link_id: int, db: SessionDep, actor: CurrentActor):
    supply_chain.remove_link(db, actor, org_id, link_id)
    return Response(status_code=204)


@router.get("/revenue-bands", response_model=list[RevenueBandOut])
def list_revenue_bands(db: SessionDep, actor: CurrentActor):
    assert_can(db, actor, Action.REFERENCE_READ)
    return [
        RevenueBandOut.model_validate(b, from_attributes=True) for b in service.revenue_bands(db)
    ]


@router.put("/revenue-bands", response_model=list[RevenueBandOut])
def replace_revenue_bands(body: list[RevenueBandIn], db: SessionDep, actor: CurrentActor):
    rows = service.replace_revenue_bands(db, actor, [b.model_dump() for b in body])
    return [RevenueBandOut.model_validate(b, from_attributes=True) for b in rows]


@router.get("/reference/ksic", response_model=list[dict])
def ksic_codes(db: SessionDep, actor: CurrentActor):
    assert_can(db, actor, Action.REFERENCE_READ)
    return [
        {"code": e.code, "level": e.level, "parent": e.parent, "name": e.name}
        for e in reference.ksic_table().values()
    ]


@router.get("/reference/regions", response_model=list[CodeName])
def regions(db: SessionDep, actor: CurrentActor):
    assert_can(db, actor, Action.REFERENCE_READ)
    return [_code_name(r.code, r.name) for r in reference.regions()]
