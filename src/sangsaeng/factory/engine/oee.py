"""Overall equipment effectiveness from production records, with the six big losses.

Per record (a machine's run of one product in a shift): planned production time, downtime (with
its reason), the ideal cycle time, the total and good counts, optionally minor stops and start-up
rejects. For any grouping the ratios are ratios of sums, never means of ratios:

- availability = run time ÷ planned time, where run time = planned − downtime;
- performance = ideal cycle time × total count ÷ run time;
- quality = good count ÷ total count;
- OEE = availability × performance × quality = ideal cycle time × good count ÷ planned time.

The six big losses, in minutes of planned time: breakdowns and set-up (and other stops) from
downtime by reason; minor stops as recorded and reduced speed as the rest of the performance
loss; start-up rejects and process defects as the ideal time of the units scrapped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sangsaeng.factory.engine.problems import N_, InputProblems, row_list

# Our column → the headers it is read from (Korean, English).
COLUMNS: dict[str, tuple[str, ...]] = {
    "machine": ("설비", "기계", "machine", "equipment"),
    "line": ("라인", "line"),
    "shift": ("조", "근무조", "shift"),
    "date": ("일자", "날짜", "생산일", "date", "day"),
    "product": ("제품", "품목", "product", "item"),
    "planned_minutes": ("계획시간(분)", "계획가동시간(분)", "planned_minutes"),
    "downtime_minutes": ("비가동시간(분)", "정지시간(분)", "downtime_minutes"),
    "downtime_reason": ("비가동사유", "정지사유", "downtime_reason"),
    "minor_stop_minutes": ("순간정지(분)", "minor_stop_minutes"),
    "ideal_cycle_seconds": ("이상사이클타임(초)", "표준사이클타임(초)", "ideal_cycle_seconds"),
    "total_count": ("생산수량", "총생산수량", "total_count"),
    "good_count": ("양품수량", "good_count"),
    "startup_rejects": ("초기불량", "startup_rejects"),
}
REQUIRED = ("planned_minutes", "ideal_cycle_seconds", "total_count", "good_count")
NUMERIC = (
    "planned_minutes",
    "downtime_minutes",
    "minor_stop_minutes",
    "ideal_cycle_seconds",
    "total_count",
    "good_count",
    "startup_rejects",
)
GROUPINGS = ("machine", "line", "shift", "day", "product")
LOSSES = (
    "breakdown",
    "setup",
    "other_stops",
    "minor_stops",
    "reduced_speed",
    "startup_rejects",
    "process_defects",
)

_BREAKDOWN = ("고장", "breakdown", "failure", "파손", "수리")
_SETUP = ("셋업", "준비", "교체", "금형", "setup", "changeover", "조정", "adjust")


class OeeError(InputProblems):
    pass


def reason_kind(reason: str) -> str:
    text = (reason or "").strip().lower()
    if any(word in text for word in _BREAKDOWN):
        return "breakdown"
    if any(word in text for word in _SETUP):
        return "setup"
    return "other_stops"


def prepare(frame: pd.DataFrame, *, first_row: int = 2) -> pd.DataFrame:
    """Records under our column names, checked: numbers, no negatives, good ≤ total,
    downtime ≤ planned time. Problems name the rows (``first_row``: the file's first data row)."""
    lookup = {}
    for key, names in COLUMNS.items():
        for header in frame.columns:
            if str(header).strip().lower() in {n.lower() for n in names}:
                lookup[key] = header
                break
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in lookup]
    if missing:
        raise OeeError([(N_("Missing column(s): {columns}."), {"columns": ", ".join(missing)})])
    out = pd.DataFrame(index=frame.index)
    problems: list[tuple[str, dict]] = []
    for key in NUMERIC:
        if key not in lookup:
            out[key] = 0.0
            continue
        raw = frame[lookup[key]]
        values = pd.to_numeric(raw, errors="coerce")
        blank = raw.isna() | (raw.astype(str).str.strip() == "")
        bad = (values.isna() & ~blank).to_numpy()
        if bad.any():
            problems.append(
                (
                    N_("Rows {rows}: '{column}' is empty or not a number."),
                    {"rows": row_list(bad, first_row), "column": lookup[key]},
                )
            )
        values = values.fillna(0.0)
        negative = (values < 0).to_numpy()
        if negative.any():
            problems.append(
                (
                    N_("Rows {rows}: '{column}' is negative."),
                    {"rows": row_list(negative, first_row), "column": lookup[key]},
                )
            )
        out[key] = values.astype(float)
    for key in ("machine", "line", "shift", "product", "downtime_reason"):
        out[key] = frame[lookup[key]].astype(str).str.strip() if key in lookup else ""
    if "date" in lookup:
        dates = pd.to_datetime(frame[lookup["date"]], errors="coerce")
        bad = dates.isna().to_numpy()
        if bad.any():
            problems.append(
                (
                    N_("Rows {rows}: '{column}' is not a date."),
                    {"rows": row_list(bad, first_row), "column": lookup["date"]},
                )
            )
        out["day"] = dates.dt.strftime("%Y-%m-%d")
    else:
        out["day"] = ""
    if problems:
        raise OeeError(problems)
    over = (out["good_count"] > out["total_count"]).to_numpy()
    if over.any():
        problems.append(
            (
                N_("Rows {rows}: more good units than units produced."),
                {"rows": row_list(over, first_row)},
            )
        )
    stopped = (out["downtime_minutes"] > out["planned_minutes"]).to_numpy()
    if stopped.any():
        problems.append(
            (
                N_("Rows {rows}: downtime longer than the planned time."),
                {"rows": row_list(stopped, first_row)},
            )
        )
    rejects = (out["startup_rejects"] > out["total_count"] - out["good_count"]).to_numpy()
    if rejects.any():
        problems.append(
            (
                N_("Rows {rows}: more start-up rejects than rejected units."),
                {"rows": row_list(rejects, first_row)},
            )
        )
    if problems:
        raise OeeError(problems)
    return out


def _losses(records: pd.DataFrame) -> pd.DataFrame:
    """Minutes of each of the six big losses per record."""
    kinds = records["downtime_reason"].map(reason_kind)
    ideal_minutes = records["ideal_cycle_seconds"] / 60
    run = records["planned_minutes"] - records["downtime_minutes"]
    speed = run - ideal_minutes * records["total_count"] - records["minor_stop_minutes"]
    return pd.DataFrame(
        {
            "breakdown": np.where(kinds == "breakdown", records["downtime_minutes"], 0.0),
            "setup": np.where(kinds == "setup", records["downtime_minutes"], 0.0),
            "other_stops": np.where(kinds == "other_stops", records["downtime_minutes"], 0.0),
            "minor_stops": records["minor_stop_minutes"],
            "reduced_speed": speed.clip(lower=0.0),
            "startup_rejects": ideal_minutes * records["startup_rejects"],
            "process_defects": ideal_minutes
            * (records["total_count"] - records["good_count"] - records["startup_rejects"]),
        },
        index=records.index,
    )


def oee_table(records: pd.DataFrame, by: Sequence[str] = ()) -> list[dict]:
    """One row per group (or one for everything): the three factors, OEE and the losses."""
    by = list(by)
    work = records.copy()
    work["run_minutes"] = work["planned_minutes"] - work["downtime_minutes"]
    work["ideal_total"] = work["ideal_cycle_seconds"] / 60 * work["total_count"]
    work["ideal_good"] = work["ideal_cycle_seconds"] / 60 * work["good_count"]
    losses = _losses(records).add_prefix("loss_")  # "startup_rejects" is also a count column
    work = pd.concat([work, losses], axis=1)
    sums = [
        "planned_minutes",
        "run_minutes",
        "ideal_total",
        "ideal_good",
        "total_count",
        "good_count",
        *losses.columns,
    ]
    grouped = work.groupby(by, sort=True)[sums].sum() if by else work[sums].sum().to_frame().T
    rows = []
    for keys, g in grouped.iterrows():
        keys = keys if isinstance(keys, tuple) else (keys,)
        availability = _ratio(g["run_minutes"], g["planned_minutes"])
        performance = _ratio(g["ideal_total"], g["run_minutes"])
        quality = _ratio(g["good_count"], g["total_count"])
        rows.append(
            {
                **({k: v for k, v in zip(by, keys, strict=True)} if by else {}),
                "planned_minutes": float(g["planned_minutes"]),
                "run_minutes": float(g["run_minutes"]),
                "total_count": float(g["total_count"]),
                "good_count": float(g["good_count"]),
                "availability": availability,
                "performance": performance,
                "quality": quality,
                "oee": _ratio(g["ideal_good"], g["planned_minutes"]),
                "losses": {k: float(g[f"loss_{k}"]) for k in LOSSES},
            }
        )
    return rows


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def downtime_reasons(records: pd.DataFrame) -> list[dict]:
    """Downtime by reason, largest first, with its share of all downtime."""
    stopped = records.loc[records["downtime_minutes"] > 0]
    if stopped.empty:
        return []
    totals = stopped.groupby("downtime_reason")["downtime_minutes"].agg(["sum", "count"])
    totals = totals.sort_values(["sum", "count"], ascending=False)
    whole = float(totals["sum"].sum())
    return [
        {
            "reason": reason or "-",
            "kind": reason_kind(reason),
            "minutes": float(row["sum"]),
            "stops": int(row["count"]),
            "share": float(row["sum"] / whole),
        }
        for reason, row in totals.iterrows()
    ]
