"""How the performance report (성과보고서) is shown: group labels, headline figures, tables,
chart data (Plotly on the page, static SVG in the PDF) and the workbook's sheets. No rules and no
numbers of its own: every figure comes from ``report_service`` and keeps its n."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from itertools import pairwise
from math import ceil

import numpy as np
from sqlalchemy.orm import Session

from sangsaeng.core import reference
from sangsaeng.core.i18n import N_, Msg, gettext
from sangsaeng.core.models import Organization
from sangsaeng.core.money import format_krw
from sangsaeng.core.policy import Actor, Role
from sangsaeng.core.reference import Kpi
from sangsaeng.outcomes.engine.improvement import FORMULAS, RELATIVE
from sangsaeng.outcomes.engine.report import METHOD, SUMMARY_METHOD
from sangsaeng.outcomes.engine.summary import Summary
from sangsaeng.outcomes.report_service import (
    BREAKDOWNS,
    INPUT_CODES,
    OUTSIDE_CHAIN,
    POOLED,
    CompanyLine,
    ProgramReport,
)
from sangsaeng.programs import service as programs
from sangsaeng.programs.models import Program

PER_PAGE = 50
MAX_BINS = 30

BREAKDOWN_TITLES = {
    "sponsor": Msg("Sponsor"),
    "tier": Msg("Supplier tier"),
    "industry": Msg("Industry (KSIC division)"),
    "region": Msg("Region"),
    "size": Msg("Size class"),
    "support_type": Msg("Support type"),
    "year": Msg("Start year"),
}
AFTER_LABELS = {
    "latest": Msg("Latest verified value (completion or a follow-up year)"),
    "completion": Msg("Value at completion"),
}
TIER_LABELS = {
    "1": Msg("Tier 1"),
    "2": Msg("Tier 2"),
    "3+": Msg("Tier 3+"),
    OUTSIDE_CHAIN: Msg("Outside"),
}
SPONSOR_LABELS = {
    POOLED: Msg("Pooled sponsor funds"),
    OUTSIDE_CHAIN: Msg("No sponsor funding"),
}
NOT_RECORDED = Msg("Not recorded")
LEVEL_METHOD = N_(
    "Change of the overall diagnosis score (0–100) between the diagnosis attached at application "
    "and the one after completion, over the companies having both; 95 % t-interval of the mean."
)
# The company inputs the financial effect is valued with, in CompanyInputs' field order.
INPUT_FIELDS = tuple(INPUT_CODES.items())  # (catalogue code, CompanyInputs field)


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:,.{digits}f}%"


def plain(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def krw(value: float | None) -> int | None:
    return None if value is None else round(value)


def group_label(program: Program, breakdown: str, code: str) -> str:
    """A breakdown group's code in words (region names, KSIC names, the program's support
    types…); an unknown code is shown as it is."""
    if breakdown == "sponsor":
        return str(SPONSOR_LABELS.get(code, code))
    if code == OUTSIDE_CHAIN:
        return str(TIER_LABELS[OUTSIDE_CHAIN] if breakdown == "tier" else NOT_RECORDED)
    if breakdown == "tier":
        return str(TIER_LABELS.get(code, code))
    if breakdown == "industry":
        entry = reference.ksic_entry(code)
        return f"{entry.parent}{code} {entry.name}" if entry else code
    if breakdown == "region":
        found = reference.region(code)
        return found.name if found else code
    if breakdown == "size":
        found = reference.size_class(code)
        return found.name if found else code
    if breakdown == "support_type":
        kind = next((t for t in program.support_types or [] if t.get("code") == code), None)
        return kind["name_ko"] if kind else code
    return code


@dataclass(frozen=True)
class KpiRow:
    code: str
    name: str
    unit: str
    relative: bool  # a fraction of the value before (shown as %), else the change in its unit
    summary: Summary

    def show(self, value: float | None) -> str:
        if value is None:
            return "—"
        return percent(value) if self.relative else f"{plain(value)} {self.unit}"

    @property
    def measured_as(self) -> str:
        if self.relative:
            return gettext("relative to the value before")
        return gettext("change in {unit}", unit=self.unit)


@dataclass(frozen=True)
class GroupRow:
    code: str
    label: str
    summary: Summary


@dataclass(frozen=True)
class Breakdown:
    name: str
    title: str
    rows: list[GroupRow]


@dataclass(frozen=True)
class CompanyPage:
    items: list[CompanyLine]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


@dataclass(frozen=True)
class ReportView:
    result: ProgramReport
    resamples: int
    seed: int
    manager: bool  # runs the program: the subnav, the sponsor filter and the queue link
    sponsor_options: list[Organization]
    kpi_rows: list[KpiRow]
    breakdowns: list[Breakdown]
    histogram: tuple[list[float], list[int]]  # bin edges (%), counts
    companies: CompanyPage
    as_of: date
    operator_name: str = ""

    @property
    def program(self) -> Program:
        return self.result.program

    @property
    def report(self):
        return self.result.report

    @property
    def catalogue(self) -> dict[str, Kpi]:
        return self.result.catalogue

    @property
    def method(self) -> str:
        return gettext(METHOD, resamples=self.resamples, seed=self.seed)

    @property
    def summary_method(self) -> str:
        return gettext(SUMMARY_METHOD, resamples=self.resamples, seed=self.seed)

    @property
    def level_method(self) -> str:
        return gettext(LEVEL_METHOD)

    @property
    def after_label(self) -> str:
        return str(AFTER_LABELS[self.result.after])

    @property
    def scope_label(self) -> str:
        sponsor = self.result.sponsor
        if sponsor is None:
            return gettext("All participating companies")
        return gettext("Companies funded by {sponsor}", sponsor=sponsor.name_ko)

    @property
    def formulas(self) -> list[tuple[str, str, bool]]:
        """(KPI name, formula, applied in this report) for every kind of effect."""
        applied = self.report.financial_effect.formulas
        return [
            (self.kpi_name(kind), gettext(formula), kind in applied)
            for kind, formula in FORMULAS.items()
        ]

    def kpi_name(self, code: str) -> str:
        kpi = self.catalogue.get(code)
        return kpi.name if kpi else code

    @property
    def inputs(self) -> list[tuple[str, str, str]]:
        """(CompanyInputs field, name, unit) of the inputs, for the company tables."""
        return [
            (name, self.kpi_name(code), self.catalogue[code].unit if code in self.catalogue else "")
            for code, name in INPUT_FIELDS
        ]

    def total(self, code: str) -> tuple[float, int] | None:
        return self.report.totals.get(code)

    @property
    def headline(self) -> str:
        """The report in one sentence, as operators present it."""
        report = self.report
        avg = report.avg_improvement
        effect = report.financial_effect
        parts = [
            gettext(
                "{n} companies took part; {v} have verified before/after values.",
                n=f"{report.n_participants:,}",
                v=f"{report.n_verified:,}",
            )
        ]
        if avg.n:
            parts.append(
                gettext(
                    "Their KPIs improved by {mean} per company on average (median {median}, "
                    "n = {n}).",
                    mean=percent(avg.mean),
                    median=percent(avg.median),
                    n=f"{avg.n:,}",
                )
            )
        if effect.n:
            parts.append(
                gettext(
                    "Annual financial effect {total}, {per} per company (n = {n}).",
                    total=format_krw(krw(effect.total)),
                    per=format_krw(krw(effect.per_company)),
                    n=f"{effect.n:,}",
                )
            )
        hires = self.total("new_hires")
        if hires and hires[1]:
            parts.append(
                gettext(
                    "{hires} people hired (n = {n}).", hires=plain(hires[0], 0), n=f"{hires[1]:,}"
                )
            )
        return " ".join(parts)


def _kpi_rows(result: ProgramReport) -> list[KpiRow]:
    rows = []
    # Catalogue order: shipped KPIs first, in their order, then the added ones.
    for code, kpi in result.catalogue.items():
        summary = result.report.kpis.get(code)
        if summary is None:
            continue
        rows.append(KpiRow(code, kpi.name, kpi.unit, kpi.improvement == RELATIVE, summary))
    return rows


def _breakdowns(result: ProgramReport) -> list[Breakdown]:
    found = result.report.breakdowns
    out = []
    for name in BREAKDOWNS:
        groups = found.get(name, {})
        rows = [
            GroupRow(code, group_label(result.program, name, code), summary)
            for code, summary in groups.items()
        ]
        # The largest groups first; then by name.
        rows.sort(key=lambda r: (-r.summary.n, r.label))
        out.append(Breakdown(name, str(BREAKDOWN_TITLES[name]), rows))
    return out


def _histogram(result: ProgramReport) -> tuple[list[float], list[int]]:
    values = np.asarray(
        [v * 100 for v in result.report.company_averages if v is not None], dtype=float
    )
    if len(values) == 0:
        return [], []
    edges = np.histogram_bin_edges(values, bins="auto")
    if len(edges) - 1 > MAX_BINS:
        edges = np.histogram_bin_edges(values, bins=MAX_BINS)
    counts, edges = np.histogram(values, bins=edges)
    return [float(e) for e in edges], [int(c) for c in counts]


def helpers() -> dict:
    """The formatting functions the report's templates use."""
    return {
        "pct": percent,
        "plain": plain,
        "krw": krw,
        "after_label": lambda code: str(AFTER_LABELS.get(code, code)),
    }


def sponsor_options(session: Session, actor: Actor, result: ProgramReport, manager: bool) -> list:
    """The sponsors the caller may narrow the report to: every sponsor of the program for its
    operators, the caller's own for a sponsor."""
    found = programs.sponsors(session, result.program)
    if manager:
        return found
    mine = actor.org_ids(Role.SPONSOR)
    return [s for s in found if s.id in mine]


def build(
    session: Session,
    actor: Actor,
    result: ProgramReport,
    *,
    resamples: int,
    seed: int,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ReportView:
    manager = programs.can_manage(session, actor, result.program)
    total = len(result.companies)
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    operator = session.get(Organization, result.program.operator_org_id)
    return ReportView(
        result=result,
        resamples=resamples,
        seed=seed,
        manager=manager,
        sponsor_options=sponsor_options(session, actor, result, manager),
        kpi_rows=_kpi_rows(result),
        breakdowns=_breakdowns(result),
        histogram=_histogram(result),
        companies=CompanyPage(result.companies[start : start + per_page], total, page, per_page),
        as_of=date.today(),
        operator_name=operator.name_ko if operator else "",
    )


# --- charts -----------------------------------------------------------------------------------


def _interval(chart_id: str, title: str, rows: list[tuple[str, Summary]]) -> dict:
    """Means (in %) with their 95 % intervals, one bar per row, each labelled with its n."""
    shown = [(label, s) for label, s in rows if s.mean is not None]
    return {
        "id": chart_id,
        "type": "interval",
        "title": title,
        "labels": [f"{label} (n={s.n:,})" for label, s in shown],
        "values": [round(s.mean * 100, 2) for _label, s in shown],
        "low": [round(s.ci[0] * 100, 2) if s.ci else None for _label, s in shown],
        "high": [round(s.ci[1] * 100, 2) if s.ci else None for _label, s in shown],
        "n": sum(s.n for _label, s in shown),
        "axis": gettext("Mean improvement (%); whiskers: 95 % interval"),
    }


def charts(view: ReportView) -> list[dict]:
    """Plotly chart data for the page (drawn by static/app.js)."""
    out = []
    relative = [(r.name, r.summary) for r in view.kpi_rows if r.relative]
    if relative:
        out.append(_interval("chart-kpis", gettext("Mean improvement per KPI"), relative))
    edges, counts = view.histogram
    if counts:
        out.append(
            {
                "id": "chart-averages",
                "type": "histogram",
                "title": gettext("Companies by their average improvement"),
                "x": [round((a + b) / 2, 3) for a, b in pairwise(edges)],
                "width": [round(b - a, 3) for a, b in pairwise(edges)],
                "y": counts,
                "n": sum(counts),
                "axis": gettext("Average improvement of a company (%)"),
            }
        )
    for breakdown in view.breakdowns:
        if len(breakdown.rows) > 1:  # one group alone compares with nothing
            out.append(
                _interval(
                    f"chart-by-{breakdown.name}",
                    gettext("Average improvement by {what}", what=breakdown.title),
                    [(r.label, r.summary) for r in breakdown.rows],
                )
            )
    return [c for c in out if c["n"]]


# --- static SVG charts for the PDF -----------------------------------------------------------


def svg_intervals(rows: list[tuple[str, Summary]], width: int = 480) -> str:
    """Horizontal bars of means (%) with their 95 % intervals as whiskers, as inline SVG."""
    shown = [(label, s) for label, s in rows if s.mean is not None]
    if not shown:
        return ""
    points = [s.mean for _l, s in shown] + [v for _l, s in shown if s.ci for v in s.ci]
    low, high = min(0.0, *points), max(0.0, *points)
    if high == low:
        high = low + 1
    label_w, bar_h, top = 170, 16, 6
    plot_w = width - label_w - 60
    height = top + len(shown) * (bar_h + 6) + 18

    def x(value: float) -> float:
        return label_w + (value - low) / (high - low) * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Sangsaeng Sans" font-size="8">'
    ]
    zero = x(0.0)
    for i, (label, s) in enumerate(shown):
        y = top + i * (bar_h + 6)
        mean = x(s.mean)
        left, right = sorted((zero, mean))
        text = label if len(label) <= 24 else label[:23] + "…"
        parts.append(
            f'<text x="{label_w - 4}" y="{y + bar_h - 4}" text-anchor="end">'
            f"{escape(text)} (n={s.n:,})</text>"
        )
        parts.append(
            f'<rect x="{left:.1f}" y="{y}" width="{max(right - left, 0.5):.1f}" '
            f'height="{bar_h}" fill="#1f5fa8"/>'
        )
        if s.ci:
            a, b = x(s.ci[0]), x(s.ci[1])
            mid = y + bar_h / 2
            parts.append(
                f'<path d="M{a:.1f},{mid} H{b:.1f} M{a:.1f},{mid - 4} V{mid + 4} '
                f'M{b:.1f},{mid - 4} V{mid + 4}" stroke="#0f2a4a" stroke-width="1"/>'
            )
        parts.append(
            f'<text x="{max(mean, zero, x(s.ci[1]) if s.ci else mean) + 3:.1f}" '
            f'y="{y + bar_h - 4}">{percent(s.mean)}</text>'
        )
    base = top + len(shown) * (bar_h + 6)
    parts.append(
        f'<line x1="{zero:.1f}" y1="{top - 2}" x2="{zero:.1f}" y2="{base}" stroke="#667"/>'
    )
    parts.append(
        f'<text x="{x(low):.1f}" y="{base + 12}">{low * 100:.0f}%</text>'
        f'<text x="{x(high):.1f}" y="{base + 12}" text-anchor="end">{high * 100:.0f}%</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def svg_histogram(edges: list[float], counts: list[int], width: int = 480) -> str:
    """Companies by their average improvement (%), as inline SVG bars."""
    if not counts:
        return ""
    height, left, bottom, top = 150, 30, 20, 8
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max(counts) or 1
    span = (edges[-1] - edges[0]) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Sangsaeng Sans" font-size="8">'
    ]
    for i, count in enumerate(counts):
        x0 = left + (edges[i] - edges[0]) / span * plot_w
        x1 = left + (edges[i + 1] - edges[0]) / span * plot_w
        h = count / peak * plot_h
        parts.append(
            f'<rect x="{x0:.1f}" y="{top + plot_h - h:.1f}" width="{max(x1 - x0 - 1, 0.5):.1f}" '
            f'height="{h:.1f}" fill="#1f5fa8"/>'
        )
    base = top + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#667"/>')
    parts.append(
        f'<text x="{left}" y="{base + 12}">{edges[0]:.0f}%</text>'
        f'<text x="{width - 10}" y="{base + 12}" text-anchor="end">{edges[-1]:.0f}%</text>'
        f'<text x="{left - 4}" y="{top + 6}" text-anchor="end">{peak:,}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def pdf_charts(view: ReportView) -> dict[str, str]:
    return {
        "kpis": svg_intervals([(r.name, r.summary) for r in view.kpi_rows if r.relative]),
        "averages": svg_histogram(*view.histogram),
        **{
            b.name: svg_intervals([(r.label, r.summary) for r in b.rows])
            for b in view.breakdowns
            if len(b.rows) > 1
        },
    }


# --- the workbook -----------------------------------------------------------------------------


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _ci(summary: Summary, scale: float = 100) -> list:
    if not summary.ci:
        return [None, None]
    return [round(summary.ci[0] * scale, 4), round(summary.ci[1] * scale, 4)]


def sheets(view: ReportView) -> list[tuple[str, list[str], list[list]]]:
    """요약, KPI별, 분해, 기업별, 방법: every figure with its n; ratios in %."""
    report = view.report
    result = view.result
    avg = report.avg_improvement
    effect = report.financial_effect
    target = report.target_achievement
    level = result.level_change
    summary_rows: list[list] = [
        [gettext("Program"), result.program.name_ko, None, None],
        [gettext("Scope"), view.scope_label, None, None],
        [gettext("Value after"), view.after_label, None, None],
        [gettext("As of"), view.as_of.isoformat(), None, None],
        [gettext("Participating companies"), report.n_participants, report.n_participants, None],
        [gettext("With verified before/after values"), report.n_verified, report.n_verified, None],
        [gettext("Average improvement per company, mean (%)"), _pct(avg.mean), avg.n, None],
        [gettext("Average improvement per company, median (%)"), _pct(avg.median), avg.n, None],
        [
            gettext("Average improvement, 10 % trimmed mean (%)"),
            _pct(avg.trimmed_mean),
            avg.n,
            None,
        ],
        [gettext("95% interval, low"), _ci(avg)[0], avg.n, None],
        [gettext("95% interval, high"), _ci(avg)[1], avg.n, None],
        [gettext("Target achievement, mean (%)"), _pct(target.mean), target.n, None],
        [gettext("Target achievement, median (%)"), _pct(target.median), target.n, None],
        [
            gettext("Annual financial effect, total (KRW)"),
            krw(effect.total),
            effect.n,
            gettext("{n} companies missing inputs", n=effect.n_missing),
        ],
        [
            gettext("Annual financial effect per company (KRW)"),
            krw(effect.per_company),
            effect.n,
            None,
        ],
    ]
    for code in ("new_hires", "investment"):
        total = view.total(code)
        if total:
            summary_rows.append(
                [gettext("{kpi}, total", kpi=view.kpi_name(code)), total[0], total[1], None]
            )
    summary_rows += [
        [
            gettext("Level change, mean of the overall score"),
            round(level.mean, 2) if level else None,
            result.n_level_pairs,
            gettext("{n} moved up at least one level", n=result.level_ups),
        ],
        [gettext("Values verified"), result.values.get("verified", 0), None, None],
        [gettext("Values awaiting verification"), result.values.get("reported", 0), None, None],
        [gettext("Values rejected"), result.values.get("rejected", 0), None, None],
        [gettext("Awaiting values flagged by the checks"), result.flagged, None, None],
    ]
    kpi_rows = [
        [
            r.code,
            r.name,
            r.unit,
            r.measured_as,
            r.summary.n,
            *(
                (_pct(v) if r.relative else v)
                for v in (r.summary.mean, r.summary.median, r.summary.trimmed_mean)
            ),
            *_ci(r.summary, 100 if r.relative else 1),
        ]
        for r in view.kpi_rows
    ]
    breakdown_rows = [
        [
            b.title,
            g.code,
            g.label,
            g.summary.n,
            _pct(g.summary.mean),
            _pct(g.summary.median),
            _pct(g.summary.trimmed_mean),
            *_ci(g.summary),
        ]
        for b in view.breakdowns
        for g in b.rows
    ]
    inputs = view.inputs
    company_rows = [
        [
            c.name,
            c.agreement_no,
            *(group_label(result.program, name, c.groups.get(name, "")) for name in BREAKDOWNS),
            c.n_pairs,
            _pct(c.average),
            krw(c.effect_krw),
            *(getattr(c.inputs, field) for field, _n, _u in inputs),
        ]
        for c in result.companies
    ]
    method_rows = [[gettext("Method"), view.method], [gettext("Summaries"), view.summary_method]]
    method_rows += [
        [gettext("Financial effect: {kpi}", kpi=name), formula]
        for name, formula, _applied in view.formulas
    ]
    method_rows += [
        [gettext("Companies without inputs"), gettext("Counted as missing, not as 0.")],
        [gettext("Level change"), view.level_method],
    ]
    n_col = gettext("n")
    mean_cols = [gettext("Mean"), gettext("Median"), gettext("Trimmed mean")]
    ci_cols = [gettext("95% interval, low"), gettext("95% interval, high")]
    return [
        (
            gettext("Summary"),
            [gettext("Figure"), gettext("Value"), n_col, gettext("Note")],
            summary_rows,
        ),
        (
            gettext("By KPI"),
            [
                gettext("Code"),
                gettext("KPI"),
                gettext("Unit"),
                gettext("Improvement measured"),
                n_col,
                *mean_cols,
                *ci_cols,
            ],
            kpi_rows,
        ),
        (
            gettext("Breakdowns"),
            [
                gettext("Breakdown"),
                gettext("Code"),
                gettext("Group"),
                n_col,
                *(f"{c} (%)" for c in mean_cols),
                *ci_cols,
            ],
            breakdown_rows,
        ),
        (
            gettext("By company"),
            [
                gettext("Company"),
                gettext("Agreement no."),
                *(str(BREAKDOWN_TITLES[name]) for name in BREAKDOWNS),
                gettext("KPI pairs"),
                gettext("Average improvement (%)"),
                gettext("Annual financial effect (KRW)"),
                *(f"{name} ({unit})" for _f, name, unit in inputs),
            ],
            company_rows,
        ),
        (gettext("Method"), [gettext("Item"), gettext("Description")], method_rows),
    ]
