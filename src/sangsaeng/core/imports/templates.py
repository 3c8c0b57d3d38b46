"""Saving and applying column-mapping templates (per organization of the person importing)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.i18n import Msg
from sangsaeng.core.imports.models import MappingTemplate
from sangsaeng.core.policy import Actor, Role


def _home_org(actor: Actor) -> int:
    """Templates belong to the organization the importer works for (operator or admin office)."""
    owned = sorted(actor.org_ids(Role.OPERATOR, Role.ADMIN)) or sorted(actor.org_ids())
    if not owned:
        raise InvalidInput(
            {"name": Msg("Templates are kept per organization; you belong to none.")}
        )
    return owned[0]


def list_templates(session: Session, actor: Actor, importer: str) -> list[MappingTemplate]:
    orgs = actor.org_ids()
    return list(
        session.scalars(
            select(MappingTemplate)
            .where(MappingTemplate.organization_id.in_(orgs), MappingTemplate.importer == importer)
            .order_by(MappingTemplate.name)
        )
    )


def save_template(
    session: Session,
    actor: Actor,
    importer: str,
    name: str,
    headers: list[str],
    mapping: dict[str, int],
) -> MappingTemplate:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput({"name": Msg("Enter a name of 1 to 100 characters.")})
    columns = {key: headers[i] for key, i in mapping.items() if 0 <= i < len(headers)}
    org_id = _home_org(actor)
    existing = session.scalar(
        select(MappingTemplate).where(
            MappingTemplate.organization_id == org_id,
            MappingTemplate.importer == importer,
            MappingTemplate.name == name,
        )
    )
    if existing is not None:  # saving under the same name replaces the template
        existing.columns = columns
        session.flush()
        return existing
    template = MappingTemplate(
        organization_id=org_id,
        importer=importer,
        name=name,
        columns=columns,
        created_by_id=actor.user_id or None,
    )
    try:
        with session.begin_nested():
            session.add(template)
    except IntegrityError as exc:
        raise InvalidInput({"name": Msg("A template with this name already exists.")}) from exc
    record(
        session,
        actor,
        "import.template_save",
        object_type="import_template",
        object_id=template.id,
        organization_id=org_id,
        details={"name": name},
    )
    return template


def apply_template(
    session: Session, actor: Actor, template_id: int, headers: list[str]
) -> dict[str, int]:
    """The template's columns found in this file's headers (missing ones are left unmapped)."""
    template = session.get(MappingTemplate, template_id)
    if template is None or template.organization_id not in actor.org_ids():
        raise NotFound()
    position = {header: i for i, header in enumerate(headers)}
    return {key: position[h] for key, h in template.columns.items() if h in position}
