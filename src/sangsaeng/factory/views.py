"""How factory analyses are shown: labels, stored messages in the reader's language, the charts'
data (Plotly draws them on the page, see app.js) and the workbook's sheets. No rules and no
numbers of its own: every figure comes from the stored result."""

from __future__ import annotations

from sangsaeng.core.i18n import Msg, get_locale, gettext, translate
from sangsaeng.factory import analyses, datasets, schema
from sangsaeng.factory.engine.rootcause_columns import EMPTY, OTHER

LOSS_LABELS = {
    "breakdown": Msg("Equipment breakdowns"),
    "setup": Msg("Set-up and adjustment"),
    "other_stops": Msg("Other stops"),
    "minor_stops": Msg("Minor stops"),
    "reduced_speed": Msg("Reduced speed"),
    "startup_rejects": Msg("Start-up rejects"),
    "process_defects": Msg("Process defects"),
}
GROUPING_LABELS = {
    "machine": Msg("Machine"),
    "line": Msg("Line"),
    "shift": Msg("Shift"),
    "product": Msg("Product"),
    "day": Msg("Day"),
}
ROLE_LABELS = {
    "driver": Msg("Driver"),
    "correlated_only": Msg("Correlated only"),
    "minor": Msg("Minor"),
}
STATUS_LABELS = {
    "queued": Msg("Waiting"),
    "running": Msg("Running"),
    "done": Msg("Done"),
    "failed": Msg("Failed"),
}
CHART_LABELS = {
    "xbar-r": "X̄-R",
    "xbar-s": "X̄-S",
    "imr": "I-MR",
    "p": "p",
    "np": "np",
    "c": "c",
    "u": "u",
}
FREQ_LABELS = {"W-MON": Msg("Weekly"), "D": Msg("Daily"), "MS": Msg("Monthly")}
IMPORTANCE_SHOWN = 15


def label(table: dict, code) -> str:
    found = table.get(code)
    return str(found) if found is not None else ("—" if code in (None, "") else str(code))


def column_label(kind: str, key: str) -> str:
    for field in schema.FIELDS.get(kind, ()):
        if field.key == key:
            return field.column.label_en if get_locale() == "en" else field.column.label_ko
    return key


def helpers() -> dict:
    return {
        "kind_label": lambda code: label(analyses.KIND_LABELS, code),
        "dataset_kind_label": lambda code: label(datasets.KIND_LABELS, code),
        "status_label": lambda code: label(STATUS_LABELS, code),
        "loss_label": lambda code: label(LOSS_LABELS, code),
        "grouping_label": lambda code: label(GROUPING_LABELS, code),
        "role_label": lambda code: label(ROLE_LABELS, code),
        "chart_label": lambda code: CHART_LABELS.get(code, code),
        "freq_label": lambda code: label(FREQ_LABELS, code),
        "tr": tr,
        "pct": pct,
        "num": num,
    }


def tr(pair) -> str:
    return translate(pair) if pair else ""


def pct(value, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def num(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def errors(analysis) -> list[str]:
    problems = (analysis.error or {}).get("problems") or []
    return [translate(p) for p in problems]


# --- OEE ----------


def oee_charts(result: dict) -> list[dict]:
    charts = []
    losses = (result.get("total") or {}).get("losses") or {}
    ranked = sorted(((k, v) for k, v in losses.items() if v and v > 0), key=lambda kv: -kv[1])
    if ranked:
        whole = sum(v for _, v in ranked)
        running, cumulative = 0.0, []
        for _, value in ranked:
            running += value
            cumulative.append(round(100 * running / whole, 2))
        charts.append(
            {
                "id": "chart-pareto",
                "type": "pareto",
                "title": gettext("The six big losses (minutes of planned time)"),
                "x": [label(LOSS_LABELS, k) for k, _ in ranked],
                "y": [round(v, 1) for _, v in ranked],
                "cum": cumulative,
                "axis": gettext("Minutes"),
            }
        )
    trend = result.get("trend") or []
    if trend:
        charts.append(
            {
                "id": "chart-trend",
                "type": "lines",
                "title": gettext("OEE by day"),
                "x": [row.get("day") for row in trend],
                "percent": True,
                "series": [
                    {"name": gettext(name), "values": [_pct_or_none(r.get(key)) for r in trend]}
                    for key, name in (
                        ("oee", "OEE"),
                        ("availability", "Availability"),
                        ("performance", "Performance"),
                        ("quality", "Quality"),
                    )
                ],
            }
        )
    machines = [r for r in result.get("machines") or [] if r.get("oee") is not None]
    if machines:
        machines = sorted(machines, key=lambda r: -r["oee"])
        charts.append(
            {
                "id": "chart-machines",
                "type": "bar",
                "title": gettext("OEE by machine (%)"),
                "x": [str(r.get("machine") or "—") for r in machines],
                "y": [round(r["oee"] * 100, 1) for r in machines],
            }
        )
    reasons = result.get("downtime_reasons") or []
    if reasons:
        charts.append(
            {
                "id": "chart-reasons",
                "type": "bar",
                "title": gettext("Downtime by reason (minutes)"),
                "x": [str(r["reason"]) for r in reasons[:15]],
                "y": [round(r["minutes"], 1) for r in reasons[:15]],
            }
        )
    return charts


def _pct_or_none(value):
    return None if value is None else round(value * 100, 2)


# --- SPC ----------


def spc_charts(result: dict) -> list[dict]:
    labels = result.get("labels") or list(range(1, result["n_samples"] + 1))
    n = result["n_samples"]
    flagged = [v["sample"] - 1 for v in result["violations"] if v.get("chart") in (None, "")]
    charts = [
        {
            "id": "chart-control",
            "type": "control",
            "title": gettext("{chart} chart", chart=CHART_LABELS.get(result["chart"], "")),
            "x": [str(v) for v in labels[:n]],
            "y": result["points"],
            "center": _series(result["center"], n),
            "lcl": _series(result["lcl"], n),
            "ucl": _series(result["ucl"], n),
            "flagged": sorted(set(flagged)),
            "baseline": result["baseline"],
        }
    ]
    secondary = result.get("secondary")
    if secondary:
        points = secondary["points"]
        offset = secondary.get("offset", 0)
        charts.append(
            {
                "id": "chart-secondary",
                "type": "control",
                "title": gettext(
                    "{kind} chart", kind={"r": "R", "s": "S", "mr": "MR"}.get(secondary["kind"], "")
                ),
                "x": [str(v) for v in labels[offset : offset + len(points)]],
                "y": points,
                "center": _series(secondary["center"], len(points)),
                "lcl": _series(secondary["lcl"], len(points)),
                "ucl": _series(secondary["ucl"], len(points)),
                "flagged": sorted(
                    {
                        v["sample"] - 1 - offset
                        for v in result["violations"]
                        if v.get("chart") == secondary["kind"]
                    }
                ),
                "baseline": None,
            }
        )
    return charts


def _series(value, n: int) -> list:
    return list(value) if isinstance(value, list) else [value] * n


RULE_LABELS = {
    1: Msg("1 point beyond 3 sigma"),
    2: Msg("2 of 3 points beyond 2 sigma on one side"),
    3: Msg("4 of 5 points beyond 1 sigma on one side"),
    4: Msg("8 points in a row on one side of the centre line"),
    5: Msg("6 points in a row rising or falling"),
    6: Msg("15 points in a row within 1 sigma"),
    7: Msg("14 points in a row alternating up and down"),
    8: Msg("8 points in a row outside 1 sigma"),
}


def spc_violations(result: dict) -> list[dict]:
    labels = result.get("labels") or []
    rows = []
    for v in result["violations"]:
        index = v["sample"] - 1
        rows.append(
            {
                "sample": v["sample"],
                "label": labels[index] if 0 <= index < len(labels) else v["sample"],
                "rule": v["rule"],
                "text": label(RULE_LABELS, v["rule"]),
                "chart": v.get("chart") or result["chart"],
                "value": result["points"][index] if 0 <= index < len(result["points"]) else None,
            }
        )
    return rows


# --- forecasts ----------


def forecast_chart(result: dict, series_id: str | None) -> tuple[dict | None, dict | None]:
    entries = result.get("series") or []
    if not entries:
        return None, None
    entry = next((e for e in entries if str(e["id"]) == series_id), entries[0])
    history = (result.get("history") or {}).get(str(entry["id"])) or {"time": [], "value": []}
    rows = entry["forecast"]
    chart = {
        "id": "chart-forecast",
        "type": "fan",
        "title": gettext("{series}: history and forecast", series=entry["id"]),
        "hx": history["time"],
        "hy": history["value"],
        "x": [r["time"] for r in rows],
        "mean": [r["mean"] for r in rows],
        "lo80": [r.get("lo80") for r in rows],
        "hi80": [r.get("hi80") for r in rows],
        "lo95": [r.get("lo95") for r in rows],
        "hi95": [r.get("hi95") for r in rows],
        "names": [gettext("Actual"), gettext("Forecast"), "80 %", "95 %"],
    }
    return chart, entry


def tracked(result: dict) -> dict:
    """Forecast against actuals, its method in the reader's language."""
    return dict(result, method=[tr(line) for line in result.get("method") or []])


def forecast_scores(entry: dict) -> list[dict]:
    """Every candidate's cross-validated scores, the chosen one first, then by MASE."""
    rows = [
        {"model": model, "mase": s.get("mase"), "smape": s.get("smape")}
        for model, s in (entry.get("cv") or {}).items()
    ]
    rows.sort(key=lambda r: (r["model"] != entry["model"], r["mase"] is None, r["mase"] or 0.0))
    return rows


def forecast_sheets(analysis, result: dict) -> list[tuple[str, list[str], list[list]]]:
    head = [gettext("Series"), gettext("Model"), gettext("Period"), gettext("Forecast")]
    head += ["lo80", "hi80", "lo95", "hi95"]
    rows = [
        [
            e["id"],
            e["model"],
            r["time"],
            r["mean"],
            r.get("lo80"),
            r.get("hi80"),
            r.get("lo95"),
            r.get("hi95"),
        ]
        for e in result.get("series") or []
        for r in e["forecast"]
    ]
    scores_head = [gettext("Series"), gettext("Model"), "MASE", "sMAPE", gettext("Chosen")]
    scores = [
        [e["id"], s["model"], s["mase"], s["smape"], "✓" if s["model"] == e["model"] else ""]
        for e in result.get("series") or []
        for s in forecast_scores(e)
    ]
    method_lines = [[line] for line in method(analysis, result)]
    return [
        (gettext("Forecast"), head, rows),
        (gettext("Cross-validation"), scores_head, scores),
        (gettext("Method"), [gettext("How it was computed")], method_lines),
    ]


# --- root causes ----------


def _category(value):
    return gettext(value) if value in (OTHER, EMPTY) else value


def excluded_text(entries: list[dict]) -> list[dict]:
    return [{"name": e["name"], "reason": translate(e["reason"])} for e in entries]


def root_cause_text(result: dict) -> dict:
    """The engine's result with its messages (and the "(other)"/"(empty)" category labels) in
    the user's language."""
    factors = []
    for factor in result["factors"]:
        row = dict(factor, category=_category(factor.get("category")))
        for key in ("summary", "note"):
            if row.get(key) is not None:
                msgid, params = row[key]
                row[key] = translate((msgid, {k: _category(v) for k, v in params.items()}))
        if row.get("levels"):
            row["levels"] = [
                dict(level, category=_category(level["category"])) for level in row["levels"]
            ]
        factors.append(row)
    return dict(
        result,
        factors=factors,
        excluded=excluded_text(result["excluded"]),
        warnings=[translate(w) for w in result["warnings"]],
    )


def root_cause_charts(result: dict) -> list[dict]:
    factors = result["factors"][:IMPORTANCE_SHOWN]
    charts = []
    if factors:
        charts.append(
            {
                "id": "chart-importance",
                "type": "bar",
                "title": gettext("Importance (share of mean |SHAP|, %)"),
                "x": [f["name"] for f in factors],
                "y": [round((f.get("share") or 0) * 100, 1) for f in factors],
            }
        )
    profiled = [f for f in factors if f.get("profile")][:2]
    for index, factor in enumerate(profiled):
        bins = factor["profile"]
        charts.append(
            {
                "id": f"chart-profile-{index}",
                "type": "profile",
                "title": gettext("Defect rate by {name}", name=factor["name"]),
                "x": [f"{b['lo']:g}–{b['hi']:g}" for b in bins],
                "y": [round(b["rate"] * 100, 2) for b in bins],
                "n": [b["n"] for b in bins],
                "threshold": factor.get("threshold"),
                "edges": [b["lo"] for b in bins],
                "axis": gettext("Defect rate (%)"),
            }
        )
    return charts


# --- what every result says of itself ----------


def method(analysis, result: dict) -> list[str]:
    if analysis.kind == "spc":
        return [tr(line) for line in result.get("method") or []]
    if analysis.kind == "forecast":
        return [tr(line) for line in (result.get("summary") or {}).get("method") or []]
    if analysis.kind == "oee":
        lines = [str(result.get("method") or "")]
        return [line for line in lines if line]
    model = result.get("model") or {}
    cv = model.get("cv") or {}
    return [
        gettext(
            "LightGBM gradient-boosted trees, {folds}-fold cross-validated ensemble (AUC {auc}, "
            "PR-AUC {pr_auc}); importance is the mean |SHAP| value on {sample} of {n} rows.",
            folds=cv.get("folds", "—"),
            auc=num(cv.get("auc"), 3),
            pr_auc=num(cv.get("pr_auc"), 3),
            sample=f"{(model.get('shap') or {}).get('sample', 0):,}",
            n=f"{result.get('n_rows', 0):,}",
        ),
        gettext(
            "Each factor is tested on its own (Mann–Whitney, χ² or Fisher) and given the "
            "others (a score test of its out-of-fold SHAP part), with Benjamini–Hochberg "
            "q-values; a driver has q < 0.05 given the others. Rate ratios have 95 % Katz "
            "intervals."
        ),
    ]


def sheets(analysis, result: dict) -> list[tuple[str, list[str], list[list]]]:
    """The analysis as a workbook: its tables and how it was computed."""
    method_sheet = (
        gettext("Method"),
        [gettext("How it was computed")],
        [[line] for line in method(analysis, result)],
    )
    if analysis.kind == "forecast":
        return forecast_sheets(analysis, result)
    if analysis.kind == "oee":
        by = list((analysis.params or {}).get("by") or [])
        head = [label(GROUPING_LABELS, g) for g in by]
        head += ["OEE", gettext("Availability"), gettext("Performance"), gettext("Quality")]
        head += [gettext("Planned (min)"), gettext("Run (min)"), gettext("Produced")]
        head += [gettext("Good")] + [label(LOSS_LABELS, k) for k in LOSS_LABELS]
        rows = [
            [r.get(g) for g in by]
            + [r.get(k) for k in ("oee", "availability", "performance", "quality")]
            + [r.get(k) for k in ("planned_minutes", "run_minutes", "total_count", "good_count")]
            + [(r.get("losses") or {}).get(k) for k in LOSS_LABELS]
            for r in result.get("rows") or []
        ]
        reasons = [
            [r["reason"], label(LOSS_LABELS, r["kind"]), r["minutes"], r["stops"], r["share"]]
            for r in result.get("downtime_reasons") or []
        ]
        query_sheet = (gettext("Query"), ["SQL"], [[result.get("query") or ""]])
        return [
            ("OEE", head, rows),
            (
                gettext("Downtime reasons"),
                [
                    gettext("Reason"),
                    gettext("Loss"),
                    gettext("Minutes"),
                    gettext("Stops"),
                    gettext("Share"),
                ],
                reasons,
            ),
            query_sheet,
            method_sheet,
        ]
    if analysis.kind == "spc":
        head = [gettext("Sample"), gettext("Lot or day"), gettext("Value"), "CL", "LCL", "UCL"]
        n = result["n_samples"]
        labels = result.get("labels") or list(range(1, n + 1))
        center, lcl, ucl = (_series(result[k], n) for k in ("center", "lcl", "ucl"))
        rows = [
            [i + 1, labels[i], result["points"][i], center[i], lcl[i], ucl[i]] for i in range(n)
        ]
        flagged = [
            [v["sample"], v["label"], v["chart"], v["value"], f"{v['rule']}. {v['text']}"]
            for v in spc_violations(result)
        ]
        return [
            (gettext("Chart"), head, rows),
            (
                gettext("Points to follow up"),
                [
                    gettext("Sample"),
                    gettext("Lot or day"),
                    gettext("Chart"),
                    gettext("Value"),
                    gettext("Rule"),
                ],
                flagged,
            ),
            method_sheet,
        ]
    shown = root_cause_text(result)
    head = ["#", gettext("Factor"), gettext("Role"), gettext("Importance"), gettext("Effect")]
    rows = [
        [f["rank"], f["name"], label(ROLE_LABELS, f["role"]), f.get("share"), f.get("summary")]
        for f in shown["factors"]
    ]
    excluded = [[e["name"], e["reason"]] for e in shown["excluded"]]
    return [
        (gettext("Factors"), head, rows),
        (gettext("Left out"), [gettext("Column"), gettext("Reason")], excluded),
        method_sheet,
    ]
