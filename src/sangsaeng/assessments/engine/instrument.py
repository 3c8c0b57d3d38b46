"""Instruments as data: parse and validate a versioned YAML file into frozen dataclasses.

Every problem names the file, the line and the reason, so an instrument author can fix a file
without reading code. Reasons are English message ids (translated by the caller) with parameters.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml


def N_(msgid: str) -> str:
    """Marks a message id for the translation catalog; the caller translates it."""
    return msgid


KINDS = ("diagnosis", "evaluation", "certification", "score_sheet", "survey")
SUBJECTS = ("sme", "sponsor", "application")
VERIFICATION = ("none", "optional", "required")
EVIDENCE = ("none", "optional", "required")
RESPONDENTS = ("self", "supplier")
WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Text:
    """A user-facing text in Korean (required) and English (falls back to Korean)."""

    ko: str
    en: str = ""

    def get(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.ko


@dataclass(frozen=True)
class Option:
    value: float
    label: Text
    feedback: Text | None = None


@dataclass(frozen=True)
class Scale:
    """How an answer becomes a score fraction in [0, 1].

    ``choice``: options with numeric values; the fraction is linear between the lowest and highest
    value. ``number``: a numeric input mapped through the piecewise-linear ``points`` (x, fraction),
    clamped at both ends; ``points`` may fall (lower is better, e.g. a defect rate).
    """

    id: str
    kind: str
    options: tuple[Option, ...] = ()
    points: tuple[tuple[float, float], ...] = ()
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None

    # Cached: scoring asks for these for every answer (the dataclass stays immutable).
    @cached_property
    def lowest(self) -> float:
        return min(o.value for o in self.options)

    @cached_property
    def highest(self) -> float:
        return max(o.value for o in self.options)

    @cached_property
    def _by_value(self) -> dict[float, Option]:
        return {o.value: o for o in self.options}

    def option(self, value: float) -> Option | None:
        return self._by_value.get(value)

    def accepts(self, value: float) -> bool:
        if self.kind == "choice":
            return self.option(value) is not None
        if not math.isfinite(value):
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        return not (self.maximum is not None and value > self.maximum)

    def fraction(self, value: float) -> float:
        if self.kind == "choice":
            span = self.highest - self.lowest
            return 0.0 if span == 0 else (value - self.lowest) / span
        xs = [p[0] for p in self.points]
        if value <= xs[0]:
            return self.points[0][1]
        if value >= xs[-1]:
            return self.points[-1][1]
        for (x0, y0), (x1, y1) in zip(self.points, self.points[1:], strict=False):
            if x0 <= value <= x1:
                return y0 if x1 == x0 else y0 + (y1 - y0) * (value - x0) / (x1 - x0)
        return self.points[-1][1]  # pragma: no cover - the loop always returns

    @cached_property
    def ascending(self) -> tuple[Option, ...]:
        return tuple(sorted(self.options, key=lambda o: o.value))

    def better_options(self, value: float) -> tuple[Option, ...]:
        return tuple(o for o in self.ascending if o.value > value)


@dataclass(frozen=True)
class Item:
    id: str
    question: Text
    scale: Scale
    weight: float = 1.0
    help: Text | None = None
    evidence: str = "none"
    respondent: str = "self"
    # Survey-fed items name the survey instrument's item whose mean answer they take.
    survey_item: str | None = None


@dataclass(frozen=True)
class Action:
    """A recommended action, triggered when an item it addresses scores below ``below``."""

    id: str
    dimension: str
    title: Text
    items: tuple[str, ...]
    below: float = 1.0
    impact: int = 3
    effort: int = 3
    months: int = 3
    requires: tuple[str, ...] = ()
    kpis: tuple[str, ...] = ()
    milestone: Text | None = None
    description: Text | None = None


@dataclass(frozen=True)
class Dimension:
    id: str
    title: Text
    weight: float
    items: tuple[Item, ...]
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Level:
    """A level (or stage) reached when the overall score and every named dimension reach minima."""

    id: str
    rank: int
    label: Text
    min_score: float
    dimension_min: dict[str, float] = field(default_factory=dict)
    group: Text | None = None
    description: Text | None = None


@dataclass(frozen=True)
class Grade:
    """An absolute grade per dimension (e.g. 상/중/하), reached from ``min_score`` up."""

    id: str
    label: Text
    min_score: float


@dataclass(frozen=True)
class Ranking:
    """Certification: how many are certified per cohort, the minimum score and the tie-breaks."""

    top_n: int | None
    min_score: float
    tie_breaks: tuple[str, ...]


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    kind: str
    subject: str
    title: Text
    dimensions: tuple[Dimension, ...]
    levels: tuple[Level, ...] = ()
    grades: tuple[Grade, ...] = ()
    description: Text | None = None
    verification: str = "none"
    ranking: Ranking | None = None
    comment_required_below: float | None = None
    plan_years: int = 3
    plan_capacity: int = 2
    survey: str | None = None
    source: str = ""
    sha256: str = ""
    path: str = ""

    @cached_property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for d in self.dimensions for item in d.items)

    @cached_property
    def actions(self) -> tuple[Action, ...]:
        return tuple(action for d in self.dimensions for action in d.actions)

    @cached_property
    def _item_index(self) -> dict[str, tuple[Item, Dimension]]:
        return {item.id: (item, d) for d in self.dimensions for item in d.items}

    def item(self, item_id: str) -> Item | None:
        found = self._item_index.get(item_id)
        return found[0] if found else None

    def dimension_of(self, item_id: str) -> Dimension | None:
        found = self._item_index.get(item_id)
        return found[1] if found else None

    def level_by_id(self, level_id: str) -> Level | None:
        return next((lv for lv in self.levels if lv.id == level_id), None)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str  # an English message id with {placeholders}
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, translate=None) -> str:
        text = translate(self.reason) if translate else self.reason
        return f"{self.file}:{self.line}: {text.format(**self.params)}"


class InstrumentError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.render() for p in problems))


# --- YAML with line numbers -------------------------------------------------------------------


class _Tree:
    """Plain Python values from a YAML node tree, with the line of every path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[tuple, int] = {}
        self.problems: list[Problem] = []
        self._scalars = yaml.SafeLoader("")  # resolves scalar tags (int, float, bool, dates)

    def convert(self, node: yaml.Node, path: tuple = ()) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in result:
                    self.problems.append(
                        Problem(
                            self.file,
                            key_node.start_mark.line + 1,
                            N_("duplicate key '{key}'"),
                            {"key": key},
                        )
                    )
                result[key] = self.convert(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(child, (*path, i)) for i, child in enumerate(node.value)]
        return self._scalars.construct_object(node, deep=True)

    def line(self, path: tuple) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)


class _Builder:
    """Turns the converted tree into an :class:`Instrument`, collecting every problem found."""

    def __init__(self, tree: _Tree) -> None:
        self.tree = tree
        self.problems = tree.problems

    def fail(self, path: tuple, reason: str, **params: Any) -> None:
        self.problems.append(Problem(self.tree.file, self.tree.line(path), reason, params))

    # Typed getters: record a problem and return a safe default instead of raising.
    def get(self, data: dict, key: str, path: tuple, kind: type | tuple, required: bool = True):
        if not isinstance(data, dict):
            self.fail(path, N_("expected a mapping"))
            return None
        if key not in data or data[key] is None:
            if required:
                self.fail(path, N_("missing required field '{field}'"), field=key)
            return None
        value = data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (bool in kinds or not isinstance(value, bool)) and isinstance(value, kinds):
            return value
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        self.fail((*path, key), N_("field '{field}' has the wrong type"), field=key)
        return None

    def number(self, data, key, path, required=True, default=None, low=None, high=None):
        value = self.get(data, key, path, (int, float), required)
        if value is None:
            return default
        value = float(value)
        if (
            not math.isfinite(value)
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            self.fail(
                (*path, key),
                N_("field '{field}' must be between {low} and {high}"),
                field=key,
                low=low,
                high=high,
            )
            return default
        return value

    def text(self, data, key, path, required=True) -> Text | None:
        value = data.get(key) if isinstance(data, dict) else None
        if value is None:
            if required:
                self.fail(path, N_("missing required field '{field}'"), field=key)
            return None
        if isinstance(value, str) and value.strip():
            return Text(ko=value.strip(), en="")
        if isinstance(value, dict) and isinstance(value.get("ko"), str) and value["ko"].strip():
            english = value.get("en") or ""
            return Text(ko=value["ko"].strip(), en=str(english).strip())
        self.fail((*path, key), N_("field '{field}' needs a Korean text ('ko')"), field=key)
        return None

    def choice(self, data, key, path, allowed, default):
        value = self.get(data, key, path, str, required=False)
        if value is None:
            return default
        if value not in allowed:
            self.fail(
                (*path, key),
                N_("field '{field}' must be one of: {allowed}"),
                field=key,
                allowed=", ".join(allowed),
            )
            return default
        return value

    def ident(self, data, path) -> str:
        value = self.get(data, "id", path, (str, int))
        return str(value) if value is not None else "?"

    def string_list(self, data, key, path) -> tuple[str, ...]:
        value = data.get(key) if isinstance(data, dict) else None
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            self.fail((*path, key), N_("field '{field}' must be a list of ids"), field=key)
            return ()
        return tuple(str(v) for v in value)

    # --- parts -------------------------------------------------------------------------------

    def scales(self, data: dict) -> dict[str, Scale]:
        raw = data.get("scales") or {}
        if not isinstance(raw, dict):
            self.fail(("scales",), N_("'scales' must be a mapping of scale ids"))
            return {}
        scales = {}
        for scale_id, spec in raw.items():
            path = ("scales", scale_id)
            kind = self.choice(spec, "type", path, ("choice", "number"), "choice")
            if kind == "choice":
                options = []
                raw_options = self.get(spec, "options", path, list) or []
                for index, opt in enumerate(raw_options):
                    opath = (*path, "options", index)
                    value = self.number(opt, "value", opath)
                    label = self.text(opt, "label", opath)
                    feedback = self.text(opt, "feedback", opath, required=False)
                    if value is not None and label is not None:
                        options.append(Option(value, label, feedback))
                values = [o.value for o in options]
                if len(set(values)) != len(values):
                    self.fail(
                        (*path, "options"),
                        N_("scale '{scale}' repeats an option value"),
                        scale=scale_id,
                    )
                if len(options) < 2:
                    self.fail(
                        path, N_("scale '{scale}' needs at least two options"), scale=scale_id
                    )
                    continue
                scales[scale_id] = Scale(scale_id, "choice", options=tuple(options))
            else:
                points = self._points(spec, path, scale_id)
                if points is None:
                    continue
                scales[scale_id] = Scale(
                    scale_id,
                    "number",
                    points=points,
                    unit=str(spec.get("unit") or ""),
                    minimum=self.number(spec, "min", path, required=False),
                    maximum=self.number(spec, "max", path, required=False),
                )
        return scales

    def _points(self, spec, path, scale_id):
        raw = self.get(spec, "points", path, list)
        if raw is None:
            return None
        points = []
        for index, pair in enumerate(raw):
            ok = (
                isinstance(pair, list)
                and len(pair) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
            )
            if not ok or not 0 <= pair[1] <= 1:
                self.fail(
                    (*path, "points", index),
                    N_("a point is [value, fraction] with the fraction between 0 and 1"),
                )
                return None
            points.append((float(pair[0]), float(pair[1])))
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        rising = all(b >= a for a, b in itertools.pairwise(ys))
        falling = all(b <= a for a, b in itertools.pairwise(ys))
        if len(points) < 2 or xs != sorted(xs) or len(set(xs)) != len(xs):
            self.fail(
                (*path, "points"),
                N_("scale '{scale}' needs at least two points in increasing value order"),
                scale=scale_id,
            )
            return None
        if not (rising or falling):
            self.fail(
                (*path, "points"), N_("scale '{scale}' must only rise or only fall"), scale=scale_id
            )
            return None
        return tuple(points)

    def dimensions(self, data: dict, scales: dict[str, Scale]) -> tuple[Dimension, ...]:
        raw = self.get(data, "dimensions", (), list) or []
        if not raw:
            self.fail(("dimensions",), N_("an instrument needs at least one dimension"))
        dims = []
        item_ids: dict[str, tuple] = {}
        for d_index, spec in enumerate(raw):
            path = ("dimensions", d_index)
            dim_id = self.ident(spec, path)
            title = self.text(spec, "title", path) or Text(dim_id)
            weight = self.number(spec, "weight", path, low=0, high=1, default=0.0)
            items = []
            for i_index, ispec in enumerate(self.get(spec, "items", path, list) or []):
                ipath = (*path, "items", i_index)
                # Duplicates are reported even when the item has other problems of its own.
                raw_id = ispec.get("id") if isinstance(ispec, dict) else None
                if raw_id is not None and str(raw_id) in item_ids:
                    self.fail(ipath, N_("duplicate item id '{item}'"), item=str(raw_id))
                if raw_id is not None:
                    item_ids[str(raw_id)] = ipath
                item = self._item(ispec, ipath, scales)
                if item is not None:
                    items.append(item)
            if not items:
                self.fail(path, N_("dimension '{dimension}' has no items"), dimension=dim_id)
            actions = tuple(
                self._action(aspec, (*path, "actions", a_index), dim_id)
                for a_index, aspec in enumerate(self.get(spec, "actions", path, list, False) or [])
            )
            dims.append(Dimension(dim_id, title, weight, tuple(items), actions))
        ids = [d.id for d in dims]
        for index, dim_id in enumerate(ids):
            if ids.index(dim_id) != index:
                self.fail(
                    ("dimensions", index),
                    N_("duplicate dimension id '{dimension}'"),
                    dimension=dim_id,
                )
        total = sum(d.weight for d in dims)
        if dims and abs(total - 1.0) > WEIGHT_TOLERANCE:
            self.fail(
                ("dimensions",),
                N_("dimension weights sum to {total}, not 1"),
                total=round(total, 6),
            )
        return tuple(dims)

    def _item(self, spec, path, scales) -> Item | None:
        item_id = self.ident(spec, path)
        question = self.text(spec, "question", path)
        scale_id = self.get(spec, "scale", path, str)
        scale = scales.get(scale_id) if scale_id else None
        if scale_id and scale is None:
            self.fail((*path, "scale"), N_("unknown scale '{scale}'"), scale=scale_id)
        weight = self.number(spec, "weight", path, required=False, default=1.0, low=0)
        if weight == 0:
            self.fail((*path, "weight"), N_("an item weight must be positive"))
        if question is None or scale is None:
            return None
        return Item(
            id=item_id,
            question=question,
            scale=scale,
            weight=weight or 1.0,
            help=self.text(spec, "help", path, required=False),
            evidence=self.choice(spec, "evidence", path, EVIDENCE, "none"),
            respondent=self.choice(spec, "respondent", path, RESPONDENTS, "self"),
            survey_item=self.get(spec, "survey_item", path, str, required=False),
        )

    def _action(self, spec, path, dim_id) -> Action:
        def bounded(key: str, default: int, high: int) -> int:
            value = self.number(spec, key, path, required=False, default=default, low=1, high=high)
            return int(value)

        return Action(
            id=self.ident(spec, path),
            dimension=dim_id,
            title=self.text(spec, "title", path) or Text("?"),
            items=self.string_list(spec, "items", path),
            below=self.number(spec, "below", path, required=False, default=1.0, low=0, high=1),
            impact=bounded("impact", 3, 5),
            effort=bounded("effort", 3, 5),
            months=bounded("months", 3, 36),
            requires=self.string_list(spec, "requires", path),
            kpis=self.string_list(spec, "kpis", path),
            milestone=self.text(spec, "milestone", path, required=False),
            description=self.text(spec, "description", path, required=False),
        )

    def levels(self, data: dict, dims: tuple[Dimension, ...]) -> tuple[Level, ...]:
        raw = self.get(data, "levels", (), list, required=False) or []
        levels = []
        dim_ids = {d.id for d in dims}
        for index, spec in enumerate(raw):
            path = ("levels", index)
            minima = spec.get("dimension_min") if isinstance(spec, dict) else None
            dimension_min: dict[str, float] = {}
            if minima is not None:
                if not isinstance(minima, dict):
                    self.fail((*path, "dimension_min"), N_("'dimension_min' must be a mapping"))
                    minima = {}
                for dim_id in minima:
                    if dim_id not in dim_ids:
                        self.fail(
                            (*path, "dimension_min", dim_id),
                            N_("unknown dimension '{dimension}'"),
                            dimension=dim_id,
                        )
                    else:
                        dimension_min[dim_id] = self.number(
                            minima, dim_id, (*path, "dimension_min"), low=0, high=100, default=0
                        )
            levels.append(
                Level(
                    id=self.ident(spec, path),
                    rank=int(self.number(spec, "rank", path, required=False, default=index)),
                    label=self.text(spec, "label", path) or Text("?"),
                    min_score=self.number(spec, "min_score", path, low=0, high=100, default=0),
                    dimension_min=dimension_min,
                    group=self.text(spec, "group", path, required=False),
                    description=self.text(spec, "description", path, required=False),
                )
            )
        self._check_ladder(levels, "levels")
        for index, level in enumerate(levels[1:], start=1):
            below = levels[index - 1]
            for dim_id, minimum in below.dimension_min.items():
                if level.dimension_min.get(dim_id, 0) < minimum:
                    self.fail(
                        ("levels", index, "dimension_min"),
                        N_("level '{level}' asks less of '{dimension}' than the level below"),
                        level=level.id,
                        dimension=dim_id,
                    )
        return tuple(levels)

    def grades(self, data: dict) -> tuple[Grade, ...]:
        raw = self.get(data, "grades", (), list, required=False) or []
        grades = [
            Grade(
                id=self.ident(spec, ("grades", i)),
                label=self.text(spec, "label", ("grades", i)) or Text("?"),
                min_score=self.number(spec, "min_score", ("grades", i), low=0, high=100, default=0),
            )
            for i, spec in enumerate(raw)
        ]
        self._check_ladder(grades, "grades")
        return tuple(grades)

    def _check_ladder(self, steps, key: str) -> None:
        """Steps start at 0 and rise strictly; level ranks count up by one (no gap)."""
        if not steps:
            return
        if steps[0].min_score != 0:
            self.fail(
                (key, 0, "min_score"), N_("the first step of '{key}' must start at 0"), key=key
            )
        for index in range(1, len(steps)):
            if steps[index].min_score <= steps[index - 1].min_score:
                self.fail(
                    (key, index, "min_score"),
                    N_("'{key}' thresholds must rise strictly ('{step}' does not)"),
                    key=key,
                    step=steps[index].id,
                )
        ids = [s.id for s in steps]
        for index, step_id in enumerate(ids):
            if ids.index(step_id) != index:
                self.fail(
                    (key, index), N_("duplicate id '{step}' in '{key}'"), step=step_id, key=key
                )
        ranks = [getattr(s, "rank", None) for s in steps]
        if ranks[0] is not None:
            for index in range(1, len(ranks)):
                if ranks[index] != ranks[index - 1] + 1:
                    self.fail(
                        (key, index, "rank"),
                        N_("level gap: rank {rank} follows rank {previous}"),
                        rank=ranks[index],
                        previous=ranks[index - 1],
                    )

    def check_actions(self, dims: tuple[Dimension, ...]) -> None:
        actions = {
            a.id: (d_index, a_index, a)
            for d_index, d in enumerate(dims)
            for a_index, a in enumerate(d.actions)
        }
        seen: dict[str, int] = {}
        for d_index, dim in enumerate(dims):
            item_ids = {i.id for i in dim.items}
            for a_index, action in enumerate(dim.actions):
                path = ("dimensions", d_index, "actions", a_index)
                if action.id in seen:
                    self.fail(path, N_("duplicate action id '{action}'"), action=action.id)
                seen[action.id] = 1
                if not action.items:
                    self.fail(path, N_("action '{action}' names no items"), action=action.id)
                for item_id in action.items:
                    if item_id not in item_ids:
                        self.fail(
                            (*path, "items"),
                            N_("action '{action}' names item '{item}' outside its dimension"),
                            action=action.id,
                            item=item_id,
                        )
                for required in action.requires:
                    if required not in actions:
                        self.fail(
                            (*path, "requires"),
                            N_("action '{action}' requires unknown action '{required}'"),
                            action=action.id,
                            required=required,
                        )
        # Prerequisites must not form a cycle, or no plan could ever order them.
        state: dict[str, int] = {}

        def visit(action_id: str, trail: list[str]) -> None:
            if state.get(action_id) == 2 or action_id not in actions:
                return
            if state.get(action_id) == 1:
                d_index, a_index, _ = actions[action_id]
                self.fail(
                    ("dimensions", d_index, "actions", a_index, "requires"),
                    N_("prerequisites form a cycle: {cycle}"),
                    cycle=" → ".join([*trail, action_id]),
                )
                return
            state[action_id] = 1
            for required in actions[action_id][2].requires:
                visit(required, [*trail, action_id])
            state[action_id] = 2

        for action_id in actions:
            visit(action_id, [])

    def ranking(self, data: dict, dims) -> Ranking | None:
        spec = self.get(data, "ranking", (), dict, required=False)
        if spec is None:
            return None
        top_n = self.number(spec, "top_n", ("ranking",), required=False, low=1)
        tie_breaks = self.string_list(spec, "tie_breaks", ("ranking",))
        allowed = {d.id for d in dims} | {"submitted_at"}
        for name in tie_breaks:
            if name not in allowed:
                self.fail(("ranking", "tie_breaks"), N_("unknown tie-break '{name}'"), name=name)
        return Ranking(
            top_n=int(top_n) if top_n else None,
            min_score=self.number(
                spec, "min_score", ("ranking",), required=False, default=0, low=0, high=100
            ),
            tie_breaks=tie_breaks,
        )


def parse_instrument(source: str, file: str = "<instrument>") -> Instrument:
    """Parse and validate an instrument; raises :class:`InstrumentError` listing every problem."""
    tree = _Tree(file)
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise InstrumentError(
            [Problem(file, line, N_("not valid YAML: {detail}"), {"detail": error.problem})]
        ) from None
    except yaml.YAMLError as error:
        raise InstrumentError(
            [Problem(file, 1, N_("not valid YAML: {detail}"), {"detail": str(error)})]
        ) from None
    if node is None or not isinstance(node, yaml.MappingNode):
        raise InstrumentError([Problem(file, 1, N_("an instrument file is a YAML mapping"))])
    data = tree.convert(node)
    build = _Builder(tree)
    instrument_id = build.get(data, "id", (), str)
    version = build.get(data, "version", (), (str, int, float))
    kind = build.choice(data, "kind", (), KINDS, "diagnosis")
    if "kind" not in data:
        build.fail((), N_("missing required field '{field}'"), field="kind")
    title = build.text(data, "title", ())
    scales = build.scales(data)
    dims = build.dimensions(data, scales)
    build.check_actions(dims)
    levels = build.levels(data, dims)
    grades = build.grades(data)
    ranking = build.ranking(data, dims)
    if kind == "certification" and ranking is None:
        build.fail((), N_("a certification instrument needs a 'ranking'"))
    comment_below = build.number(data, "comment_required_below", (), required=False, low=0, high=1)
    # Read every remaining field before deciding: a problem found after the check would be lost.
    subject = build.choice(data, "subject", (), SUBJECTS, "sme")
    description = build.text(data, "description", (), required=False)
    verification = build.choice(data, "verification", (), VERIFICATION, "none")
    plan = build.get(data, "plan", (), dict, required=False) or {}
    plan_years = build.number(plan, "years", ("plan",), required=False, default=3, low=1, high=10)
    plan_capacity = build.number(
        plan, "capacity", ("plan",), required=False, default=2, low=1, high=20
    )
    survey = build.get(data, "survey", (), str, required=False)
    if build.problems:
        raise InstrumentError(sorted(build.problems, key=lambda p: p.line))
    return Instrument(
        id=str(instrument_id),
        version=str(version),
        kind=kind,
        subject=subject,
        title=title or Text(str(instrument_id)),
        description=description,
        dimensions=dims,
        levels=levels,
        grades=grades,
        verification=verification,
        ranking=ranking,
        comment_required_below=comment_below,
        plan_years=int(plan_years),
        plan_capacity=int(plan_capacity),
        survey=survey,
        source=source,
        sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
        path=file,
    )


def load_instrument(path: Path) -> Instrument:
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InstrumentError([Problem(str(path), 1, N_("the file is not UTF-8 text"))]) from None
    return parse_instrument(source, str(path))
