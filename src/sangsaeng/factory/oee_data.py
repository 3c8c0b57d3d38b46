"""OEE of a stored production dataset, computed where the rows are: the sums run in DuckDB over
the dataset's Parquet (or on Spark when ``SANGSAENG_SPARK_MASTER`` is set), so tens of millions
of records never pass through pandas.

The figures are those of ``engine.oee.oee_table`` on the same records: ratios of sums, the six
big losses per record (reduced speed clipped at zero per record) summed per group. Where a record
lacks its planned time or ideal cycle time, the SME's standards fill it by the rules of
``engine.oee_standards``: the few group sums those rules need are read first, the engine turns
them into a small relation of shares (one row per machine, day and shift lacking planned time;
one per product and machine lacking a cycle time), and the main query joins it. Records that still
lack a standard are left out of the figures and counted.

One query ranks the downtime reasons (which also tells the engine's loss kind of each reason);
the main query sums the engine's terms per requested keys, day and whether the record could be
used into a small table, from which the rows, the total and the daily trend are re-added.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from sangsaeng.core.errors import InvalidInput
from sangsaeng.core.i18n import Msg, gettext
from sangsaeng.factory import standards
from sangsaeng.factory.datasets import dataset_path
from sangsaeng.factory.engine.oee import LOSSES, reason_kind
from sangsaeng.factory.engine.oee_standards import cycle_lookup, planned_groups, report
from sangsaeng.factory.models import FactoryDataset

GROUPINGS = ("machine", "line", "shift", "day", "product", "week", "month")
_FROM_DAY = {"week", "month"}  # derived from the day when the sums are re-added
_TEXT = ("machine", "line", "shift", "product", "downtime_reason")
_NUMBERS = (
    "planned_minutes",
    "run_minutes",
    "downtime_minutes",
    "minor_stop_minutes",
    "startup_rejects",
    "total_count",
    "good_count",
    "ideal_cycle_seconds",
)
_ZERO_IF_MISSING = ("downtime_minutes", "minor_stop_minutes", "startup_rejects")
# The sums per group, and the engine's term each stands for.
SUMS = (
    "n",
    "planned_minutes",
    "run_minutes",
    "ideal_total",
    "ideal_good",
    "total_count",
    "good_count",
    *(f"loss_{k}" for k in LOSSES),
)


class DuckRunner:
    """SQL on DuckDB with the Parquet file as the view ``rows``; 2 threads (the app's share)."""

    def __init__(self, path: Path | str, threads: int = 2):
        self.connection = duckdb.connect()
        self.connection.execute(f"SET threads TO {int(threads)}")
        self.connection.read_parquet(str(path)).create_view("rows")

    day = "CAST(date AS DATE)"
    day_text = "strftime(day, '%Y-%m-%d')"
    week = "strftime(day, '%G-W%V')"  # ISO week, e.g. 2026-W10
    month = "strftime(day, '%Y-%m')"

    def columns(self) -> set[str]:
        return {row[0] for row in self.connection.execute("DESCRIBE rows").fetchall()}

    def view(self, name: str, sql: str) -> None:
        self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def table(self, name: str, sql: str) -> None:
        self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.connection.register(name, frame)

    def sql(self, sql: str) -> pd.DataFrame:
        return self.connection.execute(sql).df()

    def close(self) -> None:
        self.connection.close()


def check_by(by: Sequence[str]) -> list[str]:
    keys = [str(k).strip() for k in by if str(k).strip()]
    unknown = [k for k in keys if k not in GROUPINGS]
    if unknown or len(set(keys)) != len(keys):
        message = Msg("Unknown grouping: {names}.", names=", ".join(unknown or keys))
        raise InvalidInput({"by": message}, message=message)
    return keys


def _day(value: date | str | None, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput({field: Msg("Enter a date (YYYY-MM-DD).")}) from exc


def records_sql(
    columns: set[str], start: date | None, end: date | None, day: str = "CAST(date AS DATE)"
) -> str:
    """The records as the OEE needs them: text keys with "" for blanks, the day (``day``: the
    expression that reads it), numbers (the optional minutes and rejects 0 when blank), whatever
    the file lacks filled with NULL."""
    parts = []
    for name in _TEXT:
        source = f"CAST({name} AS STRING)" if name in columns else "CAST(NULL AS STRING)"
        parts.append(f"coalesce({source}, '') AS {name}")
    parts.append(f"{day} AS day")
    for name in _NUMBERS:
        source = f"CAST({name} AS DOUBLE)" if name in columns else "CAST(NULL AS DOUBLE)"
        parts.append(
            f"coalesce({source}, 0.0) AS {name}"
            if name in _ZERO_IF_MISSING
            else f"{source} AS {name}"
        )
    where = []
    if start:
        where.append(f"{day} >= DATE '{start.isoformat()}'")
    if end:
        where.append(f"{day} <= DATE '{end.isoformat()}'")
    clause = f"\nWHERE {' AND '.join(where)}" if where else ""
    return "SELECT " + ",\n       ".join(parts) + "\nFROM rows" + clause


PROBE_SQL = """SELECT count(*) AS n,
       sum(CASE WHEN planned_minutes IS NULL THEN 1 ELSE 0 END) AS no_planned,
       sum(CASE WHEN ideal_cycle_seconds IS NULL THEN 1 ELSE 0 END) AS no_ideal
FROM records"""

GROUPS_SQL = """SELECT machine, day, shift,
       sum(planned_minutes) AS given,
       sum(CASE WHEN planned_minutes IS NULL THEN 1 ELSE 0 END) AS n_missing,
       sum(CASE WHEN planned_minutes IS NULL AND run_minutes IS NOT NULL THEN 1 ELSE 0 END)
           AS n_timed,
       sum(CASE WHEN planned_minutes IS NULL AND run_minutes IS NOT NULL
                THEN run_minutes + downtime_minutes END) AS occupied
FROM records
GROUP BY machine, day, shift
HAVING sum(CASE WHEN planned_minutes IS NULL THEN 1 ELSE 0 END) > 0"""

PAIRS_SQL = """SELECT product, machine, count(*) AS n_missing
FROM records
WHERE ideal_cycle_seconds IS NULL
GROUP BY product, machine"""


REASONS_SQL = """SELECT downtime_reason AS reason,
       sum(downtime_minutes) AS minutes,
       count(*) AS stops
FROM records
WHERE downtime_minutes > 0
GROUP BY downtime_reason"""


def sums_sql(
    keys: Sequence[str],
    *,
    fill_planned: bool,
    fill_ideal: bool,
    kinds: bool,
) -> str:
    """Per group of ``keys`` (with the day) and whether the record could be used: the sums of
    the engine's terms. ``kinds``: join ``std_reason`` (reason → breakdown or setup)."""
    group = list(dict.fromkeys([k for k in keys if k not in _FROM_DAY] + ["day"]))
    joins, planned, ideal = "", "r.planned_minutes", "r.ideal_cycle_seconds"
    if fill_planned:
        joins += (
            "\n  LEFT JOIN std_planned p"
            "\n    ON r.machine = p.machine AND r.day = p.day AND r.shift = p.shift"
        )
        planned = (
            "CASE WHEN p.by_time THEN p.remaining * (r.run_minutes + r.downtime_minutes)"
            " / p.occupied ELSE p.remaining / p.n_missing END"
        )
    if fill_ideal:
        joins += "\n  LEFT JOIN std_cycle c ON r.product = c.product AND r.machine = c.machine"
        ideal = "coalesce(r.ideal_cycle_seconds, c.seconds)"
    kind = "k.kind"
    if kinds:
        joins += "\n  LEFT JOIN std_reason k ON r.downtime_reason = k.reason"
    else:
        kind = "CAST(NULL AS STRING)"
    share = f"CASE WHEN r.planned_minutes IS NULL THEN {planned} END" if fill_planned else "NULL"
    planned_sql = (
        """CASE WHEN given IS NOT NULL THEN given
              WHEN share < downtime - 1e-9 THEN downtime
              ELSE share END"""
        if fill_planned
        else "given"
    )
    raised = (
        "CASE WHEN given IS NULL AND share < downtime - 1e-9 THEN 1 ELSE 0 END"
        if fill_planned
        else "0"
    )
    # with every standard given, every record is usable: a constant the optimiser folds away
    ok = "(planned IS NOT NULL AND ideal IS NOT NULL)" if fill_planned or fill_ideal else "TRUE"
    inner = ", ".join(f"r.{k}" for k in group)
    outer = ", ".join(group)
    return f"""WITH joined AS (
  SELECT {inner}, {kind} AS kind, r.planned_minutes AS given, {share} AS share,
         r.downtime_minutes AS downtime, {ideal} / 60.0 AS ideal,
         r.total_count AS total, r.good_count AS good,
         r.minor_stop_minutes AS minor, r.startup_rejects AS startup
  FROM records r{joins}
), filled AS (
  SELECT *, {planned_sql} AS planned, {raised} AS raised
  FROM joined
), usable AS (
  SELECT *, {ok} AS ok FROM filled
)
SELECT {outer}, ok,
       count(*) AS n,
       sum(planned) AS planned_minutes,
       sum(planned - downtime) AS run_minutes,
       sum(ideal * total) AS ideal_total,
       sum(ideal * good) AS ideal_good,
       sum(total) AS total_count,
       sum(good) AS good_count,
       sum(CASE WHEN kind = 'breakdown' THEN downtime ELSE 0.0 END) AS loss_breakdown,
       sum(CASE WHEN kind = 'setup' THEN downtime ELSE 0.0 END) AS loss_setup,
       sum(CASE WHEN kind IS NULL THEN downtime ELSE 0.0 END) AS loss_other_stops,
       sum(minor) AS loss_minor_stops,
       sum(CASE WHEN planned - downtime - ideal * total - minor > 0
                THEN planned - downtime - ideal * total - minor ELSE 0.0 END)
           AS loss_reduced_speed,
       sum(ideal * startup) AS loss_startup_rejects,
       sum(ideal * (total - good - startup)) AS loss_process_defects,
       sum(raised) AS over
FROM usable
GROUP BY {outer}, ok"""  # noqa: S608 (keys are names from GROUPINGS, never the user's text)


def rollup_sql(keys: Sequence[str], runner) -> str:
    """The usable records' sums per ``keys`` from the ``sums`` table, in the keys' order."""
    expressions = {
        "day": f"{runner.day_text} AS day",
        "week": f"{runner.week} AS week",
        "month": f"{runner.month} AS month",
    }
    select = [expressions.get(k, k) for k in keys]
    totals = ", ".join(f"sum({c}) AS {c}" for c in SUMS)
    head = ", ".join([*select, totals])
    if not keys:
        return f"SELECT {head} FROM sums WHERE ok"  # noqa: S608
    order = ", ".join(str(i + 1) for i in range(len(keys)))
    return f"SELECT {head} FROM sums WHERE ok GROUP BY {order} ORDER BY {order}"  # noqa: S608


def _ratios(num: np.ndarray, den: np.ndarray) -> list[float | None]:
    """``num ÷ den`` where ``den > 0``, else None (as the engine's ``_ratio``)."""
    out = np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)
    return [None if x != x else x for x in out.tolist()]  # NaN is the one value ≠ itself


def _rows(grouped: pd.DataFrame, keys: Sequence[str]) -> list[dict]:
    """The engine's ``oee_table`` rows from one row of sums per group (built column-wise: a
    year of machine-days is some 10⁵ rows, whose dicts the cyclic collector need not scan)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_rows(grouped, keys)
    finally:
        if enabled:
            gc.enable()


def _build_rows(grouped: pd.DataFrame, keys: Sequence[str]) -> list[dict]:
    value = {c: grouped[c].fillna(0.0).to_numpy(dtype=float) for c in SUMS}
    columns = {
        "planned_minutes": value["planned_minutes"].tolist(),
        "run_minutes": value["run_minutes"].tolist(),
        "total_count": value["total_count"].tolist(),
        "good_count": value["good_count"].tolist(),
        "availability": _ratios(value["run_minutes"], value["planned_minutes"]),
        "performance": _ratios(value["ideal_total"], value["run_minutes"]),
        "quality": _ratios(value["good_count"], value["total_count"]),
        "oee": _ratios(value["ideal_good"], value["planned_minutes"]),
    }
    losses = [
        dict(zip(LOSSES, values, strict=True))
        for values in zip(*(value[f"loss_{k}"].tolist() for k in LOSSES), strict=True)
    ]
    names = [*keys, *columns, "losses"]
    lists = [*(grouped[k].astype(str).tolist() for k in keys), *columns.values(), losses]
    return [dict(zip(names, values, strict=True)) for values in zip(*lists, strict=True)]


def _downtime_reasons(reasons: pd.DataFrame) -> list[dict]:
    """The engine's ``downtime_reasons`` from the reasons query."""
    if reasons.empty:
        return []
    totals = reasons.sort_values("reason", kind="stable")
    totals = totals.sort_values(["minutes", "stops"], ascending=False, kind="stable")
    whole = float(totals["minutes"].sum())
    return [
        {
            "reason": reason or "-",
            "kind": reason_kind(reason),
            "minutes": float(minutes),
            "stops": int(stops),
            "share": float(minutes / whole),
        }
        for reason, minutes, stops in totals[["reason", "minutes", "stops"]].itertuples(index=False)
    ]


def oee_from_parquet(
    path: Path | str,
    shifts: Sequence[dict],
    cycle_times: Sequence[dict],
    *,
    by: Sequence[str] = ("machine", "day"),
    start: date | str | None = None,
    end: date | str | None = None,
    runner=None,
) -> dict:
    """OEE of the production records in the Parquet file at ``path``, standards filled from
    ``shifts`` and ``cycle_times`` (as ``engine.oee_standards`` reads them). ``runner`` runs the
    SQL (DuckDB by default; ``spark.SparkSqlRunner`` on Spark)."""
    keys = check_by(by)
    start, end = _day(start, "start"), _day(end, "end")
    own = runner is None
    runner = runner or DuckRunner(path)
    try:
        return _compute(runner, shifts, cycle_times, keys, start, end)
    finally:
        if own:
            runner.close()


def _compute(runner, shifts, cycle_times, keys, start, end) -> dict:
    records = records_sql(runner.columns(), start, end, runner.day)
    runner.view("records", records)
    probe = runner.sql(PROBE_SQL).iloc[0]
    n_records = int(probe["n"] or 0)
    fill_planned, fill_ideal = bool(probe["no_planned"]), bool(probe["no_ideal"])
    queries = [f"CREATE VIEW records AS\n{records}"]
    empty_groups = pd.DataFrame(
        columns=["machine", "day", "shift", "given", "n_missing", "n_timed", "occupied"]
    )
    groups = planned_groups(empty_groups, shifts)
    pairs = pd.DataFrame({"product": [], "machine": [], "n_missing": [], "seconds": []})
    if fill_planned:
        groups = planned_groups(runner.sql(GROUPS_SQL), shifts)
        runner.register(
            "std_planned",
            pd.DataFrame(
                {
                    "machine": groups["machine"].astype(str),
                    "day": pd.to_datetime(groups["day"]).dt.date,
                    "shift": groups["shift"].astype(str),
                    "remaining": groups["remaining"].astype(float),
                    "n_missing": groups["n_missing"].astype(float),
                    "occupied": groups["occupied"].astype(float),
                    "by_time": groups["by_time"].astype(bool),
                }
            ),
        )
        queries.append(
            "-- std_planned: the shift calendar's minutes less the given ones, per machine, day "
            "and shift lacking planned time, from:\n" + GROUPS_SQL
        )
    if fill_ideal:
        pairs = runner.sql(PAIRS_SQL)
        pairs["seconds"] = cycle_lookup(pairs, cycle_times)
        runner.register(
            "std_cycle",
            pd.DataFrame(
                {
                    "product": pairs["product"].astype(str),
                    "machine": pairs["machine"].astype(str),
                    "seconds": pairs["seconds"].astype(float),
                }
            ),
        )
        queries.append(
            "-- std_cycle: the ideal cycle time of each product and machine lacking one, from:\n"
            + PAIRS_SQL
        )
    reasons = runner.sql(REASONS_SQL)
    queries.append(
        "-- the downtime reasons, and std_reason (their loss kinds), from:\n" + REASONS_SQL
    )
    kinds = pd.DataFrame({"reason": reasons["reason"].astype(str)})
    kinds["kind"] = [reason_kind(r) for r in kinds["reason"]]
    kinds = kinds.loc[kinds["kind"] != "other_stops"]
    if not kinds.empty:
        runner.register("std_reason", kinds.reset_index(drop=True))
    sql = sums_sql(keys, fill_planned=fill_planned, fill_ideal=fill_ideal, kinds=not kinds.empty)
    runner.table("sums", sql)
    queries.append(f"CREATE TABLE sums AS\n{sql}")
    rows_sql = rollup_sql(keys, runner)
    queries.append(rows_sql)
    counts = runner.sql(
        "SELECT sum(CASE WHEN ok THEN 0 ELSE n END) AS excluded, sum(over) AS over FROM sums"
    ).iloc[0]
    missing = report(
        groups,
        pairs,
        over_calendar=int(counts["over"] or 0),
        n_records=n_records,
    )
    missing["excluded"] = int(counts["excluded"] or 0)
    trend = [
        {k: r[k] for k in ("day", "oee", "availability", "performance", "quality")}
        for r in _rows(runner.sql(rollup_sql(["day"], runner)), ["day"])
    ]
    used = n_records - missing["excluded"]
    return {
        "rows": _rows(runner.sql(rows_sql), keys),
        "total": _rows(runner.sql(rollup_sql([], runner)), [])[0],
        "downtime_reasons": _downtime_reasons(reasons),
        "trend": trend,
        "missing_standards": missing,
        "query": ";\n\n".join(queries) + ";",
        "method": gettext(
            "OEE = availability × performance × quality, as ratios of sums over {used} of "
            "{n} records; planned time from the shift calendar for {planned} records and ideal "
            "cycle time from the cycle times for {ideal} records where the data lacked them; "
            "{excluded} records lacking a standard are left out.",
            used=f"{used:,}",
            n=f"{n_records:,}",
            planned=f"{missing['planned_minutes']['from_calendar']:,}",
            ideal=f"{missing['ideal_cycle_seconds']['from_cycle_times']:,}",
            excluded=f"{missing['excluded']:,}",
        ),
    }


def dataset_oee(
    session: Session,
    dataset: FactoryDataset,
    *,
    by: Sequence[str] = ("machine", "day"),
    start: date | str | None = None,
    end: date | str | None = None,
) -> dict:
    """OEE of a production dataset the caller has authorised, with the SME's standards; on Spark
    when ``SANGSAENG_SPARK_MASTER`` is set, DuckDB otherwise."""
    from sangsaeng.settings import get_settings

    if dataset.kind != "production":
        raise InvalidInput({"dataset": Msg("OEE needs a dataset of production records.")})
    shifts = standards.calendar_of(session, dataset.organization_id)
    cycles = standards.cycle_times_of(session, dataset.organization_id)
    path = dataset_path(dataset)
    master = get_settings().spark_master
    if master:
        from sangsaeng.factory.spark import oee_on_spark

        return oee_on_spark(path, shifts, cycles, master, by=by, start=start, end=end)
    return oee_from_parquet(path, shifts, cycles, by=by, start=start, end=end)
