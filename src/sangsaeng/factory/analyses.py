"""Analyses of an SME's own datasets — OEE, SPC charts, demand forecasts and defect root
causes — asked for on a page, run as jobs, their results (aggregates and what the charts draw)
kept with what was asked.

Whoever may read a dataset (its SME, or the operator it consented to) may see its analyses and
run new ones; an analysis is its dataset's, so revoking the consent hides them again. Every
check of what was asked is here; the figures come from the pure engines.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from sangsaeng.core.audit.service import record
from sangsaeng.core.errors import InvalidInput, NotFound
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.core.jobs import service as jobs
from sangsaeng.core.jobs.models import Job
from sangsaeng.core.models import utcnow
from sangsaeng.core.policy import Actor
from sangsaeng.factory import datasets
from sangsaeng.factory.engine.problems import N_, InputProblems
from sangsaeng.factory.models import (
    DONE,
    FAILED,
    INSPECTION,
    ORDERS,
    PROCESS,
    PRODUCTION,
    QUEUED,
    RUNNING,
    FactoryAnalysis,
    FactoryDataset,
)

JOB_KIND = "factory.analysis"
KIND_LABELS = {
    "oee": Msg("OEE"),
    "spc": Msg("SPC chart"),
    "forecast": Msg("Demand forecast"),
    "root_cause": Msg("Defect root causes"),
}
# Which analyses each kind of dataset supports (the first is offered first).
ANALYSES_OF = {
    PRODUCTION: ("oee", "spc", "root_cause", "forecast"),
    INSPECTION: ("spc",),
    PROCESS: ("root_cause",),
    ORDERS: ("forecast",),
}
OEE_GROUPINGS = ("machine", "line", "shift", "product", "day")
SPC_CHARTS = ("xbar-r", "xbar-s", "imr", "p", "np", "c", "u")
SPC_VARIABLE = ("xbar-r", "xbar-s", "imr")
SPC_SUBGROUPS = ("lot", "date")
FORECAST_FREQS = ("W-MON", "D", "MS")
MAX_HORIZON = {"W-MON": 104, "D": 365, "MS": 36}
HISTORY_SHOWN = 156  # periods of each series' history kept for its chart
SERIES_CHARTED = 200  # series whose history is kept (the forecasts of all are kept)
# A verdict that means the unit failed (anything else given is a pass).
_FAILED_WORDS = frozenset(
    {"ng", "n.g.", "fail", "failed", "reject", "rejected", "x", "f", "0"}
    | {"불합격", "불량", "부적합"}
)


def _status_of(analysis: FactoryAnalysis, job: Job | None) -> str:
    """A job that failed outside the analysis (a crash, a stopped worker) reads as failed."""
    if analysis.status in (DONE, FAILED) or job is None:
        return analysis.status
    return {"queued": QUEUED, "running": RUNNING, "failed": FAILED}.get(job.status, analysis.status)


@dataclass(frozen=True)
class AnalysisDetail:
    analysis: FactoryAnalysis
    dataset: FactoryDataset
    job: Job | None
    status: str
    can_manage: bool  # the dataset's own SME (consented operators read and run only)


# --- who may ----------


def get_analysis(session: Session, actor: Actor, analysis_id: int) -> FactoryAnalysis:
    """404 unless the actor may read the analysis' dataset."""
    analysis = session.get(FactoryAnalysis, analysis_id)
    if analysis is None:
        raise NotFound()
    datasets.get_dataset(session, actor, analysis.dataset_id)
    return analysis


def detail(session: Session, actor: Actor, analysis_id: int) -> AnalysisDetail:
    analysis = get_analysis(session, actor, analysis_id)
    dataset = session.get(FactoryDataset, analysis.dataset_id)
    job = session.get(Job, analysis.job_id) if analysis.job_id else None
    return AnalysisDetail(
        analysis=analysis,
        dataset=dataset,
        job=job,
        status=_status_of(analysis, job),
        can_manage=dataset.organization_id in datasets.owner_orgs(actor),
    )


def list_analyses(session: Session, actor: Actor, dataset_id: int) -> list[FactoryAnalysis]:
    dataset = datasets.get_dataset(session, actor, dataset_id)
    return list(
        session.scalars(
            select(FactoryAnalysis)
            .where(FactoryAnalysis.dataset_id == dataset.id)
            .order_by(FactoryAnalysis.created_at.desc(), FactoryAnalysis.id.desc())
        )
    )


def analyses_offered(dataset: FactoryDataset) -> tuple[str, ...]:
    return ANALYSES_OF.get(dataset.kind, ())


# --- what was asked ----------


def _text(value: object) -> str:
    return str(value if value is not None else "").strip()


def _day(raw: Mapping, name: str, errors: dict) -> str | None:
    text = _text(raw.get(name))
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        errors[name] = Msg("Enter a date (YYYY-MM-DD).")
        return None


def _number(raw: Mapping, name: str, errors: dict) -> float | None:
    text = _text(raw.get(name)).replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[name] = Msg("Enter a number.")
        return None
    if not math.isfinite(value):
        errors[name] = Msg("Enter a number.")
        return None
    return value


def _whole(raw: Mapping, name: str, errors: dict, *, low: int, high: int, default=None):
    text = _text(raw.get(name))
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        errors[name] = Msg("Enter a whole number from {low} to {high}.", low=low, high=high)
        return default
    return int(text)


def _choice(raw: Mapping, name: str, allowed: tuple[str, ...], errors: dict, default: str):
    text = _text(raw.get(name)) or default
    if text not in allowed:
        errors[name] = Msg("Choose one of the options.")
        return default
    return text


def _period(raw: Mapping, errors: dict) -> dict:
    start, end = _day(raw, "start", errors), _day(raw, "end", errors)
    if start and end and start > end:
        errors["end"] = Msg("The end of the period is before its start.")
    return {"start": start, "end": end}


def _list(raw: Mapping, name: str) -> list[str]:
    getlist = getattr(raw, "getlist", None)
    values = getlist(name) if getlist else raw.get(name) or []
    if isinstance(values, str):
        values = values.split(",")
    return [_text(v) for v in values if _text(v)]


def target_choices(dataset: FactoryDataset) -> list[str]:
    """Columns that can be the defect label of a root-cause analysis."""
    if dataset.kind == PRODUCTION:
        return ["defect_count"]
    return ["result", *[c for c in dataset.extra_columns or []]]


def characteristics(dataset: FactoryDataset) -> list[str]:
    if dataset.kind != INSPECTION:
        return []
    frame = datasets.query(
        dataset,
        "SELECT characteristic, count(*) AS n FROM rows WHERE characteristic IS NOT NULL "
        "GROUP BY 1 ORDER BY n DESC, 1",
    )
    return [str(v) for v in frame["characteristic"]]


def clean_params(dataset: FactoryDataset, kind: str, raw: Mapping) -> dict:
    """What the user asked, checked; field errors in the user's language."""
    errors: dict = {}
    if kind not in analyses_offered(dataset):
        raise InvalidInput({"kind": Msg("This analysis does not apply to this dataset.")})
    if kind == "oee":
        by = [key for key in _list(raw, "by") if key in OEE_GROUPINGS] or ["machine"]
        params = {"by": list(dict.fromkeys(by)), **_period(raw, errors)}
    elif kind == "spc":
        params = _spc_params(dataset, raw, errors)
    elif kind == "forecast":
        freq = _choice(raw, "freq", FORECAST_FREQS, errors, "W-MON")
        params = {
            "freq": freq,
            "horizon": _whole(raw, "horizon", errors, low=1, high=MAX_HORIZON[freq], default=12),
            "season_length": _whole(raw, "season_length", errors, low=2, high=400),
        }
    else:
        targets = target_choices(dataset)
        params = {
            "target": _choice(raw, "target", tuple(targets), errors, targets[0]),
            "positive": _text(raw.get("positive"))[:80] or None,
            "seed": _whole(raw, "seed", errors, low=0, high=2**31 - 1, default=0),
            **_period(raw, errors),
        }
    if errors:
        raise InvalidInput(errors)
    return params


def spc_charts_of(dataset: FactoryDataset) -> tuple[str, ...]:
    """Measurements chart on X̄ and I-MR; production records only count defects."""
    return SPC_CHARTS if dataset.kind == INSPECTION else ("p", "np", "c", "u")


def _spc_params(dataset: FactoryDataset, raw: Mapping, errors: dict) -> dict:
    charts = spc_charts_of(dataset)
    chart = _choice(raw, "chart", charts, errors, charts[0])
    params: dict = {
        "chart": chart,
        "subgroup": _choice(raw, "subgroup", SPC_SUBGROUPS, errors, "lot")
        if dataset.kind == INSPECTION
        else "date",
        **_period(raw, errors),
        "baseline_first": _whole(raw, "baseline_first", errors, low=1, high=10**6),
        "baseline_last": _whole(raw, "baseline_last", errors, low=2, high=10**6),
        "lsl": _number(raw, "lsl", errors),
        "usl": _number(raw, "usl", errors),
    }
    first, last = params["baseline_first"], params["baseline_last"]
    if (first is None) != (last is None):
        errors["baseline_last"] = Msg("Enter both the first and the last sample of the baseline.")
    elif first is not None and first >= last:
        errors["baseline_last"] = Msg("The baseline's last sample must come after its first.")
    if params["lsl"] is not None and params["usl"] is not None and params["lsl"] >= params["usl"]:
        errors["usl"] = Msg("The upper specification limit must be above the lower one.")
    if dataset.kind == INSPECTION:
        found = characteristics(dataset)
        wanted = _text(raw.get("characteristic"))
        if wanted and wanted not in found:
            errors["characteristic"] = Msg("Choose one of the characteristics in the dataset.")
        elif not wanted and len(found) > 1 and chart in SPC_VARIABLE:
            errors["characteristic"] = Msg(
                "The dataset measures several characteristics: choose one."
            )
        params["characteristic"] = wanted or (found[0] if len(found) == 1 else None)
    return params


# --- asking ----------


def create_analysis(
    session: Session, actor: Actor, dataset_id: int, kind: object, raw: Mapping
) -> FactoryAnalysis:
    dataset = datasets.get_dataset(session, actor, dataset_id)
    kind = _text(kind)
    if kind not in KIND_LABELS:
        raise InvalidInput({"kind": Msg("Choose an analysis.")})
    params = clean_params(dataset, kind, raw)
    analysis = FactoryAnalysis(
        organization_id=dataset.organization_id,
        dataset_id=dataset.id,
        kind=kind,
        params=params,
        status=QUEUED,
        created_by_id=actor.user_id or None,
    )
    session.add(analysis)
    session.flush()
    job = jobs.submit(
        session,
        actor,
        JOB_KIND,
        {"analysis_id": analysis.id},
        organization_id=dataset.organization_id,
    )
    analysis.job_id = job.id
    record(
        session,
        actor,
        "factory.analysis_create",
        object_type="factory_analysis",
        object_id=analysis.id,
        organization_id=dataset.organization_id,
        details={"dataset_id": dataset.id, "kind": kind},
    )
    session.flush()
    return analysis


# --- running ----------


def _jsonable(value):
    """Plain JSON: numpy scalars as numbers, NaN and infinities as null (PostgreSQL refuses
    them), timestamps as ISO text, message pairs as lists."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _date_column(dataset: FactoryDataset) -> str:
    return "order_date" if dataset.kind == ORDERS else "date"


def _rows(dataset: FactoryDataset, params: dict) -> pd.DataFrame:
    """The dataset's rows within the asked period (DuckDB filters the Parquet)."""
    column = _date_column(dataset)
    clauses, values = [], []
    if params.get("start"):
        clauses.append(f'"{column}" >= CAST(? AS DATE)')
        values.append(params["start"])
    if params.get("end"):
        clauses.append(f'"{column}" < CAST(? AS DATE) + INTERVAL 1 DAY')
        values.append(params["end"])
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    # The clauses are fixed text over a known column; the dates are bound parameters.
    return datasets.query(dataset, f"SELECT * FROM rows{where}", values)  # noqa: S608


def _no_rows() -> InputProblems:
    return InputProblems([(N_("No rows of the dataset fall in the chosen period."), {})])


def _run_oee(session: Session, dataset: FactoryDataset, params: dict, report) -> dict:
    from sangsaeng.factory import oee_data

    report(10, gettext("Summing production records."))
    by = tuple(params.get("by") or ("machine",))
    start, end = params.get("start"), params.get("end")
    result = oee_data.dataset_oee(session, dataset, by=by, start=start, end=end)
    if not result.get("total") or not result["total"].get("planned_minutes"):
        raise _no_rows()
    if by != ("machine",):  # the chart of machines is drawn whatever the table's grouping
        report(60, gettext("Summing production records."))
        result["machines"] = oee_data.dataset_oee(
            session, dataset, by=("machine",), start=start, end=end
        )["rows"]
    else:
        result["machines"] = result["rows"]
    return result


def failed_units(rows: pd.DataFrame) -> pd.Series:
    """1 for a failed inspection, 0 for a passed one: the verdict when given, otherwise a
    measured value outside its specification limits."""
    verdict = rows["result"].astype("string").str.strip().str.lower()
    failed = verdict.isin(_FAILED_WORDS).astype(float)
    no_verdict = verdict.isna() | (verdict == "")
    outside = (rows["value"] < rows["lsl"]) | (rows["value"] > rows["usl"])
    failed = failed.where(~no_verdict, outside.fillna(False).astype(float))
    return failed


def _run_spc(dataset: FactoryDataset, params: dict, report) -> dict:
    from sangsaeng.factory.engine.spc import control_chart

    report(10, gettext("Reading the rows."))
    rows = _rows(dataset, params)
    chart = params["chart"]
    if dataset.kind == INSPECTION and params.get("characteristic"):
        rows = rows.loc[rows["characteristic"] == params["characteristic"]]
    if rows.empty:
        raise _no_rows()
    order = ["date", "lot"] if dataset.kind == INSPECTION else ["date"]
    rows = rows.sort_values(order, kind="stable")
    key = params.get("subgroup", "date")
    labels_of = rows["lot"].astype(str) if key == "lot" else rows["date"].dt.strftime("%Y-%m-%d")
    lsl, usl = params.get("lsl"), params.get("usl")
    baseline = (
        (params["baseline_first"], params["baseline_last"])
        if params.get("baseline_first")
        else None
    )
    if chart in SPC_VARIABLE:
        measured = rows["value"].notna()
        rows, labels_of = rows.loc[measured], labels_of.loc[measured]
        if rows.empty:
            raise InputProblems([(N_("The rows hold no measured values."), {})])
        lsl = lsl if lsl is not None else _single(rows["lsl"])
        usl = usl if usl is not None else _single(rows["usl"])
        values = rows["value"].to_numpy(dtype=float)
        if chart == "imr":
            labels = labels_of.tolist()
            outcome = control_chart(chart, values, baseline=baseline, lsl=lsl, usl=usl)
        else:
            labels = list(dict.fromkeys(labels_of.tolist()))
            outcome = control_chart(
                chart, values, subgroups=labels_of.tolist(), baseline=baseline, lsl=lsl, usl=usl
            )
        n_units = len(values)
    else:
        if dataset.kind == INSPECTION:
            counts = rows.assign(failed=failed_units(rows), unit=1.0)
            grouped = counts.groupby(labels_of, sort=False)[["failed", "unit"]].sum()
            events, sizes = grouped["failed"], grouped["unit"]
        else:
            grouped = rows.groupby(labels_of, sort=False)[["defect_count", "total_count"]].sum()
            events, sizes = grouped["defect_count"], grouped["total_count"]
        labels = [str(v) for v in grouped.index]
        report(50, gettext("Computing the limits."))
        outcome = control_chart(
            chart,
            events.to_numpy(dtype=float),
            sizes=sizes.to_numpy(dtype=float),
            baseline=baseline,
        )
        n_units = int(sizes.sum())
    result = outcome.as_dict()
    result.update(
        labels=labels,
        n_rows=len(rows),
        n_units=n_units,
        subgroup=key,
        characteristic=params.get("characteristic"),
        lsl=lsl,
        usl=usl,
        method=_spc_method(chart, result, key, len(rows)),
    )
    return result


def _single(column: pd.Series) -> float | None:
    values = column.dropna().unique()
    return float(values[0]) if len(values) == 1 else None


def _spc_method(chart: str, result: dict, key: str, n_rows: int) -> list:
    first, last = result["baseline"]
    lines = [
        (
            N_(
                "Control limits at ±3 sigma from samples {first} to {last} of {n} (the baseline); "
                "they are not revised unless you choose another baseline. A negative lower "
                "limit is set to 0."
            ),
            {"first": first, "last": last, "n": result["n_samples"]},
        ),
        (
            N_("{rows} rows, one sample per {key}."),
            {"rows": n_rows, "key": N_("lot") if key == "lot" else N_("day")},
        ),
        (
            N_(
                "Rules: Western Electric 1–4 and Nelson 5–8 (beyond 3 sigma; 2 of 3 beyond 2 "
                "sigma; 4 of 5 beyond 1 sigma; 8 on one side; 6 rising or falling; 15 within "
                "1 sigma; 14 alternating; 8 outside 1 sigma)."
            ),
            {},
        ),
    ]
    if result.get("capability"):
        lines.append(
            (
                N_(
                    "Capability from {n} values: Cp and Cpk use the within-subgroup sigma, Pp "
                    "and Ppk the overall one; 95 % intervals (χ² for Cp and Pp, Bissell's "
                    "approximation for Cpk and Ppk)."
                ),
                {"n": result["capability"]["n"]},
            )
        )
    return lines


def _run_forecast(dataset: FactoryDataset, params: dict, report) -> dict:
    from sangsaeng.factory.spark import forecast_many

    report(5, gettext("Reading the rows."))
    series, freq = _series_frame(dataset, params.get("freq") or None)

    def progress(done: int, total: int) -> None:
        if total:
            report(
                10 + int(85 * done / total),
                gettext("Step {done} of {total}.", done=done, total=total),
            )

    many = series["unique_id"].nunique() >= 100
    result = forecast_many(
        series,
        horizon=params["horizon"],
        freq=freq,
        season_length=params.get("season_length"),
        progress=progress,
        n_jobs=(os.cpu_count() or 1) if many else 1,
    )
    result["freq"] = freq
    result["history"] = _history(series)
    return result


def _history(series: pd.DataFrame) -> dict:
    """The last periods of each series (of the first ones) for its chart."""
    out = {}
    for uid, group in series.groupby("unique_id", sort=True):
        if len(out) >= SERIES_CHARTED:
            break
        tail = group.sort_values("ds").tail(HISTORY_SHOWN)
        out[str(uid)] = {
            "time": tail["ds"].dt.strftime("%Y-%m-%d").tolist(),
            "value": [float(v) for v in tail["y"]],
        }
    return out


def _series_frame(dataset: FactoryDataset, freq: str | None) -> tuple[pd.DataFrame, str]:
    """A dataset's quantities per product and period (orders: ordered; production: good)."""
    from sangsaeng.factory.engine.forecast import prepare

    time_col, value_col = (
        ("order_date", "quantity") if dataset.kind == ORDERS else ("date", "good_count")
    )
    return prepare(
        datasets.read_frame(dataset),
        id_col="product",
        time_col=time_col,
        value_col=value_col,
        freq=freq,
        first_row=1,
        aggregate=True,
    )


def actuals_choices(session: Session, actor: Actor, analysis: FactoryAnalysis) -> list:
    """Datasets of the forecast's company that can hold its actuals (newer data as it arrives)."""
    if analysis.kind != "forecast":
        return []
    return [
        d
        for d in datasets.list_datasets(session, actor)
        if d.organization_id == analysis.organization_id
        and d.kind in (ORDERS, PRODUCTION)
        and d.id != analysis.dataset_id
    ]


def track_actuals(session: Session, actor: Actor, analysis_id: int, dataset_id: object) -> dict:
    """The forecast against the actuals of another dataset of the same company, for every
    period both have: errors, MAE, MASE and interval coverage."""
    from sangsaeng.factory.engine.forecast import track

    analysis = get_analysis(session, actor, analysis_id)
    text = _text(dataset_id)
    chosen = {d.id: d for d in actuals_choices(session, actor, analysis)}
    actuals = chosen.get(int(text)) if text.isdigit() and len(text) < 12 else None
    if actuals is None or analysis.status != DONE:
        raise InvalidInput({"actuals": Msg("Choose a dataset of the same company with actuals.")})
    try:
        series, _ = _series_frame(actuals, analysis.result["freq"])
    except InputProblems as exc:
        raise InvalidInput({"actuals": Msg("The dataset cannot be read as actuals.")}) from exc
    tracked = track(analysis.result, series)
    if not tracked["series"]:
        raise InvalidInput(
            {"actuals": Msg("The dataset has no actuals for the forecast's periods.")}
        )
    return _jsonable(tracked)


def _run_root_cause(dataset: FactoryDataset, params: dict, report) -> dict:
    from sangsaeng.factory.engine.rootcause import analyse

    report(5, gettext("Reading the rows."))
    rows = _rows(dataset, params)
    if rows.empty:
        raise _no_rows()
    quantity = None
    if dataset.kind == PRODUCTION:
        # One row per run: its defects out of its units; what the run was is the factor.
        keep = ["date", "shift", "line", "machine", "product", "defect_count", "total_count"]
        rows = rows[[c for c in keep if c in rows.columns]].dropna(axis=1, how="all")
        quantity = "total_count"

    def progress(done: int, total: int) -> None:
        if total:
            report(
                10 + int(85 * done / total),
                gettext("Step {done} of {total}.", done=done, total=total),
            )

    return analyse(
        rows,
        target=params["target"],
        positive=params.get("positive"),
        quantity=quantity,
        seed=params.get("seed") or 0,
        first_row=1,
        progress=progress,
    )


def run(session: Session, analysis: FactoryAnalysis, report) -> None:
    """The analysis run and its result (or the reasons the data cannot support it) stored."""
    dataset = session.get(FactoryDataset, analysis.dataset_id)
    params = analysis.params or {}
    try:
        if analysis.kind == "oee":
            result = _run_oee(session, dataset, params, report)
        elif analysis.kind == "spc":
            result = _run_spc(dataset, params, report)
        elif analysis.kind == "forecast":
            result = _run_forecast(dataset, params, report)
        else:
            result = _run_root_cause(dataset, params, report)
    except InputProblems as exc:
        analysis.status = FAILED
        analysis.error = _jsonable({"problems": exc.problems})
        analysis.result = None
    else:
        analysis.status = DONE
        analysis.result = _jsonable(result)
        analysis.error = None
    analysis.finished_at = utcnow()
    session.flush()


def run_job(session: Session, actor: Actor, params: dict, report: jobs.Reporter) -> dict:
    """``factory.analysis``: the analysis of a dataset the submitter may still read. One
    already finished is left as it is."""
    analysis = get_analysis(session, actor, int(params["analysis_id"]))
    if analysis.status in (DONE, FAILED):
        return {"analysis_id": analysis.id, "status": analysis.status}
    analysis.status = RUNNING
    session.flush()
    run(session, analysis, report)
    return {"analysis_id": analysis.id, "status": analysis.status}


def register() -> None:
    jobs.register_kind(JOB_KIND, Msg("Run a factory analysis"), run_job)
