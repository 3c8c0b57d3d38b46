"""Storing and reading uploads.

Each place that accepts uploads names the content types it allows and its size limit. Files
live under ``<data dir>/files/<2 hex>/<random key>``; the original name is never part of a path.
Reading a file needs a permission check: the uploader, members of the owning organization, and
administrators. Uploads and downloads are audited.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.files import content
from sangsaeng.core.files.models import StoredFile
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import Organization
from sangsaeng.core.policy import Action, Actor, Role, assert_can


@dataclass(frozen=True)
class Place:
    allowed: frozenset[str]
    max_bytes: int


PLACES: dict[str, Place] = {
    "import": Place(frozenset({content.CSV, content.XLSX}), 50 * 1024 * 1024),
    "evidence": Place(
        frozenset({content.PDF, content.PNG, content.JPEG, content.XLSX, content.CSV}),
        20 * 1024 * 1024,
    ),
    # Application documents and milestone deliverables of support programs.
    "program": Place(
        frozenset({content.PDF, content.PNG, content.JPEG, content.XLSX}), 20 * 1024 * 1024
    ),
    # Evidence of reported KPI values (outcomes): certificates, ledgers, system screenshots.
    "kpi": Place(
        frozenset({content.PDF, content.PNG, content.JPEG, content.XLSX, content.CSV}),
        20 * 1024 * 1024,
    ),
}
_TYPE_NAMES = {
    content.CSV: "CSV",
    content.XLSX: "Excel (.xlsx)",
    content.PDF: "PDF",
    content.PNG: "PNG",
    content.JPEG: "JPEG",
}


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def write(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(target)  # readers never see half a file

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()


_configured: LocalStorage | None = None


def configure_storage(storage: LocalStorage) -> None:
    """Called by the composition root (web app, worker) with the installation's storage."""
    global _configured
    _configured = storage


def current_storage() -> LocalStorage:
    if _configured is None:
        raise RuntimeError("file storage is not configured")
    return _configured


def _display_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or "file")[:255]


def store(
    session: Session,
    actor: Actor,
    storage: LocalStorage,
    *,
    data: bytes,
    filename: str,
    place: str,
    organization_id: int | None,
) -> StoredFile:
    rules = PLACES.get(place)
    if rules is None:
        raise InvalidInput({"place": Msg("Files cannot be uploaded here.")})
    if organization_id is not None:
        org = session.get(Organization, organization_id)
        if org is None:
            raise NotFound()
        assert_can(session, actor, Action.ORG_UPDATE, org)
    elif not actor.is_admin and not actor.has_role(Role.OPERATOR):
        raise InvalidInput({"organization_id": Msg("Choose the organization the file belongs to.")})
    if not data:
        raise InvalidInput({"file": Msg("The file is empty.")})
    if len(data) > rules.max_bytes:
        raise InvalidInput(
            {"file": Msg("The file is larger than {mb} MB.", mb=rules.max_bytes // (1024 * 1024))}
        )
    kind = content.sniff(data)
    if kind not in rules.allowed:
        allowed = ", ".join(sorted(_TYPE_NAMES[t] for t in rules.allowed))
        raise InvalidInput(
            {
                "file": Msg(
                    "This kind of file is not accepted here. Allowed: {types}.", types=allowed
                )
            }
        )
    key = secrets.token_hex(16)
    storage.write(key, data)
    stored = StoredFile(
        id=secrets.token_hex(16),
        organization_id=organization_id,
        uploaded_by_id=actor.user_id or None,
        place=place,
        original_name=_display_name(filename),
        content_type=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
    )
    session.add(stored)
    session.flush()
    record(
        session,
        actor,
        "file.upload",
        object_type="file",
        object_id=stored.id,
        organization_id=organization_id,
        details={"place": place, "size": stored.size, "sha256": stored.sha256},
    )
    return stored


def _readable(actor: Actor, stored: StoredFile) -> bool:
    return (
        actor.is_admin
        or (stored.uploaded_by_id is not None and stored.uploaded_by_id == actor.user_id)
        or (stored.organization_id is not None and stored.organization_id in actor.org_ids())
    )


# Higher layers grant reading by place (e.g. a program's operators read the documents of the
# applications they manage) without core importing them.
FileReader = Callable[[Session, Actor, StoredFile], bool]
_READERS: dict[str, FileReader] = {}


def register_reader(place: str, reader: FileReader) -> None:
    _READERS[place] = reader


def get(session: Session, actor: Actor, file_id: str) -> StoredFile:
    stored = session.get(StoredFile, file_id)
    if stored is None:
        raise NotFound()
    if _readable(actor, stored):
        return stored
    reader = _READERS.get(stored.place)
    if reader is not None and reader(session, actor, stored):
        return stored
    raise NotFound()  # another tenant's file does not exist, as far as the caller knows


def read_for_job(session: Session, actor: Actor, storage: LocalStorage, file_id: str) -> bytes:
    """A job reading its own input (checked like a download; not logged as one)."""
    stored = get(session, actor, file_id)
    data = storage.read(stored.storage_key)
    if hashlib.sha256(data).hexdigest() != stored.sha256:
        raise NotFound(Msg("The stored file is damaged. Please upload it again."))
    return data


def download(
    session: Session, actor: Actor, storage: LocalStorage, file_id: str
) -> tuple[StoredFile, bytes]:
    stored = get(session, actor, file_id)
    data = read_for_job(session, actor, storage, file_id)
    record(
        session,
        actor,
        "file.download",
        object_type="file",
        object_id=stored.id,
        organization_id=stored.organization_id,
    )
    return stored, data
