"""Input and output shapes of the organizations API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OrganizationIn(BaseModel):
    business_no: str = Field(description="사업자등록번호, 10 digits, separators allowed")
    name_ko: str
    name_en: str | None = None
    kind: str = Field(default="sme", description="sme | sponsor | operator | other")
    ksic: str = Field(description="KSIC 11th revision: C29, 29 or 291")
    region: str = Field(description="시·도 code or name, e.g. 41 or 경기도")
    size_class: str = Field(
        description="대기업/중견기업/중소기업/소상공인 or large/midsize/sme/micro"
    )
    employees: int | None = None
    revenue_krw: int | None = Field(default=None, description="Annual revenue in KRW (원)")
    founded_year: int | None = None


class OrganizationPatch(BaseModel):
    name_ko: str | None = None
    name_en: str | None = None
    kind: str | None = None
    ksic: str | None = None
    region: str | None = None
    size_class: str | None = None
    employees: int | None = None
    revenue_krw: int | None = None
    founded_year: int | None = None


class CodeName(BaseModel):
    code: str
    name: str


class OrganizationOut(BaseModel):
    id: int
    business_no: str
    business_no_display: str
    name_ko: str
    name_en: str | None
    kind: str
    ksic: CodeName
    ksic_division: CodeName
    region: CodeName
    size_class: CodeName
    employees: int | None
    revenue_krw: int | None
    revenue_band: CodeName | None
    founded_year: int | None


class SupplierTier(BaseModel):
    sponsor_id: int
    sponsor_name: str
    tier: int


class LinkOut(BaseModel):
    link_id: int
    organization_id: int
    name: str
    status: str = Field(description="active | awaiting_us | awaiting_them")


class OrganizationDetailOut(OrganizationOut):
    supplier_tiers: list[SupplierTier]
    suppliers: list[LinkOut]
    buyers: list[LinkOut]


class OrganizationPageOut(BaseModel):
    items: list[OrganizationOut]
    total: int
    page: int
    per_page: int
    pages: int


class SupplierLinkIn(BaseModel):
    supplier_business_no: str


class BuyerLinkIn(BaseModel):
    buyer_business_no: str


class LinkStateOut(BaseModel):
    link_id: int
    active: bool


class RevenueBandIn(BaseModel):
    code: str = Field(min_length=1, max_length=16)
    label_ko: str = Field(min_length=1, max_length=50)
    label_en: str = Field(min_length=1, max_length=50)
    min_krw: int
    max_krw: int | None


class RevenueBandOut(RevenueBandIn):
    position: int
