"""Imports as background jobs: the uploaded file is read from storage and imported in the job's
single transaction (a killed worker leaves nothing behind; the job can be run again)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.imports import reader, service
from sangsaeng.core.jobs.service import Reporter, register_kind
from sangsaeng.core.policy import Actor

IMPORT_ORGS = "import.organizations"
IMPORT_LINKS = "import.links"


def refused(details: dict, *, rejected: int, all_or_nothing: bool) -> InvalidInput:
    """The error an import job fails with when it wrote nothing; the job page lists ``details``
    (every rejected row)."""
    message = (
        Msg("{n} rows were rejected; nothing was written (all-or-nothing).", n=rejected)
        if rejected and all_or_nothing
        else Msg("The file has no valid row; nothing was written.")
    )
    error = InvalidInput({}, message=message)
    error.details = details
    return error


def _run(importer, session: Session, actor: Actor, params: dict, report: Reporter) -> dict:
    report(1, gettext("Reading the file."))
    data = files.read_for_job(session, actor, files.current_storage(), params["file_id"])
    table = reader.read_table(data, params.get("filename", ""), params.get("encoding", "auto"))

    def progress(done: int, total: int) -> None:
        if total:
            report(
                5 + int(90 * done / total),
                gettext("Checked {done} of {total}.", done=f"{done:,}", total=f"{total:,}"),
            )

    mapping = params.get("mapping")
    if mapping is not None:
        mapping = {key: int(index) for key, index in mapping.items()}
    result = importer(
        session, actor, table, mode=params.get("mode", "all"), mapping=mapping, progress=progress
    )
    if not result.committed:
        raise refused(result.as_dict(), rejected=len(result.rejected), all_or_nothing=True)
    return result.as_dict()


def run_organizations(session: Session, actor: Actor, params: dict, report: Reporter) -> dict:
    return _run(service.import_organizations, session, actor, params, report)


def run_links(session: Session, actor: Actor, params: dict, report: Reporter) -> dict:
    return _run(service.import_links, session, actor, params, report)


def register() -> None:
    register_kind(IMPORT_ORGS, Msg("Import organizations"), run_organizations)
    register_kind(IMPORT_LINKS, Msg("Import buyer → supplier links"), run_links)
