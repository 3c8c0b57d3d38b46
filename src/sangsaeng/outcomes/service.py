"""KPI measurements of projects: reported by the company (or its program's operators), checked
as they arrive, verified or rejected by the program's operators.

A value's source (self-reported, auto-measured, imported) and its status (reported, verified,
rejected with a reason) are stored with it and always shown; impossible values are refused with
the field and the reason, suspicious ones are stored with a flag for the verifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core import reference
from sangsaeng.core.audit.service import record as audit
from sangsaeng.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg
from sangsaeng.core.models import utcnow
from sangsaeng.core.policy import Actor, Role
from sangsaeng.core.reference.catalogue import kpi_catalogue
from sangsaeng.outcomes.engine import checks
from sangsaeng.outcomes.models import (
    REJECTED,
    REPORTED,
    SOURCES,
    STAGES,
    VERIFIED,
    KpiMeasurement,
)
from sangsaeng.programs import project_service as projects
from sangsaeng.programs import service as programs

AUTO = "auto"  # the source of values measured from the company's factory data
EVIDENCE_PLACE = "kpi"  # where KPI evidence is uploaded (core files), read by evidence.py
KPI_REPORT = "kpi_report"  # the follow-up kind a reported follow-up value files (programs)


def _manages(session: Session, actor: Actor, project) -> bool:
    program = programs.get_program(session, actor, project.program_id)
    return programs.can_manage(session, actor, program)


def _is_company(actor: Actor, project) -> bool:
    return project.organization_id in actor.org_ids(Role.SME, Role.SPONSOR, Role.OPERATOR)


def is_company(actor: Actor, project) -> bool:
    """A member of the project's company (its own values to report)."""
    return _is_company(actor, project)


def manages(session: Session, actor: Actor, project) -> bool:
    """One of the program's operators (or an administrator): verifies and rejects."""
    return _manages(session, actor, project)


@dataclass(frozen=True)
class Report:
    kpi_code: str
    stage: str
    period_start: date
    period_end: date
    value: float
    unit: str
    year_no: int | None = None
    source: str = "self"
    evidence: tuple[str, ...] = ()


def _standing(session: Session, project_id: int, kpi_code: str) -> list[KpiMeasurement]:
    """The project's values of one KPI that count (not rejected), oldest period first."""
    return list(
        session.scalars(
            select(KpiMeasurement)
            .where(
                KpiMeasurement.project_id == project_id,
                KpiMeasurement.kpi_code == kpi_code,
                KpiMeasurement.status != REJECTED,
            )
            .order_by(KpiMeasurement.period_end, KpiMeasurement.id)
        )
    )


def prepare(
    session: Session,
    actor: Actor,
    project,
    values: Report,
    *,
    catalogue: dict[str, reference.Kpi] | None = None,
    standing: list[KpiMeasurement] | None = None,
    measured: bool = False,
) -> KpiMeasurement:
    """Check one value of ``project`` with every rule and return it unsaved; raise InvalidInput
    with each field's reason when it is impossible. The form, the API and the sheet import all
    come through here, so they accept and refuse the same values. ``measured``: the value was
    measured from the company's factory data by ``outcomes.measured`` (the only way to the
    source ``auto``), not typed."""
    if not (_is_company(actor, project) or _manages(session, actor, project)):
        raise Forbidden()
    kpi = (catalogue if catalogue is not None else kpi_catalogue(session)).get(values.kpi_code)
    errors: dict[str, Msg] = {}
    if kpi is None:
        raise InvalidInput({"kpi_code": Msg("Choose KPIs from the catalogue.")})
    if values.stage not in STAGES:
        errors["stage"] = Msg("Choose a listed value.")
    if values.source not in SOURCES:
        errors["source"] = Msg("Choose a listed value.")
    if values.stage == "follow_up" and not (values.year_no and values.year_no >= 1):
        errors["year_no"] = Msg("Enter a whole number of at least 1.")
    if standing is None:
        standing = _standing(session, project.id, kpi.code)
    baseline = next((m for m in standing if m.stage == "baseline"), None)
    if values.stage != "baseline" and baseline is None:
        errors["stage"] = Msg("Report the baseline of this KPI first.")
    verdict = checks.check(
        checks.KpiSpec(kpi.code, kpi.unit, kpi.min_value, kpi.max_value),
        checks.Reported(values.value, values.unit, values.period_start, values.period_end),
        baseline=_as_reported(baseline) if values.stage != "baseline" else None,
        previous=standing[-1].value if standing else None,
    )
    for field, (msgid, params) in verdict.refused.items():
        errors[field] = Msg(msgid, **params)
    if values.source == AUTO and not measured:
        errors["source"] = Msg("Auto-measured values come only from the company's factory data.")
    elif (
        values.source in SOURCES
        and values.source not in ("self", AUTO)
        and not _manages(session, actor, project)
    ):
        errors["source"] = Msg("Only the program office records values from other sources.")
    for file_id in values.evidence:
        stored = files.get(session, actor, file_id)
        if stored.place != EVIDENCE_PLACE:
            errors["evidence"] = Msg("Upload the evidence as a KPI evidence file first.")
        elif stored.organization_id != project.organization_id and not (
            stored.organization_id is None
            and stored.uploaded_by_id == actor.user_id
            and _manages(session, actor, project)
        ):
            errors["evidence"] = Msg("Upload the files for this organization first.")
    if errors:
        raise InvalidInput(errors)
    return KpiMeasurement(
        project_id=project.id,
        organization_id=project.organization_id,
        kpi_code=kpi.code,
        stage=values.stage,
        year_no=values.year_no if values.stage == "follow_up" else None,
        period_start=values.period_start,
        period_end=values.period_end,
        value=values.value,
        unit=kpi.unit,
        source=values.source,
        status=REPORTED,
        flags=[[msgid, params] for msgid, params in verdict.flags],
        evidence=list(values.evidence),
        reported_by_id=actor.user_id or None,
    )


def report(
    session: Session,
    actor: Actor,
    project_id: int,
    values: Report,
    *,
    measured: dict | None = None,
) -> KpiMeasurement:
    """Record one value; refused (nothing stored) when impossible, flagged when suspicious.
    ``measured``: where an auto-measured value came from (datasets, query, method), for the
    audit record; only ``outcomes.measured`` passes it."""
    project = projects.get_project(session, actor, project_id)
    measurement = prepare(session, actor, project, values, measured=measured is not None)
    session.add(measurement)
    session.flush()
    audit(
        session,
        actor,
        "kpi.report",
        object_type="project",
        object_id=project.id,
        organization_id=project.organization_id,
        details={
            "kpi": measurement.kpi_code,
            "stage": values.stage,
            "value": values.value,
            **({"measured": measured} if measured is not None else {}),
        },
    )
    if measurement.stage == "follow_up":
        _close_kpi_follow_up(session, actor, project, measurement)
    return measurement


def _close_kpi_follow_up(session: Session, actor: Actor, project, measurement) -> None:
    """A value reported for follow-up year N files the project's open KPI-report follow-up of
    that year (사후관리 성과 보고): it is marked done, and the audit says by which value."""
    open_task = next(
        (
            f
            for f in projects.follow_ups(session, project.id)
            if f.kind == KPI_REPORT and f.year_no == measurement.year_no and f.done_at is None
        ),
        None,
    )
    if open_task is None:
        return
    note = Msg("Filed by the KPI value reported for follow-up year {year}.", year=open_task.year_no)
    projects.complete_follow_up(session, actor, open_task.id, note=str(note))
    audit(
        session,
        actor,
        "follow_up.done",
        object_type="project",
        object_id=project.id,
        organization_id=project.organization_id,
        details={
            "follow_up": open_task.id,
            "year_no": open_task.year_no,
            "kind": open_task.kind,
            "by": "kpi.report",
            "measurement": measurement.id,
        },
    )


def _as_reported(m: KpiMeasurement | None) -> checks.Reported | None:
    if m is None:
        return None
    return checks.Reported(m.value, m.unit, m.period_start, m.period_end)


def _decidable(session: Session, actor: Actor, measurement_id: int) -> KpiMeasurement:
    measurement = session.get(KpiMeasurement, measurement_id)
    if measurement is None:
        raise NotFound()
    project = projects.get_project(session, actor, measurement.project_id)
    if not _manages(session, actor, project):
        raise Forbidden()
    if measurement.status != REPORTED:
        raise Conflict(Msg("This value has already been decided."))
    return measurement


def verify(session: Session, actor: Actor, measurement_id: int) -> KpiMeasurement:
    """The program's operator confirms the value against its evidence."""
    measurement = _decidable(session, actor, measurement_id)
    measurement.status = VERIFIED
    measurement.decided_by_id = actor.user_id or None
    measurement.decided_at = utcnow()
    session.flush()
    audit(
        session,
        actor,
        "kpi.verify",
        object_type="project",
        object_id=measurement.project_id,
        organization_id=measurement.organization_id,
        details={"measurement": measurement.id},
    )
    return measurement


def reject(session: Session, actor: Actor, measurement_id: int, reason: str) -> KpiMeasurement:
    measurement = _decidable(session, actor, measurement_id)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise InvalidInput({"reason": Msg("State the reason in at least {n} characters.", n=5)})
    measurement.status = REJECTED
    measurement.rejection_reason = reason[:4000]
    measurement.decided_by_id = actor.user_id or None
    measurement.decided_at = utcnow()
    session.flush()
    audit(
        session,
        actor,
        "kpi.reject",
        object_type="project",
        object_id=measurement.project_id,
        organization_id=measurement.organization_id,
        details={"measurement": measurement.id},
    )
    return measurement


def measurements_of(session: Session, actor: Actor, project_id: int) -> list[KpiMeasurement]:
    """A project's values, rejected ones included (with their reasons), for those who may read
    the project: its company and its program's operators."""
    project = projects.get_project(session, actor, project_id)
    return list(
        session.scalars(
            select(KpiMeasurement)
            .where(KpiMeasurement.project_id == project.id)
            .order_by(KpiMeasurement.kpi_code, KpiMeasurement.period_end, KpiMeasurement.id)
        )
    )
