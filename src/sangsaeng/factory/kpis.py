"""KPIs measured from an SME's own factory datasets for a chosen period: defect rate, OEE,
on-time delivery and productivity (good units per machine run hour) — each with the numbers it
is made of, an interval where one is honest, the dataset it came from and the SQL that made it,
so a program office can check it.

Who may measure: whoever may read the datasets (the SME's members, or a program operator the
SME consented a dataset to); everyone else learns nothing (404). Outcomes calls this module to
offer auto-measured values; nothing here knows about Outcomes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.policy import Actor
from sangsaeng.factory import datasets, standards
from sangsaeng.factory.engine.rootcause_columns import DEFECT_WORDS
from sangsaeng.factory.models import INSPECTION, ORDERS, PRODUCTION, FactoryDataset
from sangsaeng.factory.oee_data import dataset_oee

DEFECT_RATE, OEE, ON_TIME, PRODUCTIVITY = "defect_rate", "oee", "on_time_delivery", "productivity"
KPIS = (DEFECT_RATE, OEE, ON_TIME, PRODUCTIVITY)
UNITS = {DEFECT_RATE: "%", OEE: "%", ON_TIME: "%", PRODUCTIVITY: "units/run hour"}
# The kinds of dataset each KPI reads, preferred first.
SOURCES = {
    DEFECT_RATE: (PRODUCTION, INSPECTION),
    OEE: (PRODUCTION,),
    ON_TIME: (ORDERS,),
    PRODUCTIVITY: (PRODUCTION,),
}
KPI_LABELS = {
    DEFECT_RATE: Msg("Defect rate"),
    OEE: Msg("Overall equipment effectiveness (OEE)"),
    ON_TIME: Msg("On-time delivery rate"),
    PRODUCTIVITY: Msg("Productivity (good units per run hour)"),
}
BOOTSTRAP_DRAWS = 2000
Z95 = 1.959963984540054


@dataclass(frozen=True)
class DatasetRef:
    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class Measurement:
    """One KPI over ``period`` (both days included). ``numerator ÷ denominator`` (× 100 for
    the rates) is ``value``; ``n`` counts the records, lots or orders it was computed from."""

    kpi: str
    value: float
    unit: str
    period: tuple[date, date]
    n: int
    numerator: float
    denominator: float
    interval: tuple[float, float] | None
    interval_method: str
    basis: str  # the kind of dataset it was measured from
    datasets: tuple[DatasetRef, ...]
    query: str
    method: str
    covered: tuple[date, date] | None = None  # first and last day with rows in the period
    warnings: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def dataset_ids(self) -> list[int]:
        return [d.id for d in self.datasets]

    def as_dict(self) -> dict:
        return {
            "kpi": self.kpi,
            "value": self.value,
            "unit": self.unit,
            "period_start": self.period[0].isoformat(),
            "period_end": self.period[1].isoformat(),
            "n": self.n,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "interval": list(self.interval) if self.interval else None,
            "interval_method": self.interval_method,
            "basis": self.basis,
            "datasets": [{"id": d.id, "name": d.name, "kind": d.kind} for d in self.datasets],
            "query": self.query,
            "method": self.method,
            "covered": [d.isoformat() for d in self.covered] if self.covered else None,
            "warnings": list(self.warnings),
            "extra": self.extra,
        }


@dataclass(frozen=True)
class Available:
    """A KPI that can be measured from one dataset, for periods within its days."""

    kpi: str
    unit: str
    dataset_id: int
    dataset_name: str
    basis: str
    period_start: date
    period_end: date


# --- statistics ----------


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (Wilson 1927), as fractions; None for n = 0."""
    if n <= 0:
        return None
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


def bootstrap_ratio(
    numerators: np.ndarray, denominators: np.ndarray, draws: int = BOOTSTRAP_DRAWS, seed: int = 0
) -> tuple[float, float] | None:
    """Percentile bootstrap (95 %) of Σnum ÷ Σden, resampling whole days (seeded: the same data
    always gives the same interval). None with fewer than 5 days: too few to resample."""
    if len(numerators) < 5:
        return None
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(numerators), size=(draws, len(numerators)))
    dens = denominators[picks].sum(axis=1)
    ratios = numerators[picks].sum(axis=1)[dens > 0] / dens[dens > 0]
    if not len(ratios):
        return None
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


# --- which datasets ----------


def _readable(session: Session, actor: Actor, organization_id: int) -> list[FactoryDataset]:
    """The organization's finished datasets the actor may read, newest first; 404 for an actor
    who may read none of them (even their existence is the SME's own)."""
    if actor.system or organization_id in datasets.owner_orgs(actor):
        found = list(
            session.scalars(
                select(FactoryDataset)
                .where(FactoryDataset.organization_id == organization_id)
                .order_by(FactoryDataset.uploaded_at.desc(), FactoryDataset.id.desc())
            )
        )
    else:
        found = [
            d
            for d in datasets.list_datasets(session, actor)
            if d.organization_id == organization_id
        ]
        if not found:
            raise NotFound()
    return [d for d in found if d.storage_key]


def _days(dataset: FactoryDataset) -> tuple[date, date] | None:
    if not dataset.period_start or not dataset.period_end:
        return None
    return date.fromisoformat(dataset.period_start), date.fromisoformat(dataset.period_end)


def _span(dataset: FactoryDataset) -> tuple[date, date] | None:
    """The days a dataset can speak for: orders are delivered after they are placed, so an
    orders dataset (dated by order) speaks for any period from its first order on."""
    days = _days(dataset)
    if days is not None and dataset.kind == ORDERS:
        return days[0], date.max
    return days


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise InvalidInput({"period_end": Msg("The period ends before it starts.")})


def _choose(
    session: Session,
    actor: Actor,
    organization_id: int,
    kpi: str,
    start: date,
    end: date,
    dataset_id: int | None,
) -> FactoryDataset:
    """The dataset given, or the newest readable one of the preferred kind that covers the
    whole period; failing that, the newest that covers part of it."""
    readable = _readable(session, actor, organization_id)
    kinds = SOURCES[kpi]
    if dataset_id is not None:
        dataset = datasets.get_dataset(session, actor, dataset_id)
        if dataset.organization_id != organization_id:
            raise NotFound()
        if dataset.kind not in kinds:
            raise InvalidInput(
                {
                    "dataset_id": Msg(
                        "This dataset does not hold the data this KPI is measured from."
                    )
                }
            )
        days = _span(dataset)
        if days is None or days[1] < start or days[0] > end:
            raise InvalidInput(
                {"dataset_id": Msg("This dataset has no rows in the chosen period.")}
            )
        return dataset
    for kind in kinds:
        spans = [(d, _span(d)) for d in readable if d.kind == kind and _span(d)]
        whole = [d for d, (a, b) in spans if a <= start and b >= end]
        part = [d for d, (a, b) in spans if b >= start and a <= end]
        if whole or part:
            return (whole or part)[0]
    kinds_text = ", ".join(str(datasets.KIND_LABELS[k]) for k in kinds)
    message = Msg(
        "No dataset you may read covers {start} to {end}. Upload {kinds} for this period.",
        start=start.isoformat(),
        end=end.isoformat(),
        kinds=kinds_text,
    )
    raise InvalidInput({"period_start": message}, message=message)


# --- the KPIs ----------


def _where(column: str, start: date, end: date) -> str:
    # Dates are date objects (never user text), so they are written into the query as literals:
    # the query shown beside the value is exactly the one that ran, and can be run again.
    return f"CAST({column} AS DATE) BETWEEN DATE '{start.isoformat()}' AND DATE '{end.isoformat()}'"


def _covered(dataset: FactoryDataset, column: str, start: date, end: date):
    """The first and last day with rows in the period."""
    frame = datasets.query(
        dataset,
        f"SELECT min(CAST({column} AS DATE)) AS a, max(CAST({column} AS DATE)) AS b "  # noqa: S608 (our column names and date literals)
        f"FROM rows WHERE {_where(column, start, end)}",
    )
    a, b = frame.iloc[0]["a"], frame.iloc[0]["b"]
    if a is None or b is None or a != a or b != b:  # NaT
        return None
    return (a.date() if hasattr(a, "date") else a), (b.date() if hasattr(b, "date") else b)


def _partial_warning(dataset: FactoryDataset, start: date, end: date) -> tuple[str, ...]:
    """A warning when the dataset's days do not span the whole period (days without rows inside
    its span are days without production, not missing data). Orders are counted by delivery,
    which the span of order dates does not bound, so they are not warned about."""
    days = _days(dataset)
    if dataset.kind == ORDERS or days is None or (days[0] <= start and days[1] >= end):
        return ()
    return (
        gettext(
            "The dataset covers only {first} to {last} of the period {start} to {end}.",
            first=days[0].isoformat(),
            last=days[1].isoformat(),
            start=start.isoformat(),
            end=end.isoformat(),
        ),
    )


def _none_in_period(start: date, end: date) -> InvalidInput:
    message = Msg(
        "The dataset has no usable rows from {start} to {end}.",
        start=start.isoformat(),
        end=end.isoformat(),
    )
    return InvalidInput({"period_start": message}, message=message)


def _percent(interval):
    return (interval[0] * 100, interval[1] * 100) if interval else None


def _defect_rate_production(dataset, start, end) -> dict:
    sql = (
        "SELECT count(*) AS n,\n"
        "       sum(coalesce(defect_count, total_count - good_count)) AS defects,\n"
        "       sum(total_count) AS produced\n"
        f"FROM rows\nWHERE {_where('date', start, end)} AND total_count IS NOT NULL"
    )
    row = datasets.query(dataset, sql).iloc[0]
    if not row["n"] or not row["produced"]:
        raise _none_in_period(start, end)
    defects, produced = float(row["defects"] or 0), float(row["produced"])
    return {
        "value": defects / produced * 100,
        "n": int(row["n"]),
        "numerator": defects,
        "denominator": produced,
        "interval": _percent(wilson(defects, produced)),
        "interval_method": gettext(
            "Wilson score 95 % interval, counting each unit produced as one trial."
        ),
        "query": sql,
        "method": gettext(
            "Defective units ÷ units produced in the period's production records, in %. "
            "Defective units are the recorded defect count, or produced less good units where "
            "it is missing."
        ),
    }


def _failed_sql() -> str:
    words = ", ".join(f"'{w}'" for w in sorted(DEFECT_WORDS))
    return (
        f"lower(trim(result)) IN ({words})\n"
        "            OR (result IS NULL AND (value < lsl OR value > usl))"
    )


def _defect_rate_inspection(dataset, start, end) -> dict:
    sql = (
        "WITH lots AS (\n"  # noqa: S608 (fixed words and date literals)
        "  SELECT lot, bool_or(" + _failed_sql() + ") AS failed\n"
        f"  FROM rows\n  WHERE {_where('date', start, end)}\n  GROUP BY lot\n)\n"
        "SELECT count(*) AS n, count(*) FILTER (WHERE failed) AS failed FROM lots"
    )
    row = datasets.query(dataset, sql).iloc[0]
    if not row["n"]:
        raise _none_in_period(start, end)
    failed, lots = float(row["failed"]), float(row["n"])
    return {
        "value": failed / lots * 100,
        "n": int(lots),
        "numerator": failed,
        "denominator": lots,
        "interval": _percent(wilson(failed, lots)),
        "interval_method": gettext("Wilson score 95 % interval, counting each lot as one trial."),
        "query": sql,
        "method": gettext(
            "Measured from quality inspections, not production records: failed lots ÷ "
            "inspected lots, in %. A lot fails when any of its inspections is judged a failure, "
            "or, without a judgement, when a measured value lies outside its specification "
            "limits."
        ),
    }


def _on_time(dataset, start, end) -> dict:
    cutoff = min(end, dataset.uploaded_at.date())
    sql = (
        "SELECT\n"
        f"  count(*) FILTER (WHERE {_where('delivery_date', start, end)}) AS delivered,\n"
        f"  count(*) FILTER (WHERE {_where('delivery_date', start, end)}\n"
        "                   AND delivery_date <= due_date) AS on_time,\n"
        "  count(*) FILTER (WHERE delivery_date IS NULL\n"
        f"                   AND {_where('due_date', start, cutoff)}\n"
        f"                   AND CAST(due_date AS DATE) < DATE '{cutoff.isoformat()}')"
        " AS open_past_due,\n"
        f"  count(*) FILTER (WHERE {_where('delivery_date', start, end)}"
        " AND due_date IS NULL) AS no_due_date\n"
        "FROM rows"
    )
    row = datasets.query(dataset, sql).iloc[0]
    delivered, on_time = int(row["delivered"]), int(row["on_time"])
    open_late, no_due = int(row["open_past_due"]), int(row["no_due_date"])
    counted = delivered - no_due + open_late
    if counted <= 0:
        raise _none_in_period(start, end)
    return {
        "value": on_time / counted * 100,
        "n": counted,
        "numerator": float(on_time),
        "denominator": float(counted),
        "interval": _percent(wilson(on_time, counted)),
        "interval_method": gettext("Wilson score 95 % interval, counting each order as one trial."),
        "query": sql,
        "method": gettext(
            "Orders delivered on or before their due date ÷ orders due for delivery, in %: the "
            "orders delivered in the period, plus the orders still undelivered whose due date "
            "fell in the period and had passed when the data were uploaded ({cutoff}), which "
            "count as late. Orders without a due date are left out. Delivered quantities are "
            "not compared with the ordered ones (on time, not in full).",
            cutoff=cutoff.isoformat(),
        ),
        "extra": {"open_past_due": open_late, "without_due_date": no_due, "delivered": delivered},
    }


def _productivity(dataset, start, end) -> dict:
    hours = "coalesce(run_minutes, planned_minutes - coalesce(downtime_minutes, 0)) / 60.0"
    sql = (
        "SELECT CAST(date AS DATE) AS day, count(*) AS n,\n"
        f"       sum(good_count) AS good, sum({hours}) AS run_hours\n"
        f"FROM rows\nWHERE {_where('date', start, end)}\n"
        "  AND good_count IS NOT NULL\n"
        "  AND coalesce(run_minutes, planned_minutes) IS NOT NULL\n"
        "GROUP BY 1 ORDER BY 1"
    )
    days = datasets.query(dataset, sql)
    good, run_hours = (
        days["good"].astype(float).to_numpy(),
        days["run_hours"].astype(float).to_numpy(),
    )
    if days.empty or run_hours.sum() <= 0:
        raise _none_in_period(start, end)
    interval = bootstrap_ratio(good, run_hours)
    return {
        "value": good.sum() / run_hours.sum(),
        "n": int(days["n"].sum()),
        "numerator": float(good.sum()),
        "denominator": float(run_hours.sum()),
        "interval": interval,
        "interval_method": gettext(
            "Percentile bootstrap 95 % interval, resampling whole days ({draws} draws).",
            draws=BOOTSTRAP_DRAWS,
        )
        if interval
        else gettext("No interval: fewer than 5 days of data."),
        "query": sql,
        "method": gettext(
            "Good units ÷ machine run hours in the period's production records. Run hours are "
            "the hours the machines ran (the recorded run time, or planned time less downtime "
            "where it is missing), summed over machines; they are not labour hours."
        ),
        "extra": {"days": len(days)},
    }


def _oee(session, dataset, start, end) -> dict:
    found = dataset_oee(session, dataset, by=("day",), start=start, end=end)
    total = found["total"]
    counts = found["missing_standards"]
    used = int(counts["records"]) - int(counts["excluded"])
    if total.get("oee") is None or not total["planned_minutes"] or used <= 0:
        raise _none_in_period(start, end)
    # OEE = ideal time of the good units ÷ planned time: per day, the numerator is oee × planned.
    planned = np.array([r["planned_minutes"] for r in found["rows"]], dtype=float)
    ideal_good = np.array([(r["oee"] or 0.0) * r["planned_minutes"] for r in found["rows"]])
    interval = bootstrap_ratio(ideal_good, planned)
    return {
        "value": float(total["oee"]) * 100,
        "n": used,
        "numerator": float(total["oee"] * total["planned_minutes"]),
        "denominator": float(total["planned_minutes"]),
        "interval": (interval[0] * 100, interval[1] * 100) if interval else None,
        "interval_method": gettext(
            "Percentile bootstrap 95 % interval, resampling whole days ({draws} draws).",
            draws=BOOTSTRAP_DRAWS,
        )
        if interval
        else gettext("No interval: fewer than 5 days of data."),
        "query": found["query"],
        "method": gettext(
            "Ideal time of the good units ÷ planned time (minutes), in %, which equals "
            "availability × performance × quality. {method}",
            method=found["method"],
        ),
        "extra": {
            "availability": total["availability"],
            "performance": total["performance"],
            "quality": total["quality"],
            "excluded_records": int(counts["excluded"]),
        },
    }


def measure(
    session: Session,
    actor: Actor,
    organization_id: int,
    kpi: str,
    start: date,
    end: date,
    dataset_id: int | None = None,
) -> Measurement:
    """``kpi`` of the organization from ``start`` to ``end`` (both included), from the dataset
    given or the newest readable one of the right kind covering the period."""
    if kpi not in KPIS:
        raise InvalidInput({"kpi": Msg("Choose a listed value.")})
    _check_period(start, end)
    dataset = _choose(session, actor, organization_id, kpi, start, end, dataset_id)
    if kpi == DEFECT_RATE:
        found = (
            _defect_rate_production(dataset, start, end)
            if dataset.kind == PRODUCTION
            else _defect_rate_inspection(dataset, start, end)
        )
    elif kpi == ON_TIME:
        found = _on_time(dataset, start, end)
    elif kpi == PRODUCTIVITY:
        found = _productivity(dataset, start, end)
    else:
        found = _oee(session, dataset, start, end)
    column = "delivery_date" if dataset.kind == ORDERS else "date"
    covered = _covered(dataset, column, start, end)
    return Measurement(
        kpi=kpi,
        value=found["value"],
        unit=UNITS[kpi],
        period=(start, end),
        n=found["n"],
        numerator=found["numerator"],
        denominator=found["denominator"],
        interval=found["interval"],
        interval_method=found["interval_method"],
        basis=dataset.kind,
        datasets=(DatasetRef(dataset.id, dataset.name, dataset.kind),),
        query=found["query"],
        method=found["method"],
        covered=covered,
        warnings=_partial_warning(dataset, start, end),
        extra=found.get("extra", {}),
    )


def available(session: Session, actor: Actor, organization_id: int) -> list[Available]:
    """Which KPIs can be measured from which of the organization's datasets, for periods within
    each dataset's days; newest dataset first."""
    out = []
    has_calendar = bool(standards.calendar_of(session, organization_id))
    has_cycles = bool(standards.cycle_times_of(session, organization_id))
    for dataset in _readable(session, actor, organization_id):
        days = _days(dataset)
        if days is None:
            continue
        # OEE needs planned and ideal cycle times: from the file, or the SME's standards.
        given = dataset.columns or {}
        oee_ready = ("planned_minutes" in given or has_calendar) and (
            "ideal_cycle_seconds" in given or has_cycles
        )
        for kpi in KPIS:
            if dataset.kind not in SOURCES[kpi] or (kpi == OEE and not oee_ready):
                continue
            out.append(
                Available(kpi, UNITS[kpi], dataset.id, dataset.name, dataset.kind, days[0], days[1])
            )
    return out
