"""Auto-measured KPI values: a project's KPI measured from its company's own factory datasets
(``factory.kpis``) instead of typed, and recorded with the source "auto" and its provenance.

Who sees a value measured: whoever may read the datasets — the company's members, and a program
operator only for the datasets the company consented to its program; anyone else learns nothing
(404). The value recorded is always measured again on the server: the form's number is never
trusted. Its provenance (dataset, query, method, the numbers it is made of) is stored as a CSV
evidence file of the value and in the audit record, so the program office verifies it like any
other evidence.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.files import service as files
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.policy import Actor
from sangsaeng.core.reference.catalogue import kpi_catalogue
from sangsaeng.factory import kpis
from sangsaeng.outcomes import evidence, service
from sangsaeng.outcomes.models import KpiMeasurement
from sangsaeng.programs import project_service as projects

# Catalogue code → the factory KPI it is measured as, and the factor to the catalogue's unit.
# Labour productivity (units per labour hour) is not offered: the datasets hold machine run
# hours, not labour hours; machine productivity (good units per run hour) is what they measure.
AUTO_KPIS: dict[str, tuple[str, float]] = {
    "defect_rate": (kpis.DEFECT_RATE, 1.0),  # %
    "defect_ppm": (kpis.DEFECT_RATE, 10_000.0),  # % → ppm
    "on_time_delivery": (kpis.ON_TIME, 1.0),  # %
    "oee": (kpis.OEE, 1.0),  # %
    "machine_productivity": (kpis.PRODUCTIVITY, 1.0),  # units/run hour
}
DIGITS = 6  # the value stored: enough for any rate, without float noise


@dataclass(frozen=True)
class AutoValue:
    """A catalogue KPI measured from factory data, in the catalogue's unit."""

    kpi_code: str
    value: float
    unit: str
    interval: tuple[float, float] | None
    measurement: kpis.Measurement

    def provenance(self) -> dict:
        """What the audit record keeps: enough to measure it again."""
        m = self.measurement
        return {
            "factory_kpi": m.kpi,
            "datasets": [{"id": d.id, "name": d.name, "kind": d.kind} for d in m.datasets],
            "query": m.query,
            "n": m.n,
            "numerator": m.numerator,
            "denominator": m.denominator,
        }


@dataclass(frozen=True)
class Offer:
    """A catalogue KPI the actor may have measured for a project, from one dataset's days."""

    kpi_code: str
    dataset_id: int
    dataset_name: str
    period_start: date
    period_end: date


def _project(session: Session, actor: Actor, project_id: int):
    project = projects.get_project(session, actor, project_id)  # strangers learn nothing
    if not (service.is_company(actor, project) or service.manages(session, actor, project)):
        raise NotFound()
    return project


def offers(session: Session, actor: Actor, project_id: int) -> list[Offer]:
    """The catalogue KPIs that can be measured for the project from the datasets the actor may
    read (none, not an error, for an operator without consent)."""
    project = _project(session, actor, project_id)
    try:
        found = kpis.available(session, actor, project.organization_id)
    except NotFound:
        return []
    return [
        Offer(code, a.dataset_id, a.dataset_name, a.period_start, a.period_end)
        for a in found
        for code, (kpi, _factor) in AUTO_KPIS.items()
        if a.kpi == kpi
    ]


def measure(
    session: Session,
    actor: Actor,
    project_id: int,
    kpi_code: str,
    period_start: date,
    period_end: date,
    dataset_id: int | None = None,
) -> AutoValue:
    """The KPI of the project's company over the period, measured from its factory data."""
    project = _project(session, actor, project_id)
    if kpi_code not in AUTO_KPIS:
        raise InvalidInput({"kpi_code": Msg("This KPI cannot be measured from factory data.")})
    kpi = kpi_catalogue(session).get(kpi_code)
    if kpi is None:
        raise InvalidInput({"kpi_code": Msg("Choose KPIs from the catalogue.")})
    factory_kpi, factor = AUTO_KPIS[kpi_code]
    found = kpis.measure(
        session,
        actor,
        project.organization_id,
        factory_kpi,
        period_start,
        period_end,
        dataset_id,
    )
    interval = (found.interval[0] * factor, found.interval[1] * factor) if found.interval else None
    return AutoValue(kpi_code, round(found.value * factor, DIGITS), kpi.unit, interval, found)


def provenance_csv(auto: AutoValue) -> bytes:
    """The value's provenance as a two-column sheet (Excel reads the BOM as UTF-8)."""
    m = auto.measurement
    rows = [
        (gettext("KPI"), auto.kpi_code),
        (gettext("Value"), auto.value),
        (gettext("Unit"), auto.unit),
        (gettext("Period"), f"{m.period[0].isoformat()} – {m.period[1].isoformat()}"),
        (gettext("Records used (n)"), m.n),
        (gettext("Numerator"), m.numerator),
        (gettext("Denominator"), m.denominator),
        (
            gettext("95 % interval"),
            f"{auto.interval[0]:.6g} – {auto.interval[1]:.6g}" if auto.interval else "—",
        ),
        (gettext("Interval method"), m.interval_method),
        *((gettext("Dataset"), f"#{d.id} {d.name} ({d.kind})") for d in m.datasets),
        (
            gettext("Days with data"),
            f"{m.covered[0].isoformat()} – {m.covered[1].isoformat()}" if m.covered else "—",
        ),
        *((gettext("Warning"), text) for text in m.warnings),
        (gettext("Method"), m.method),
        (gettext("Query (DuckDB SQL, the dataset as the table rows)"), m.query),
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((gettext("Item"), gettext("Value")))
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report(
    session: Session,
    actor: Actor,
    project_id: int,
    values: service.Report,
    *,
    dataset_id: int | None = None,
    storage: files.LocalStorage | None = None,
) -> KpiMeasurement:
    """Record ``values`` (its KPI, stage, year and period; its number is ignored) with the value
    measured now from factory data, the source "auto" and the provenance sheet as evidence
    beside any evidence given."""
    project = _project(session, actor, project_id)
    auto = measure(
        session,
        actor,
        project_id,
        values.kpi_code,
        values.period_start,
        values.period_end,
        dataset_id,
    )
    sheet = evidence.store(
        session,
        actor,
        storage or files.current_storage(),
        project,
        data=provenance_csv(auto),
        filename=f"auto-measured-{auto.kpi_code}-{values.period_start.isoformat()}-"
        f"{values.period_end.isoformat()}.csv",
    )
    measured = service.Report(
        kpi_code=auto.kpi_code,
        stage=values.stage,
        period_start=values.period_start,
        period_end=values.period_end,
        value=auto.value,
        unit=auto.unit,
        year_no=values.year_no,
        source=service.AUTO,
        evidence=(sheet.id, *values.evidence),
    )
    return service.report(session, actor, project_id, measured, measured=auto.provenance())
