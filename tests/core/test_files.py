"""Uploads: content checked by magic bytes, size limits, hashes, names never used as paths, and
downloads only for those allowed."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select

from sangsaeng.core.audit.models import AuditEvent
from sangsaeng.core.files import content
from sangsaeng.core.files.models import StoredFile
from tests.factories import api_token, bearer, make_org, make_user


def xlsx_bytes() -> bytes:
    book = Workbook()
    book.active.append(["사업자등록번호", "기업명"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_sniffing_ignores_names_and_claims():
    assert content.sniff(b"%PDF-1.7\n...") == content.PDF
    assert content.sniff(b"\x89PNG\r\n\x1a\n....") == content.PNG
    assert content.sniff(xlsx_bytes()) == content.XLSX
    assert content.sniff("사업자등록번호,기업명\n".encode("cp949")) == content.CSV
    assert content.sniff(b"MZ\x90\x00\x03\x00") == content.UNKNOWN  # a Windows program
    assert content.sniff(b"PK\x03\x04 not really a zip") == content.UNKNOWN


def upload(client, token, data, name="file.csv", place="evidence", org_id=None):
    form = {"place": place}
    if org_id is not None:
        form["organization_id"] = str(org_id)
    return client.post(
        "/api/v1/files",
        headers=bearer(token),
        data=form,
        files={"file": (name, data, "application/pdf")},
    )


def test_upload_keeps_hash_and_name_but_not_the_path(client, db, app):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    token = api_token(db, user)
    data = "사업자등록번호,기업명\n".encode()
    response = upload(client, token, data, name="../../etc/passwd", org_id=org.id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["content_type"] == "text/csv"  # what it is, not what the browser claimed
    assert body["original_name"] == "passwd"
    stored = db.scalar(select(StoredFile).where(StoredFile.id == body["id"]))
    path = app.state.storage.path(stored.storage_key)
    assert path.read_bytes() == data and "passwd" not in str(path)
    assert Path(app.state.storage.root) in path.parents
    download = client.get(f"/api/v1/files/{body['id']}/content", headers=bearer(token))
    assert download.content == data
    assert download.headers["content-disposition"].startswith("attachment;")
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["file.upload", "file.download"]


def test_wrong_kind_too_large_and_empty_files_are_refused(client, db):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    token = api_token(db, user)
    exe = upload(client, token, b"MZ\x90\x00" + b"\x00" * 100, name="report.pdf", org_id=org.id)
    assert exe.status_code == 422 and "허용" in exe.json()["details"]["file"]
    pdf_for_import = upload(client, token, b"%PDF-1.4", place="import", org_id=org.id)
    assert pdf_for_import.status_code == 422
    big = upload(client, token, b"a" * (20 * 1024 * 1024 + 1), org_id=org.id)
    assert big.status_code == 422 and "20 MB" in big.json()["details"]["file"]
    empty = upload(client, token, b"", org_id=org.id)
    assert empty.status_code == 422
    assert db.scalars(select(StoredFile)).all() == []


def test_other_tenants_cannot_read_or_upload(client, db):
    mine, theirs = make_org(db), make_org(db)
    me = make_user(db, roles=[(mine, "sme")])
    them = make_user(db, roles=[(theirs, "sme")])
    db.commit()
    my_token, their_token = api_token(db, me), api_token(db, them)
    file_id = upload(client, my_token, b"%PDF-1.4 doc", org_id=mine.id).json()["id"]
    assert client.get(f"/api/v1/files/{file_id}", headers=bearer(their_token)).status_code == 404
    assert (
        client.get(f"/api/v1/files/{file_id}/content", headers=bearer(their_token)).status_code
        == 404
    )
    assert upload(client, their_token, b"%PDF-1.4", org_id=mine.id).status_code == 404


def test_a_damaged_file_is_not_served(client, db, app):
    org = make_org(db)
    user = make_user(db, roles=[(org, "sme")])
    db.commit()
    token = api_token(db, user)
    file_id = upload(client, token, b"%PDF-1.4 original", org_id=org.id).json()["id"]
    stored = db.scalar(select(StoredFile).where(StoredFile.id == file_id))
    app.state.storage.path(stored.storage_key).write_bytes(b"%PDF-1.4 tampered")
    response = client.get(f"/api/v1/files/{file_id}/content", headers=bearer(token))
    assert response.status_code == 404 and "손상" in response.json()["message"]
