"""Column-mapping templates, saved per organization and reused for files with the same headers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sangsaeng.core.models import UtcDateTime, utcnow
from sangsaeng.db import Base


class MappingTemplate(Base):
    __tablename__ = "import_mapping_templates"
    __table_args__ = (
        UniqueConstraint("organization_id", "importer", "name", name="uq_mapping_templates_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    importer: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    # Column key → the file's header text (so a template fits files whose columns moved).
    columns: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
