"""Organizations: registration with validated identifiers and reference codes, scoped listing,
supply-chain links with derived supplier tiers, and the editable revenue bands."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sangsaeng.core import reference
from sangsaeng.core.audit.service import changes, record
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.i18n import Msg, get_locale
from sangsaeng.core.ids import format_business_no, normalize_business_no
from sangsaeng.core.models import Organization, RevenueBand, utcnow
from sangsaeng.core.orgs import graph, supply_chain
from sangsaeng.core.pagination import Page, contains_pattern, paginate
from sangsaeng.core.policy import Action, Actor, Role, assert_can, can, readable_organizations

ORG_KINDS = ("sme", "sponsor", "operator", "other")
MAX_REVENUE_KRW = 10**15  # ₩1,000조: anything above is a typo, not a company
MAX_EMPLOYEES = 2_000_000
EARLIEST_FOUNDING_YEAR = 1800

_REQUIRED = ("business_no", "name_ko", "ksic", "region", "size_class")


@dataclass(frozen=True)
class OrgFilters:
    query: str = ""
    region: str = ""
    ksic_division: str = ""
    size_class: str = ""
    revenue_band: str = ""
    kind: str = ""


@dataclass(frozen=True)
class OrgDetail:
    org: Organization
    revenue_band: RevenueBand | None
    supplier_tiers: list[tuple[Organization, int]]
    suppliers: list[supply_chain.Neighbour]
    buyers: list[supply_chain.Neighbour]
    can_manage_links: bool


# ---------------------------------------------------------------- validation


def clean_fields(values: dict[str, object], *, partial: bool) -> dict[str, object]:
    """Normalise user input to column values, collecting every field's error at once."""
    errors: dict[str, Msg] = {}
    clean: dict[str, object] = {}

    def present(key: str) -> bool:
        value = values.get(key)
        return value is not None and not (isinstance(value, str) and not value.strip())

    for key in _REQUIRED:
        # Creating needs every required field; editing may omit one but not blank it.
        if (not partial or key in values) and not present(key):
            errors[key] = Msg("This field is required.")

    if present("business_no"):
        digits = normalize_business_no(str(values["business_no"]))
        if digits is None:
            errors["business_no"] = Msg(
                "Enter a valid business registration number (10 digits, e.g. 123-45-67891)."
            )
        else:
            clean["business_no"] = digits
    if present("name_ko"):
        name = str(values["name_ko"]).strip()
        if len(name) > 200:
            errors["name_ko"] = Msg("Use at most {n} characters.", n=200)
        clean["name_ko"] = name
    if "name_en" in values:
        name_en = str(values["name_en"] or "").strip()
        if len(name_en) > 200:
            errors["name_en"] = Msg("Use at most {n} characters.", n=200)
        clean["name_en"] = name_en or None
    if present("kind"):
        if values["kind"] not in ORG_KINDS:
            errors["kind"] = Msg("Choose a valid organization type.")
        clean["kind"] = values["kind"]
    if present("ksic"):
        code = reference.parse_ksic(str(values["ksic"]))
        if code is None:
            errors["ksic"] = _unknown_ksic(str(values["ksic"]))
        clean["ksic_code"] = code
    if present("region"):
        region_code = reference.parse_region(str(values["region"]))
        if region_code is None:
            errors["region"] = Msg("Choose one of the 17 metropolitan cities and provinces.")
        clean["region_code"] = region_code
    if present("size_class"):
        size = reference.parse_size_class(str(values["size_class"]))
        if size is None:
            errors["size_class"] = Msg("Choose large, mid-sized, SME or micro enterprise.")
        clean["size_class"] = size

    def number(key: str) -> int | None:
        raw = values.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            return int(str(raw).replace(",", "").strip())
        except ValueError:
            errors[key] = Msg("Enter a whole number.")
            return None

    if "employees" in values:
        employees = number("employees")
        if employees is not None and not (0 <= employees <= MAX_EMPLOYEES):
            errors["employees"] = Msg("Employees must be between 0 and {n}.", n=MAX_EMPLOYEES)
        clean["employees"] = employees
    if "revenue_krw" in values:
        revenue = number("revenue_krw")
        if revenue is not None and revenue < 0:
            errors["revenue_krw"] = Msg("Revenue cannot be negative.")
        elif revenue is not None and revenue > MAX_REVENUE_KRW:
            errors["revenue_krw"] = Msg("Revenue is implausibly large. Enter it in KRW (won).")
        clean["revenue_krw"] = revenue
    if "founded_year" in values:
        year = number("founded_year")
        this_year = date.today().year
        if year is not None and not (EARLIEST_FOUNDING_YEAR <= year <= this_year):
            errors["founded_year"] = Msg(
                "Enter a founding year between {lo} and {hi}.",
                lo=EARLIEST_FOUNDING_YEAR,
                hi=this_year,
            )
        clean["founded_year"] = year
    if errors:
        raise InvalidInput(errors)
    return clean


def _unknown_ksic(value: str) -> Msg:
    return Msg(
        "Unknown KSIC industry code '{value}'. Enter a code such as C29, 29 or 291.",
        value=value[:20],
    )


def _duplicate_error() -> InvalidInput:
    return InvalidInput(
        {"business_no": Msg("This business registration number is already registered.")}
    )


# ---------------------------------------------------------------- commands


def create_org(session: Session, actor: Actor, values: dict[str, object]) -> Organization:
    assert_can(session, actor, Action.ORG_CREATE)
    clean = clean_fields(values, partial=False)
    if clean.get("kind", "sme") != "sme" and not actor.is_admin:
        raise InvalidInput({"kind": Msg("Only administrators can change the organization type.")})
    if session.scalar(
        select(Organization.id).where(Organization.business_no == clean["business_no"])
    ):
        raise _duplicate_error()
    org = Organization(**clean)
    try:
        # A concurrent registration of the same number loses here, not with a 500.
        with session.begin_nested():
            session.add(org)
    except IntegrityError as exc:
        raise _duplicate_error() from exc
    record(
        session,
        actor,
        "org.create",
        object_type="organization",
        object_id=org.id,
        organization_id=org.id,
        details=changes({}, clean),
    )
    return org


def update_org(
    session: Session, actor: Actor, org_id: int, values: dict[str, object]
) -> Organization:
    org = _get(session, org_id)
    assert_can(session, actor, Action.ORG_UPDATE, org)
    values = {k: v for k, v in values.items() if k != "business_no"}
    clean = clean_fields(values, partial=True)
    if "kind" in clean and clean["kind"] != org.kind and not actor.is_admin:
        raise InvalidInput({"kind": Msg("Only administrators can change the organization type.")})
    before = {key: getattr(org, key) for key in clean}
    for key, value in clean.items():
        setattr(org, key, value)
    session.flush()
    diff = changes(before, clean)
    if diff:
        record(
            session,
            actor,
            "org.update",
            object_type="organization",
            object_id=org.id,
            organization_id=org.id,
            details=diff,
        )
    return org


def _get(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound()
    return org


def get_org(session: Session, actor: Actor, org_id: int) -> Organization:
    org = _get(session, org_id)
    assert_can(session, actor, Action.ORG_READ, org)
    return org


# ---------------------------------------------------------------- queries


def list_orgs(
    session: Session, actor: Actor, filters: OrgFilters, *, page: int = 1, per_page: int = 20
) -> Page[Organization]:
    return paginate(session, _list_statement(session, actor, filters), page, per_page)


def _list_statement(session: Session, actor: Actor, filters: OrgFilters):
    stmt = select(Organization).where(readable_organizations(actor))
    query = filters.query.strip()
    if query:
        digits = query.replace("-", "")
        if digits.isdigit() and len(digits) >= 3:
            stmt = stmt.where(Organization.business_no.startswith(digits))
        else:
            like = contains_pattern(query)
            stmt = stmt.where(
                Organization.name_ko.ilike(like, escape="\\")
                | Organization.name_en.ilike(like, escape="\\")
            )
    if filters.region:
        stmt = stmt.where(Organization.region_code == filters.region)
    if filters.ksic_division:
        code = reference.parse_ksic(filters.ksic_division)
        if code is None:
            raise InvalidInput({"ksic": _unknown_ksic(filters.ksic_division)})
        stmt = stmt.where(Organization.ksic_code.startswith(code))
    if filters.size_class:
        stmt = stmt.where(Organization.size_class == filters.size_class)
    if filters.kind:
        stmt = stmt.where(Organization.kind == filters.kind)
    if filters.revenue_band:
        band = session.get(RevenueBand, filters.revenue_band)
        if band is not None:
            stmt = stmt.where(Organization.revenue_krw >= band.min_krw)
            if band.max_krw is not None:
                stmt = stmt.where(Organization.revenue_krw < band.max_krw)
    return stmt.order_by(Organization.name_ko, Organization.id)


def org_detail(session: Session, actor: Actor, org_id: int) -> OrgDetail:
    org = get_org(session, actor, org_id)
    links = supply_chain.neighbours(session, actor, org)
    return OrgDetail(
        org=org,
        revenue_band=band_for(revenue_bands(session), org.revenue_krw),
        supplier_tiers=supply_chain.visible_tiers(session, actor, org),
        suppliers=[n for n in links if n.is_supplier],
        buyers=[n for n in links if not n.is_supplier],
        can_manage_links=can(session, actor, Action.SUPPLIERS_MANAGE, org),
    )


def supplier_tier_counts(session: Session, actor: Actor, sponsor_id: int) -> dict[int, int]:
    sponsor = get_org(session, actor, sponsor_id)
    tiers = graph.supplier_tiers(session, sponsor.id)
    counts: dict[int, int] = {}
    for tier in tiers.values():
        counts[tier] = counts.get(tier, 0) + 1
    return dict(sorted(counts.items()))


@dataclass(frozen=True)
class OrgCounts:
    """How many readable organizations fall in each region, size class and KSIC division."""

    total: int
    by_region: list[tuple[str, int]]
    by_size_class: list[tuple[str, int]]
    by_ksic_division: list[tuple[str, int]]
    computed_at: datetime


def org_counts(session: Session, actor: Actor) -> OrgCounts:
    # One grouped scan, rolled up here: cheaper than three GROUP BYs over the whole table.
    rows = session.execute(
        select(
            Organization.region_code, Organization.size_class, Organization.ksic_code, func.count()
        )
        .where(readable_organizations(actor))
        .group_by(Organization.region_code, Organization.size_class, Organization.ksic_code)
    ).all()
    regions: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    divisions: Counter[str] = Counter()
    for region_code, size, ksic_code, count in rows:
        regions[region_code] += count
        sizes[size] += count
        divisions[ksic_code[:2]] += count
    return OrgCounts(
        total=sum(regions.values()),
        by_region=regions.most_common(),
        by_size_class=sizes.most_common(),
        by_ksic_division=divisions.most_common(),
        computed_at=utcnow(),
    )


# ---------------------------------------------------------------- revenue bands


def revenue_bands(session: Session) -> list[RevenueBand]:
    return list(session.scalars(select(RevenueBand).order_by(RevenueBand.position)))


def band_for(bands: list[RevenueBand], revenue_krw: int | None) -> RevenueBand | None:
    if revenue_krw is None:
        return None
    for band in bands:
        if revenue_krw >= band.min_krw and (band.max_krw is None or revenue_krw < band.max_krw):
            return band
    return None


def band_label(band: RevenueBand | None) -> str:
    if band is None:
        return "—"
    return band.label_en if get_locale() == "en" else band.label_ko


def replace_revenue_bands(
    session: Session, actor: Actor, bands: list[dict[str, object]]
) -> list[RevenueBand]:
    """Replace the bands; they must start at 0, be contiguous and end open-ended."""
    assert_can(session, actor, Action.REVENUE_BANDS_EDIT)
    if not bands:
        raise InvalidInput({"bands": Msg("Define at least one band.")})
    expected_min = 0
    codes = set()
    for index, band in enumerate(bands):
        last = index == len(bands) - 1
        if band["min_krw"] != expected_min:
            raise InvalidInput({"bands": Msg("Bands must start at 0 and be contiguous.")})
        if last != (band["max_krw"] is None):
            raise InvalidInput({"bands": Msg("Only the last band is open-ended.")})
        if not last and int(band["max_krw"]) <= int(band["min_krw"]):
            raise InvalidInput(
                {"bands": Msg("Each band's upper bound must exceed its lower bound.")}
            )
        if int(band["min_krw"]) > MAX_REVENUE_KRW or int(band["max_krw"] or 0) > MAX_REVENUE_KRW:
            raise InvalidInput(
                {"bands": Msg("Revenue is implausibly large. Enter it in KRW (won).")}
            )
        if band["code"] in codes:
            raise InvalidInput({"bands": Msg("Band codes must be unique.")})
        codes.add(band["code"])
        expected_min = band["max_krw"]
    before = [
        {"code": b.code, "min_krw": b.min_krw, "max_krw": b.max_krw} for b in revenue_bands(session)
    ]
    session.execute(delete(RevenueBand))
    rows = [RevenueBand(position=i, **b) for i, b in enumerate(bands)]
    session.add_all(rows)
    session.flush()
    after = [{"code": b.code, "min_krw": b.min_krw, "max_krw": b.max_krw} for b in rows]
    record(session, actor, "revenue_bands.replace", details={"before": before, "after": after})
    return rows


def display_business_no(org: Organization) -> str:
    return format_business_no(org.business_no)


def sponsor_org_ids(actor: Actor) -> set[int]:
    return actor.org_ids(Role.SPONSOR)


def ensure_can_create(session: Session, actor: Actor) -> None:
    assert_can(session, actor, Action.ORG_CREATE)


def get_org_for_update(session: Session, actor: Actor, org_id: int) -> Organization:
    org = _get(session, org_id)
    assert_can(session, actor, Action.ORG_UPDATE, org)
    return org


def can_update(session: Session, actor: Actor, org: Organization) -> bool:
    return can(session, actor, Action.ORG_UPDATE, org)


def org_form_values(org: Organization) -> dict[str, object]:
    return {
        "business_no": format_business_no(org.business_no),
        "name_ko": org.name_ko,
        "name_en": org.name_en or "",
        "kind": org.kind,
        "ksic": org.ksic_code,
        "region": org.region_code,
        "size_class": org.size_class,
        "employees": org.employees,
        "revenue_krw": org.revenue_krw,
        "founded_year": org.founded_year,
    }


def can_create(session: Session, actor: Actor) -> bool:
    return can(session, actor, Action.ORG_CREATE)


EXPORT_LIMIT = 100_000
# The organization import template's columns (Foundation II reads the same headers back).
EXPORT_HEADERS = {
    "ko": (
        "사업자등록번호",
        "기업명",
        "업종코드",
        "지역",
        "기업규모",
        "종업원수",
        "매출액",
        "설립연도",
        "매출구간",
    ),
    "en": (
        "business_no",
        "name",
        "ksic",
        "region",
        "size",
        "employees",
        "revenue",
        "founded",
        "revenue_band",
    ),
}


def export_orgs(
    session: Session, actor: Actor, filters: OrgFilters
) -> tuple[tuple[str, ...], list[tuple]]:
    """The filtered list as rows for a spreadsheet (at most ``EXPORT_LIMIT``); logged."""
    stmt = _list_statement(session, actor, filters).limit(EXPORT_LIMIT)
    bands = revenue_bands(session)
    rows = []
    for org in session.scalars(stmt):
        region = reference.region(org.region_code)
        size = reference.size_class(org.size_class)
        rows.append(
            (
                format_business_no(org.business_no),
                org.name_ko,
                org.ksic_code,
                region.name if region else org.region_code,
                size.name if size else org.size_class,
                org.employees,
                org.revenue_krw,
                org.founded_year,
                band_label(band_for(bands, org.revenue_krw)),
            )
        )
    record(session, actor, "org.export", details={"rows": len(rows), "filters": filters.__dict__})
    return EXPORT_HEADERS["en" if get_locale() == "en" else "ko"], rows


def ensure_can_edit_bands(session: Session, actor: Actor) -> None:
    assert_can(session, actor, Action.REVENUE_BANDS_EDIT)


def replace_revenue_bands_from_form(
    session: Session, actor: Actor, rows: list[dict[str, str]]
) -> list[RevenueBand]:
    """Form rows as typed (blank rows skipped; an empty upper bound means open-ended)."""
    bands = []
    for row in rows:
        if not any(str(v).strip() for v in row.values()):
            continue
        try:
            low = int(str(row["min_krw"]).replace(",", "").strip())
            high_text = str(row["max_krw"]).replace(",", "").strip()
            high = int(high_text) if high_text else None
        except ValueError as exc:
            raise InvalidInput({"bands": Msg("Enter a whole number.")}) from exc
        if not all(str(row[k]).strip() for k in ("code", "label_ko", "label_en")):
            raise InvalidInput({"bands": Msg("This field is required.")})
        bands.append(
            {
                "code": row["code"].strip()[:16],
                "label_ko": row["label_ko"].strip()[:50],
                "label_en": row["label_en"].strip()[:50],
                "min_krw": low,
                "max_krw": high,
            }
        )
    return replace_revenue_bands(session, actor, bands)


def find_by_business_no(session: Session, value: str) -> Organization | None:
    digits = normalize_business_no(value)
    if digits is None:
        return None
    return session.scalar(select(Organization).where(Organization.business_no == digits))
