"""How an impact study is shown: labels, headline, warnings, tables, the event-study chart
(Plotly on the page, static SVG in the PDF) and the workbook's sheets. No rules and no numbers
of its own: every figure comes from the stored result (aggregates only)."""

from __future__ import annotations

import math
from html import escape

from sangsaeng.core.i18n import gettext, translate
from sangsaeng.core.web.templating import seoul_time
from sangsaeng.impact import panels
from sangsaeng.impact import service as studies
from sangsaeng.impact.models import FAILED

# Parameters of stored messages that are codes: shown by their label.
_PARAM_LABELS = {
    "variable": studies.COVARIATE_LABELS,
    "outcome": panels.OUTCOME_LABELS,
    "refine": studies.REFINE_LABELS,
    "method": studies.METHOD_LABELS,
}
AGGREGATIONS = ("simple", "dynamic", "group", "calendar")


def label(table: dict, code) -> str:
    found = table.get(code)
    return str(found) if found is not None else ("—" if code in (None, "") else str(code))


def tr(pair) -> str:
    """A stored ``[msgid, params]`` in the user's language, its code parameters as labels."""
    msgid, params = pair
    shown = {
        key: label(_PARAM_LABELS[key], value)
        if key in _PARAM_LABELS and isinstance(value, str) and value in _PARAM_LABELS[key]
        else value
        for key, value in (params or {}).items()
    }
    return translate([msgid, shown])


def effect(value: float | None, transform: str) -> str:
    """An ATT or a difference: log points with three decimals, or the outcome's own unit."""
    if value is None:
        return "—"
    return f"{value:+.3f}" if transform == "log" else f"{value:+,.0f}"


def approx_change(value: float | None) -> str:
    """A log-point effect as the relative change it stands for (exp(v) − 1)."""
    if value is None:
        return "—"
    return f"{math.expm1(value) * 100:+.1f}%"


def interval(ci, transform: str) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "—"
    return f"[{effect(ci[0], transform)}, {effect(ci[1], transform)}]"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def p_value(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def helpers() -> dict:
    """The formatting functions the study templates use."""
    return {
        "tr": tr,
        "effect": effect,
        "approx_change": approx_change,
        "interval": interval,
        "pct": pct,
        "num": number,
        "p_value": p_value,
        "status_label": lambda code: label(studies.STATUS_LABELS, code),
        "outcome_label": lambda code: label(panels.OUTCOME_LABELS, code),
        "transform_label": lambda code: label(studies.TRANSFORM_LABELS, code),
        "cohort_rule_label": lambda code: label(studies.COHORT_RULE_LABELS, code),
        "match_level_label": lambda code: label(studies.MATCH_LEVEL_LABELS, code),
        "refine_label": lambda code: label(studies.REFINE_LABELS, code),
        "control_label": lambda code: label(studies.CONTROL_LABELS, code),
        "method_label": lambda code: label(studies.METHOD_LABELS, code),
        "covariate_label": lambda code: label(studies.COVARIATE_LABELS, code),
        "se_type_label": se_type_label,
    }


def se_type_label(code: str | None) -> str:
    if code == "bootstrap":
        return gettext("Multiplier bootstrap (clustered by firm)")
    return gettext("Analytic (influence functions, clustered by firm)")


def scale_label(transform: str) -> str:
    if transform == "log":
        return gettext("log points (≈ relative change)")
    return gettext("the outcome's own unit")


def headline(detail: studies.StudyDetail) -> str:
    """The study in one sentence, with its interval and its sample."""
    result = detail.result
    if result is None:
        return ""
    spec = detail.spec
    simple = result["did"]["aggregations"]["simple"]
    text = gettext(
        "Average effect on the participants (simple ATT): {att} {scale}, 95 % interval {ci}; "
        "{treated} participants against {controls} matched non-participants ({control} "
        "controls, {method}).",
        att=effect(simple["att"], spec.transform),
        scale=scale_label(spec.transform),
        ci=interval(simple["ci"], spec.transform),
        treated=f"{result['n']['treated']:,}",
        controls=f"{result['n']['controls']:,}",
        control=label(studies.CONTROL_LABELS, spec.control),
        method=label(studies.METHOD_LABELS, spec.method),
    )
    if spec.transform == "log" and simple["att"] is not None:
        text += " " + gettext("About {change} in the outcome.", change=approx_change(simple["att"]))
    return text


def warnings(detail: studies.StudyDetail) -> list[str]:
    result = detail.result
    return [tr(pair) for pair in result.get("warnings", [])] if result else []


def errors(detail: studies.StudyDetail) -> list[str]:
    if detail.status != FAILED:
        return []
    found = [tr(pair) for pair in detail.errors]
    if not found and detail.job is not None and detail.job.error:
        found.append(detail.job.error)  # the job failed outside the analysis
    return found


def method_lines(detail: studies.StudyDetail) -> list[str]:
    result = detail.result
    return [tr(pair) for pair in result.get("method", [])] if result else []


def by_event(result: dict) -> list[dict]:
    return result["did"]["aggregations"]["dynamic"]["by_event"]


def aggregation_rows(result: dict) -> list[tuple[str, str, dict]]:
    """(aggregation, key, estimate) for the overall figures and every event, group and year."""
    aggregations = result["did"]["aggregations"]
    titles = {
        "simple": gettext("Simple (all post-periods)"),
        "dynamic": gettext("Dynamic (by event time)"),
        "group": gettext("Group (by cohort)"),
        "calendar": gettext("Calendar (by year)"),
    }
    overall = gettext("Overall")
    rows = [(titles["simple"], overall, aggregations["simple"])]
    for name, key, part in (
        ("dynamic", "event", "by_event"),
        ("group", "group", "by_group"),
        ("calendar", "time", "by_time"),
    ):
        rows.append((titles[name], overall, aggregations[name]["overall"]))
        rows += [(titles[name], str(e[key]), e) for e in aggregations[name][part]]
    return rows


# --- the event-study chart ---------------------------------------------------------------------


def event_chart(detail: studies.StudyDetail) -> dict | None:
    """Plotly data for the event study (drawn by static/app.js): ATT by event time with its
    pointwise 95 % interval, the uniform band when bootstrapped, pre-periods included."""
    result = detail.result
    if result is None:
        return None
    events = [e for e in by_event(result) if e["att"] is not None]
    if not events:
        return None
    transform = detail.spec.transform
    bands = [e.get("band") for e in events]
    has_band = all(b and b[0] is not None for b in bands)
    return {
        "id": "event-study-chart",
        "type": "event",
        "title": gettext("Event study: effect by years since the cohort"),
        "x": [e["event"] for e in events],
        "y": [e["att"] for e in events],
        "low": [e["ci"][0] for e in events],
        "high": [e["ci"][1] for e in events],
        "band_low": [b[0] for b in bands] if has_band else None,
        "band_high": [b[1] for b in bands] if has_band else None,
        "n": result["n"]["treated"],
        "axis_x": gettext("Years since the cohort year (0 = first year counted as treated)"),
        "axis_y": gettext("ATT in {scale}", scale=scale_label(transform)),
        "names": {
            "pre": gettext("Before participation"),
            "post": gettext("After participation"),
            "ci": gettext("95 % interval (pointwise)"),
            "band": gettext("95 % uniform band (bootstrap)"),
        },
    }


def svg_event_study(chart: dict | None, width: int = 500, height: int = 230) -> str:
    """The event study as inline SVG for the PDF: points with whiskers, the uniform band as a
    shaded area, a zero line and a dashed line before event 0."""
    if not chart:
        return ""
    xs, ys = chart["x"], chart["y"]
    values = [0.0, *ys]
    values += [v for v in chart["low"] + chart["high"] if v is not None]
    if chart["band_low"]:
        values += [v for v in chart["band_low"] + chart["band_high"] if v is not None]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or 0.01
    low, high = low - pad, high + pad
    left, right, top, bottom = 52, 12, 10, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = min(xs) - 0.5, max(xs) + 0.5

    def x(v: float) -> float:
        return left + (v - first) / (last - first) * plot_w

    def y(v: float) -> float:
        return top + (high - v) / (high - low) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Sangsaeng Sans" font-size="8">'
    ]
    if chart["band_low"]:
        # One shaded area before participation, one after: the band is not drawn across.
        band = list(zip(xs, chart["band_low"], chart["band_high"], strict=True))
        for part in ([b for b in band if b[0] < 0], [b for b in band if b[0] >= 0]):
            edge = [(e, hi) for e, _lo, hi in part] + [(e, lo) for e, lo, _hi in reversed(part)]
            points = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in edge)
            if points:
                parts.append(f'<polygon points="{points}" fill="#1f5fa8" fill-opacity="0.15"/>')
    zero = y(0.0)
    parts.append(
        f'<line x1="{left}" y1="{zero:.1f}" x2="{width - right}" y2="{zero:.1f}" stroke="#667"/>'
    )
    parts.append(
        f'<line x1="{x(-0.5):.1f}" y1="{top}" x2="{x(-0.5):.1f}" y2="{top + plot_h}" '
        'stroke="#a33" stroke-dasharray="4,3"/>'
    )
    for e, v, lo, hi in zip(xs, ys, chart["low"], chart["high"], strict=True):
        colour = "#888" if e < 0 else "#1f5fa8"
        cx = x(e)
        if lo is not None and hi is not None:
            parts.append(
                f'<path d="M{cx:.1f},{y(lo):.1f} V{y(hi):.1f} M{cx - 3:.1f},{y(lo):.1f} '
                f'H{cx + 3:.1f} M{cx - 3:.1f},{y(hi):.1f} H{cx + 3:.1f}" stroke="{colour}"/>'
            )
        parts.append(f'<circle cx="{cx:.1f}" cy="{y(v):.1f}" r="2.8" fill="{colour}"/>')
        parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 12}" text-anchor="middle">{e}</text>')
    for v in (low + pad, 0.0, high - pad):
        parts.append(f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end">{v:.3f}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">'
        f"{escape(chart['axis_x'])}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


# --- the workbook ------------------------------------------------------------------------------


def _ci(estimate: dict) -> list:
    ci = estimate.get("ci") or [None, None]
    return [ci[0], ci[1]]


def sheets(detail: studies.StudyDetail) -> list[tuple[str, list[str], list[list]]]:
    """요약, ATT(g,t), 집계, 균형, 단계, 기술통계, 방법: aggregates only, intervals as two
    columns; growth figures are fractions."""
    study, spec, result = detail.study, detail.spec, detail.result
    h = helpers()
    summary: list[list] = [
        [gettext("Title"), study.title, None],
        [gettext("Programs"), ", ".join(p.name_ko for p in detail.programs), None],
        [gettext("Firm-year panel"), detail.panel.name, None],
        [gettext("Status"), h["status_label"](detail.status), None],
        [gettext("Outcome variable"), h["outcome_label"](spec.outcome), spec.outcome],
        [gettext("Scale"), h["transform_label"](spec.transform), spec.transform],
        [gettext("Cohort"), h["cohort_rule_label"](spec.cohort_rule), spec.cohort_rule],
        [gettext("Exact matching on"), h["match_level_label"](spec.match_level), None],
        [gettext("Refinement"), h["refine_label"](spec.refine), spec.refine],
        [gettext("Non-participants per participant"), spec.ratio, None],
        [gettext("Caliper"), spec.caliper, None],
        [gettext("Control group"), h["control_label"](spec.control), spec.control],
        [gettext("Estimation method"), h["method_label"](spec.method), spec.method],
        [
            gettext("Covariates"),
            ", ".join(h["covariate_label"](c) for c in spec.covariates) or "—",
            None,
        ],
        [gettext("Bootstrap draws"), spec.bootstrap, None],
        [gettext("Seed"), spec.seed, None],
        [gettext("Created"), seoul_time(study.created_at), None],
        [
            gettext("Finished"),
            seoul_time(study.finished_at) if study.finished_at else None,
            None,
        ],
    ]
    summary += [[gettext("Error"), text, None] for text in errors(detail)]
    att_rows, aggregate_rows, balance_rows, step_rows, descriptive_rows = [], [], [], [], []
    method_rows = [[text] for text in method_lines(detail)]
    if result is not None:
        n = result["n"]
        did = result["did"]
        simple = did["aggregations"]["simple"]
        summary += [
            [gettext("Participants listed"), n["participants"], None],
            [gettext("Participants in the panel"), n["participants_in_panel"], None],
            [gettext("Non-participants in the panel"), n["non_participants"], None],
            [gettext("Participants analysed"), n["treated"], None],
            [gettext("Matched non-participants analysed"), n["controls"], None],
            [gettext("Firms left out of both groups"), n.get("left_out", 0), None],
            [gettext("Simple ATT"), simple["att"], scale_label(spec.transform)],
            [gettext("Standard error"), simple["se"], se_type_label(did["se_type"])],
            [gettext("95% interval, low"), _ci(simple)[0], None],
            [gettext("95% interval, high"), _ci(simple)[1], None],
            [gettext("Pre-trend test, p"), did["pretrend_p"], None],
        ]
        summary += [[gettext("Warning"), text, None] for text in warnings(detail)]
        att_rows = [
            [r["group"], r["time"], r["time"] - r["group"], r["post"], r["att"], r["se"], *_ci(r)]
            for r in did["att_gt"]
        ]
        for title, key, estimate in aggregation_rows(result):
            band = estimate.get("band") or [None, None]
            aggregate_rows.append(
                [title, key, estimate["att"], estimate["se"], *_ci(estimate), *band]
            )
        balance_rows = [
            [
                tr([b["label"], {}]),
                b["treated_mean"],
                b["control_mean_before"],
                b["smd_before"],
                b["control_mean_after"],
                b["smd_after"],
            ]
            for b in result["balance"]
        ]
        step_rows = [
            [
                tr([s["label"], {}]),
                s["treated"],
                s["treated_dropped"],
                s["controls"],
                s["controls_dropped"],
            ]
            for s in result["steps"]
        ]
        descriptive = result["descriptive"]
        descriptive_rows = [
            [
                tr([g["label"], {}]),
                g["n"],
                descriptive["base_year"],
                descriptive["end_year"],
                g["total_growth"],
                g["median_growth"],
                g["mean_growth"],
            ]
            for g in descriptive["groups"]
        ]
        naive = result["naive"]
        summary += [
            [
                gettext("Naive comparison, participants − all non-participants (descriptive)"),
                naive["att"],
                gettext(
                    "{base}–{end}, {treated} participants, {controls} non-participants; "
                    "not an effect estimate",
                    base=naive["base_year"],
                    end=naive["end_year"],
                    treated=naive["n_treated"],
                    controls=naive["n_controls"],
                ),
            ],
            [gettext("95% interval, low"), _ci(naive)[0], None],
            [gettext("95% interval, high"), _ci(naive)[1], None],
        ]
    lo, hi = gettext("95% interval, low"), gettext("95% interval, high")
    return [
        (gettext("Summary"), [gettext("Figure"), gettext("Value"), gettext("Note")], summary),
        (
            "ATT(g,t)",
            [
                gettext("Cohort"),
                gettext("Calendar year"),
                gettext("Event time"),
                gettext("After participation"),
                "ATT",
                gettext("Standard error"),
                lo,
                hi,
            ],
            att_rows,
        ),
        (
            gettext("Aggregations"),
            [
                gettext("Aggregation"),
                gettext("Key"),
                "ATT",
                gettext("Standard error"),
                lo,
                hi,
                gettext("Uniform band, low"),
                gettext("Uniform band, high"),
            ],
            aggregate_rows,
        ),
        (
            gettext("Covariate balance"),
            [
                gettext("Variable"),
                gettext("Participants, mean"),
                gettext("Non-participants before matching, mean"),
                gettext("SMD before matching"),
                gettext("Matched non-participants, mean"),
                gettext("SMD after matching"),
            ],
            balance_rows,
        ),
        (
            gettext("Matching steps"),
            [
                gettext("Step"),
                gettext("Participants kept"),
                gettext("Participants dropped"),
                gettext("Non-participants kept"),
                gettext("Non-participants dropped"),
            ],
            step_rows,
        ),
        (
            gettext("Descriptive statistics"),
            [
                gettext("Group (descriptive, not an effect estimate)"),
                "n",
                gettext("Base year"),
                gettext("End year"),
                gettext("Total growth"),
                gettext("Median growth"),
                gettext("Mean growth"),
            ],
            descriptive_rows,
        ),
        (gettext("Study method"), [gettext("Method")], method_rows),
    ]
