"""The ``sangsaeng`` command line. With ``--json`` a command prints JSON alone on stdout;
exit 0 when done, 2 for bad input or a refused operation."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sangsaeng.settings import get_settings

app = typer.Typer(help="Sangsaeng (상생) — shared-growth program platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
demo_app = typer.Typer(help="Synthetic demo data.", no_args_is_help=True)
orgs_app = typer.Typer(help="Organizations.", no_args_is_help=True)
import_app = typer.Typer(
    help="Import tables (CSV in UTF-8 or CP949, or .xlsx).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(demo_app, name="demo")
app.add_typer(orgs_app, name="orgs")
app.add_typer(import_app, name="import")
assessments_app = typer.Typer(help="Assessment instruments.", no_args_is_help=True)
app.add_typer(assessments_app, name="assessments")
ledger_app = typer.Typer(help="The funds ledger.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
programs_app = typer.Typer(help="Support programs.", no_args_is_help=True)
app.add_typer(programs_app, name="programs")
outcomes_app = typer.Typer(help="Outcomes: KPI values and reports.", no_args_is_help=True)
app.add_typer(outcomes_app, name="outcomes")
impact_app = typer.Typer(
    help="Impact: participants against comparable non-participants.", no_args_is_help=True
)
app.add_typer(impact_app, name="impact")
factory_app = typer.Typer(
    help="Factory data: SPC, OEE, forecasts, defect root causes.", no_args_is_help=True
)
app.add_typer(factory_app, name="factory")

err = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON alone on stdout.")]


def _emit(payload: dict, as_json: bool, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        err.print(human)


def _fail(payload: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        err.print(f"[red]{payload.get('message')}[/red]")
    raise typer.Exit(2)


def alembic_config(database_url: str | None = None):
    from alembic.config import Config

    root = Path(__file__).resolve().parents[2]
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    config.attributes["database_url"] = database_url or get_settings().database_url
    return config


@db_app.command("upgrade")
def db_upgrade(revision: str = "head", as_json: JsonOpt = False) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)
    _emit({"upgraded_to": revision}, as_json, f"Database upgraded to {revision}.")


@db_app.command("downgrade")
def db_downgrade(revision: str, as_json: JsonOpt = False) -> None:
    """Revert migrations down to REVISION (``base`` removes every table)."""
    from alembic import command

    command.downgrade(alembic_config(), revision)
    _emit({"downgraded_to": revision}, as_json, f"Database downgraded to {revision}.")


@db_app.command("grant-app-role")
def db_grant_app_role(role: str, as_json: JsonOpt = False) -> None:
    """PostgreSQL: let ROLE (the application's login, not the tables' owner) read and write every
    table, but only SELECT and INSERT the audit log. Run as the owner after `db upgrade`."""
    import re

    from sqlalchemy import text

    from sangsaeng.db import make_engine

    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        _fail({"code": "invalid_input", "message": f"not a plain role name: {role}"}, as_json)
    engine = make_engine(get_settings().database_url)
    if engine.dialect.name != "postgresql":
        _fail({"code": "invalid_input", "message": "roles exist on PostgreSQL only"}, as_json)
    with engine.begin() as conn:
        for statement in (
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {role}",
        ):
            conn.execute(text(statement))
    engine.dispose()
    _emit(
        {"role": role, "audit_events": ["SELECT", "INSERT"]},
        as_json,
        f"Granted {role}: all tables, audit log append-only.",
    )


@users_app.command("create")
def users_create(
    email: str,
    name: Annotated[str, typer.Option(help="Display name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    org: Annotated[str | None, typer.Option(help="사업자등록번호 of the organization")] = None,
    role: Annotated[list[str] | None, typer.Option(help="Role in --org (repeatable)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a user, optionally with roles in one organization."""
    from sqlalchemy import select

    from sangsaeng.core.accounts import service as accounts
    from sangsaeng.core.errors import SangsaengError
    from sangsaeng.core.ids import normalize_business_no
    from sangsaeng.core.models import Organization
    from sangsaeng.core.policy import SYSTEM_ACTOR, Role
    from sangsaeng.db import make_engine, make_session_factory, transaction

    factory = make_session_factory(make_engine(get_settings().database_url))
    try:
        with transaction(factory) as session:
            user = accounts.create_user(
                session, SYSTEM_ACTOR, email=email, name=name, password=password
            )
            roles = [Role(r) for r in role or []]
            if roles:
                digits = normalize_business_no(org or "")
                found = digits and session.scalar(
                    select(Organization).where(Organization.business_no == digits)
                )
                if not found:
                    _fail(
                        {"code": "invalid_input", "message": f"organization not found: {org}"},
                        as_json,
                    )
                for r in roles:
                    accounts.add_membership(
                        session, SYSTEM_ACTOR, user_id=user.id, organization_id=found.id, role=r
                    )
            payload = {"id": user.id, "email": user.email, "roles": [str(r) for r in roles]}
    except SangsaengError as exc:
        _fail(
            {"code": exc.code, "message": str(exc.message), "details": _plain(exc.details)}, as_json
        )
    except ValueError as exc:
        _fail({"code": "invalid_input", "message": str(exc)}, as_json)
    _emit(payload, as_json, f"Created user {payload['email']} (id {payload['id']}).")


@orgs_app.command("create")
def orgs_create(
    business_no: Annotated[str, typer.Option(help="사업자등록번호")],
    name: Annotated[str, typer.Option(help="Name in Korean")],
    ksic: Annotated[str, typer.Option(help="KSIC code: C29, 29 or 291")],
    region: Annotated[str, typer.Option(help="시·도 code or name")],
    size: Annotated[str, typer.Option(help="대/중견/중소/소상공인")],
    kind: Annotated[str, typer.Option(help="sme | sponsor | operator | other")] = "sme",
    as_json: JsonOpt = False,
) -> None:
    """Register an organization (e.g. the administrators' own office on a new installation)."""
    from sangsaeng.core.errors import SangsaengError
    from sangsaeng.core.orgs import service as orgs
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory, transaction

    factory = make_session_factory(make_engine(get_settings().database_url))
    values = {
        "business_no": business_no,
        "name_ko": name,
        "ksic": ksic,
        "region": region,
        "size_class": size,
        "kind": kind,
    }
    try:
        with transaction(factory) as session:
            org = orgs.create_org(session, SYSTEM_ACTOR, values)
            payload = {"id": org.id, "business_no": org.business_no, "name_ko": org.name_ko}
    except SangsaengError as exc:
        _fail(
            {"code": exc.code, "message": str(exc.message), "details": _plain(exc.details)}, as_json
        )
    _emit(payload, as_json, f"Registered {payload['name_ko']} (id {payload['id']}).")


def _run_import(kind: str, file: Path, mode: str, encoding: str, as_json: bool) -> None:
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    from sangsaeng.core.errors import SangsaengError
    from sangsaeng.core.imports import reader
    from sangsaeng.core.imports import service as imports
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory

    if mode not in ("all", "good"):
        _fail({"code": "invalid_input", "message": "--mode must be all or good"}, as_json)
    if not file.is_file():
        _fail({"code": "invalid_input", "message": f"no such file: {file}"}, as_json)
    run = imports.import_organizations if kind == "orgs" else imports.import_links
    factory = make_session_factory(make_engine(get_settings().database_url))
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    try:
        table = reader.read_table(file.read_bytes(), file.name, encoding)
        with factory() as session, Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(f"import {kind}", total=None)
            result = run(
                session,
                SYSTEM_ACTOR,
                table,
                mode=mode,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
            if result.committed:
                session.commit()
            else:
                session.rollback()
    except SangsaengError as exc:
        _fail(
            {"code": exc.code, "message": str(exc.message), "details": _plain(exc.details)}, as_json
        )
    payload = result.as_dict()
    if not result.committed:
        if as_json:
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        else:
            err.print(
                f"[red]Refused: {len(result.rejected)} rejected rows; nothing was written "
                "(all-or-nothing).[/red]"
            )
            for e in result.rejected[:50]:
                err.print(f"  row {e.row} {e.column}: {e.reason}")
        raise typer.Exit(2)
    _emit(
        payload,
        as_json,
        f"Imported ({result.encoding}): {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {len(result.rejected)} rejected.",
    )


@import_app.command("orgs")
def import_orgs(
    file: Path,
    mode: Annotated[
        str, typer.Option(help="all: any bad row writes nothing; good: keep good rows")
    ] = "all",
    encoding: Annotated[str, typer.Option(help="auto | utf-8 | cp949")] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Import organizations (headers 사업자등록번호, 기업명, 업종코드, 지역, 기업규모, 종업원수,
    매출액, 설립연도 — or business_no, name, ksic, region, size, employees, revenue, founded)."""
    _run_import("orgs", file, mode, encoding, as_json)


@import_app.command("links")
def import_links(
    file: Path,
    mode: Annotated[
        str, typer.Option(help="all: any bad row writes nothing; good: keep good rows")
    ] = "all",
    encoding: Annotated[str, typer.Option(help="auto | utf-8 | cp949")] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Import buyer → supplier links (구매기업 사업자등록번호, 협력사 사업자등록번호)."""
    _run_import("links", file, mode, encoding, as_json)


@assessments_app.command("list")
def assessments_list(as_json: JsonOpt = False) -> None:
    """The shipped and installed instruments, with id, version and where each comes from."""
    from sangsaeng.assessments import catalog

    catalog.configure(get_settings().data_dir / "instruments")
    loaded = catalog.catalog()
    rows = [
        {
            "id": instrument.id,
            "version": instrument.version,
            "kind": instrument.kind,
            "subject": instrument.subject,
            "title": instrument.title.ko,
            "origin": loaded.origin[(instrument.id, instrument.version)],
            "sha256": instrument.sha256,
            "latest": instrument in loaded.latest(),
        }
        for instrument in sorted(loaded.by_version.values(), key=lambda i: (i.id, i.version))
    ]
    skipped = [_problem_out(p) for p in loaded.problems]
    if as_json:
        _emit({"instruments": rows, "skipped": skipped}, True, "")
        return
    for row in rows:
        print(
            f"{row['id']:<34} {row['version']:<10} {row['kind']:<14} {row['origin']:<10} "
            f"{row['title']}"
        )
    for problem in skipped:
        err.print(f"[yellow]skipped {problem['file']}:{problem['line']}: {problem['reason']}[/]")


def _problem_out(problem) -> dict:
    from sangsaeng.core.i18n import gettext

    return {
        "file": problem.file,
        "line": problem.line,
        "reason": gettext(problem.reason, **problem.params),
    }


@assessments_app.command("validate")
def assessments_validate(
    files: Annotated[list[Path], typer.Argument(help="Instrument YAML files")],
    as_json: JsonOpt = False,
) -> None:
    """Check instrument files: exit 0 when all are valid, else 2 with each problem's line."""
    from sangsaeng.assessments import catalog

    problems = [_problem_out(p) for p in catalog.validate_files(files)]
    if as_json:
        sys.stdout.write(
            json.dumps(
                {"valid": not problems, "files": [str(f) for f in files], "problems": problems},
                ensure_ascii=False,
            )
            + "\n"
        )
    else:
        for problem in problems:
            print(f"{problem['file']}:{problem['line']}: {problem['reason']}")
        if not problems:
            err.print(f"{len(files)} file(s) valid.")
    if problems:
        raise typer.Exit(2)


@ledger_app.command("check")
def ledger_check(as_json: JsonOpt = False) -> None:
    """Re-verify every ledger invariant (run it after a restore): exit 1 on any violation."""
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.ledger import service as ledger

    engine = make_engine(get_settings().database_url)
    snapshot = engine
    if engine.dialect.name == "postgresql":  # one consistent snapshot for every statement
        snapshot = engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
    try:
        with make_session_factory(snapshot)() as session:
            result = ledger.check(session)
    finally:
        engine.dispose()
    payload = {"entries": result.entries, "violations": result.violations}
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        for violation in result.violations:
            print(json.dumps(violation, ensure_ascii=False))
        err.print(f"{result.entries} entries checked, {len(result.violations)} violation(s).")
    if result.violations:
        raise typer.Exit(1)


@programs_app.command("list")
def programs_list(as_json: JsonOpt = False) -> None:
    """Every program with its year, status and counts (applications, selected, projects)."""
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.programs import summary

    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = [s.as_dict() for s in summary.summaries(session, SYSTEM_ACTOR)]
    finally:
        engine.dispose()
    if as_json:
        _emit({"programs": rows}, True, "")
        return
    for row in rows:
        projects = ", ".join(f"{k} {v}" for k, v in row["projects"].items())
        print(
            f"{row['id']:>4}  {row['year']}  {row['status']:<7} {row['name']}  "
            f"applications {row['applications']} (submitted {row['submitted']}, "
            f"selected {row['selected']}); projects: {projects}"
        )
    err.print(f"{len(rows)} program(s).")


@programs_app.command("remind")
def programs_remind(
    days: Annotated[int, typer.Option("--days", min=0, help="Remind this many days ahead")] = 30,
    as_json: JsonOpt = False,
) -> None:
    """Remind of open follow-ups (사후관리) due within --days days or overdue, once per stage."""
    from sangsaeng.db import make_engine, make_session_factory, transaction
    from sangsaeng.programs import project_service, project_views

    engine = make_engine(get_settings().database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            reminded = project_service.remind_follow_ups(
                session, today=project_views.today(), days_ahead=days
            )
    finally:
        engine.dispose()
    _emit({"reminded": reminded}, as_json, f"{reminded} follow-up(s) reminded.")


@outcomes_app.command("import-kpis")
def outcomes_import_kpis(
    program: Annotated[int, typer.Option("--program", help="The program's id")],
    file: Annotated[Path, typer.Option("--file", help="CSV (UTF-8 or CP949) or .xlsx")],
    as_user: Annotated[str, typer.Option("--as", help="E-mail of the user importing")],
    mode: Annotated[
        str, typer.Option(help="all: any bad row writes nothing; good: keep good rows")
    ] = "all",
    source: Annotated[
        str, typer.Option(help="self (sheets from companies) | imported (administrative data)")
    ] = "self",
    encoding: Annotated[str, typer.Option(help="auto | utf-8 | cp949")] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Import KPI values of a program's projects (협약번호 or 사업자등록번호, 성과지표, 단계, 연차,
    기간 시작, 기간 종료, 값, 단위, 증빙), as the user --as would in the web app."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn
    from sqlalchemy import func, select

    from sangsaeng.core.accounts.service import load_actor
    from sangsaeng.core.errors import SangsaengError
    from sangsaeng.core.imports import reader
    from sangsaeng.core.models import User
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.outcomes import imports as kpi_imports

    if mode not in ("all", "good"):
        _fail({"code": "invalid_input", "message": "--mode must be all or good"}, as_json)
    if not file.is_file():
        _fail({"code": "invalid_input", "message": f"no such file: {file}"}, as_json)
    engine = make_engine(get_settings().database_url)
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    try:
        with make_session_factory(engine)() as session:
            user = session.scalar(select(User).where(func.lower(User.email) == as_user.lower()))
            if user is None or not user.is_active:
                _fail({"code": "invalid_input", "message": f"no active user {as_user}"}, as_json)
            actor = load_actor(session, user)
            table = reader.read_table(file.read_bytes(), file.name, encoding)
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("import KPI values", total=None)
                result = kpi_imports.import_kpis(
                    session,
                    actor,
                    program,
                    table,
                    mode=mode,
                    source=source,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            if result.committed:
                session.commit()
            else:
                session.rollback()
    except SangsaengError as exc:
        _fail(
            {"code": exc.code, "message": str(exc.message), "details": _plain(exc.details)}, as_json
        )
    finally:
        engine.dispose()
    payload = result.as_dict()
    if not result.committed:
        if as_json:
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        else:
            err.print(
                f"[red]Refused: {len(result.rejected)} rejected rows; nothing was written "
                "(all-or-nothing).[/red]"
            )
            for e in result.rejected[:50]:
                err.print(f"  row {e.row} {e.column}: {e.reason}")
        raise typer.Exit(2)
    _emit(
        payload,
        as_json,
        f"Imported ({result.encoding}, source {result.source}): {result.created} stored, "
        f"{len(result.flagged)} flagged for checking, {len(result.rejected)} rejected.",
    )


@outcomes_app.command("report")
def outcomes_report(
    program: Annotated[int, typer.Option("--program", help="The program's id")],
    after: Annotated[
        str, typer.Option(help="latest: the latest verified value; completion: at completion")
    ] = "latest",
    sponsor: Annotated[
        int | None, typer.Option("--sponsor", help="Only the companies this sponsor funds")
    ] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Write the Excel report here")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the PDF report here")] = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples")] = 2000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """The program performance report (성과보고서), computed as the system: participants,
    verified companies, improvements with their intervals, financial effect, method."""
    from sangsaeng.core.errors import SangsaengError
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.core.web.templating import build_templates
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.outcomes import report_pages

    if resamples < 1:
        _fail({"code": "invalid_input", "message": "--resamples must be at least 1"}, as_json)
    for target in (xlsx, pdf):
        if target is not None and not target.parent.is_dir():
            _fail({"code": "invalid_input", "message": f"no such folder: {target.parent}"}, as_json)
    engine = make_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session:
            view = report_pages.report_view(
                session,
                SYSTEM_ACTOR,
                program,
                after=after,
                sponsor_id=sponsor,
                resamples=resamples,
                seed=seed,
            )
            payload = view.result.as_dict()
            if xlsx is not None:
                xlsx.write_bytes(report_pages.xlsx_bytes(view))
            if pdf is not None:
                pdf.write_bytes(report_pages.pdf_bytes(build_templates().env, view))
    except SangsaengError as exc:
        _fail(
            {"code": exc.code, "message": str(exc.message), "details": _plain(exc.details)}, as_json
        )
    finally:
        engine.dispose()
    avg = payload["avg_improvement"]
    mean = "—" if avg["mean"] is None else f"{avg['mean'] * 100:.1f} %"
    _emit(
        payload,
        as_json,
        f"{payload['program']['name']}: {payload['n_participants']} companies, "
        f"{payload['n_verified']} verified; average improvement {mean} (n = {avg['n']}); "
        f"financial effect {payload['financial_effect']['total']:,} KRW "
        f"(n = {payload['financial_effect']['n']}).",
    )


def _load_table(path: Path, as_json: bool):
    """A CSV (UTF-8 or CP949, as Korean Excel writes it), .xlsx or .parquet file as a frame of
    text cells, so the engines' own checks name the rows that are not numbers. A missing or
    unreadable file is the user's input error (exit 2)."""
    import pandas as pd

    from sangsaeng.core.i18n import gettext

    def refuse(message: str) -> None:
        _fail({"code": "invalid_input", "message": message}, as_json)

    if not path.is_file():
        refuse(gettext("No such file: {path}", path=str(path)))
    try:
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            return pd.read_excel(path, dtype=str)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        try:
            return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        except UnicodeDecodeError:
            return pd.read_csv(path, dtype=str, encoding="cp949", keep_default_na=False)
    except Exception as exc:  # any unreadable file is the user's input error
        refuse(gettext("The file cannot be read: {reason}", reason=str(exc)[:200]))


@impact_app.command("estimate")
def impact_estimate(
    data: Annotated[Path, typer.Option("--data", help="CSV (UTF-8/CP949), .xlsx or .parquet")],
    unit: Annotated[str, typer.Option("--unit", help="Column identifying the firm")],
    time: Annotated[str, typer.Option("--time", help="Column of the period (year)")],
    cohort: Annotated[
        str, typer.Option("--cohort", help="Column of the first treated period; 0/empty: never")
    ],
    outcome: Annotated[str, typer.Option("--outcome", help="Column of the outcome")],
    covariates: Annotated[
        str, typer.Option("--covariates", help="Comma-separated covariate columns")
    ] = "",
    control: Annotated[str, typer.Option("--control", help="never | notyet")] = "never",
    method: Annotated[str, typer.Option("--method", help="dr | reg | ipw")] = "dr",
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Multiplier-bootstrap draws (0: analytic)")
    ] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Staggered difference-in-differences (Callaway & Sant'Anna 2021) on a panel file: every
    ATT(g,t), the simple, dynamic, group and calendar aggregations, and the pre-trend test."""
    from sangsaeng.core.i18n import gettext, translate
    from sangsaeng.impact.engine.did import PanelError, estimate

    if bootstrap < 0:
        _fail(
            {
                "code": "invalid_input",
                "message": gettext("Enter 0 (analytic) or a positive number of draws."),
            },
            as_json,
        )
    frame = _load_table(data, as_json)
    names = tuple(c.strip() for c in covariates.split(",") if c.strip())
    first_row = 1 if data.suffix.lower() == ".parquet" else 2  # the header is line 1
    try:
        with err.status(gettext("Estimating…")):
            result = estimate(
                frame,
                unit=unit,
                time=time,
                cohort=cohort,
                outcome=outcome,
                covariates=names,
                control=control,
                method=method,
                bootstrap=bootstrap,
                seed=seed,
                first_row=first_row,
            )
    except PanelError as exc:
        messages = [translate(problem) for problem in exc.problems]
        _fail(
            {"code": "invalid_input", "message": " ".join(messages), "problems": messages}, as_json
        )
    payload = result.as_dict()
    simple = payload["aggregations"]["simple"]
    pretrend = payload["pretrend_p"]
    _emit(
        payload,
        as_json,
        f"ATT {simple['att']:.4f} (SE {simple['se']:.4f}, 95 % CI {simple['ci'][0]:.4f}"
        f"…{simple['ci'][1]:.4f}); {payload['n_units']} units, {payload['n_periods']} periods, "
        f"{payload['control']} controls, {payload['method']}, {payload['se_type']} SE; "
        f"pre-trend p = {'—' if pretrend is None else f'{pretrend:.3f}'}",
    )


@impact_app.command("import-panel")
def impact_import_panel(
    file: Annotated[Path, typer.Option("--file", help="CSV (UTF-8 or CP949) or .xlsx")],
    org: Annotated[int, typer.Option("--org", help="The operator organization owning the panel")],
    panel_name: Annotated[str, typer.Option("--panel-name", help="Name of the new panel")] = "",
    panel: Annotated[
        int | None, typer.Option("--panel", help="Add the rows to this panel instead")
    ] = None,
    source: Annotated[
        str, typer.Option(help="administrative | credit_bureau | survey | other")
    ] = "administrative",
    note: Annotated[str, typer.Option(help="A note kept with the panel")] = "",
    mode: Annotated[
        str, typer.Option(help="all: any bad row writes nothing; good: keep good rows")
    ] = "all",
    encoding: Annotated[str, typer.Option(help="auto | utf-8 | cp949")] = "auto",
    amount_unit: Annotated[
        str,
        typer.Option(
            "--amount-unit", help="auto (as each header states, else 원) | won | thousand | million"
        ),
    ] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Import a firm-year panel (사업자등록번호, 연도, KSIC 업종코드, 지역, 매출액, 영업이익,
    연구개발비, 종업원수, 수출액) from an administrative or credit-bureau extract."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    from sangsaeng.core.errors import SangsaengError
    from sangsaeng.core.imports import reader
    from sangsaeng.core.policy import SYSTEM_ACTOR
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.impact import panels

    if mode not in ("all", "good"):
        _fail({"code": "invalid_input", "message": "--mode must be all or good"}, as_json)
    if not file.is_file():
        _fail({"code": "invalid_input", "message": f"no such file: {file}"}, as_json)
    if panel is None and not panel_name.strip():
        _fail({"code": "invalid_input", "message": "give --panel-name or --panel"}, as_json)
    engine = make_engine(get_settings().database_url)
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    try:
        with make_session_factory(engine)() as session:
            if panel is not None:
                target = {"panel_id": panel}
                owner = panels.get_panel(session, SYSTEM_ACTOR, panel).organization_id
                if owner != org:
                    _fail(
                        {
                            "code": "invalid_input",
                            "message": f"panel {panel} belongs to organization {owner}",
                        },
                        as_json,
                    )
            else:
                target = {"name": panel_name, "source": source, "note": note}
                target["organization_id"] = org
            table = reader.read_table(file.read_bytes(), file.name, encoding)
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("import panel", total=None)
                result = panels.import_panel(
                    session,
                    SYSTEM_ACTOR,
                    table,
                    mode=mode,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                    amount_unit=amount_unit,
                    **target,
                )
            if result.committed:
                session.commit()
            else:
                session.rollback()
    except SangsaengError as exc:
        _fail(
            {"code": exc.code, "message": str(exc.message), "details": _plain(exc.details)}, as_json
        )
    finally:
        engine.dispose()
    payload = result.as_dict()
    if not result.committed:
        if as_json:
            sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        else:
            err.print(
                f"[red]Refused: {len(result.rejected)} rejected rows; nothing was written.[/red]"
            )
            for e in result.rejected[:50]:
                err.print(f"  row {e.row} {e.column}: {e.reason}")
        raise typer.Exit(2)
    _emit(
        payload,
        as_json,
        f"Panel {result.panel_id} ({result.panel_name}): {result.created} firm-years of "
        f"{result.firms} firms stored, {len(result.rejected)} rows rejected, "
        f"{len(result.gaps)} firms with missing years (warnings).",
    )


def _numbers(frame, column: str, as_json: bool) -> list[float]:
    """A column as numbers; text cells are refused with their file rows (the header is line 1)."""
    import pandas as pd

    from sangsaeng.core.i18n import gettext

    if column not in frame.columns:
        _fail(
            {
                "code": "invalid_input",
                "message": gettext("Missing column(s): {columns}.", columns=column),
            },
            as_json,
        )
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna().to_numpy().nonzero()[0]
    if len(bad):
        rows = ", ".join(str(i + 2) for i in bad[:10])
        _fail(
            {
                "code": "invalid_input",
                "message": gettext(
                    "Rows {rows}: '{column}' is empty or not a number.", rows=rows, column=column
                ),
            },
            as_json,
        )
    return values.astype(float).tolist()


@factory_app.command("spc")
def factory_spc(
    data: Annotated[Path, typer.Option("--data", help="CSV (UTF-8/CP949), .xlsx or .parquet")],
    chart: Annotated[str, typer.Option("--chart", help="xbar-r | xbar-s | imr | p | np | c | u")],
    value: Annotated[
        str, typer.Option("--value", help="Measurement, or defectives/defects per sample")
    ],
    size: Annotated[
        str | None, typer.Option("--size", help="Sample size (p, np) or units inspected (u)")
    ] = None,
    subgroup: Annotated[
        str | None, typer.Option("--subgroup", help="Subgroup column (X̄-R, X̄-S)")
    ] = None,
    lsl: Annotated[float | None, typer.Option("--lsl", help="Lower specification limit")] = None,
    usl: Annotated[float | None, typer.Option("--usl", help="Upper specification limit")] = None,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="Samples for the limits, e.g. 1:25")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A control chart with limits from a baseline, Western Electric / Nelson rule violations
    and, with specification limits, Cp, Cpk, Pp and Ppk with confidence intervals."""
    from sangsaeng.core.i18n import gettext, translate
    from sangsaeng.factory.engine.spc import CHARTS, SpcError, control_chart

    if chart not in CHARTS:
        _fail(
            {"code": "invalid_input", "message": gettext("Unknown chart '{chart}'.", chart=chart)},
            as_json,
        )
    window = None
    if baseline:
        first, _, last = baseline.partition(":")
        if not (first.strip().isdigit() and last.strip().isdigit()):
            _fail(
                {
                    "code": "invalid_input",
                    "message": gettext("Write the baseline as first:last, e.g. 1:25."),
                },
                as_json,
            )
        window = (int(first), int(last))
    frame = _load_table(data, as_json)
    values = _numbers(frame, value, as_json)
    sizes = _numbers(frame, size, as_json) if size else None
    labels = None
    if subgroup:
        if subgroup not in frame.columns:
            _fail(
                {
                    "code": "invalid_input",
                    "message": gettext("Missing column(s): {columns}.", columns=subgroup),
                },
                as_json,
            )
        labels = frame[subgroup].astype(str).tolist()
    try:
        result = control_chart(
            chart, values, sizes=sizes, subgroups=labels, baseline=window, lsl=lsl, usl=usl
        )
    except SpcError as exc:
        messages = [translate(problem) for problem in exc.problems]
        _fail(
            {"code": "invalid_input", "message": " ".join(messages), "problems": messages}, as_json
        )
    payload = result.as_dict()
    _emit(
        payload,
        as_json,
        f"{chart}: {payload['n_samples']} samples, {len(payload['violations'])} rule violations "
        f"at samples {payload['out_of_control'] or '—'}",
    )
    if payload["violations"]:
        raise typer.Exit(1)  # a check found violations (DESIGN: exit 1)


@factory_app.command("oee")
def factory_oee(
    data: Annotated[Path, typer.Option("--data", help="Production records: CSV, .xlsx, .parquet")],
    by: Annotated[
        str, typer.Option("--by", help="Group by: machine, line, shift, day, product (comma list)")
    ] = "",
    as_json: JsonOpt = False,
) -> None:
    """OEE (availability × performance × quality) with the six big losses, per group, and the
    downtime reasons ranked."""
    from sangsaeng.core.i18n import gettext, translate
    from sangsaeng.factory.engine.oee import GROUPINGS, OeeError, downtime_reasons, oee_table
    from sangsaeng.factory.engine.oee import prepare as prepare_records

    keys = [k.strip() for k in by.split(",") if k.strip()]
    unknown = [k for k in keys if k not in GROUPINGS]
    if unknown:
        _fail(
            {
                "code": "invalid_input",
                "message": gettext("Unknown grouping: {names}.", names=", ".join(unknown)),
            },
            as_json,
        )
    frame = _load_table(data, as_json)
    try:
        records = prepare_records(frame, first_row=1 if data.suffix == ".parquet" else 2)
    except OeeError as exc:
        messages = [translate(problem) for problem in exc.problems]
        _fail(
            {"code": "invalid_input", "message": " ".join(messages), "problems": messages}, as_json
        )
    rows = oee_table(records, keys)
    if as_json:  # the contract: rows of {keys…, availability, performance, quality, oee, losses}
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    overall = oee_table(records)[0]
    err.print(
        f"OEE {overall['oee']:.1%} (A {overall['availability']:.1%} × "
        f"P {overall['performance']:.1%} × Q {overall['quality']:.1%}); {len(rows)} rows"
    )
    for reason in downtime_reasons(records)[:10]:
        err.print(f"  {reason['reason']}: {reason['minutes']:.0f} min ({reason['share']:.0%})")


@factory_app.command("root-cause")
def factory_root_cause(
    data: Annotated[Path, typer.Option("--data", help="One row per lot: CSV, .xlsx, .parquet")],
    target: Annotated[str, typer.Option("--target", help="The defect label (or defect count)")],
    positive: Annotated[
        str | None, typer.Option("--positive", help="The label value meaning defective, e.g. NG")
    ] = None,
    quantity: Annotated[
        str | None, typer.Option("--quantity", help="Units per row: --target is then a count")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds and samples")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Which process parameters and conditions drive defects: LightGBM with SHAP importance,
    readable thresholds with rate ratios, univariate and model-adjusted tests (false-discovery
    controlled); identifiers, constant columns, leaks and near-duplicates left out with reasons."""
    from sangsaeng.core.i18n import translate
    from sangsaeng.factory.engine.rootcause import RootCauseError, analyse
    from sangsaeng.factory.views import excluded_text, root_cause_text

    frame = _load_table(data, as_json)
    try:
        result = analyse(
            frame,
            target=target,
            positive=positive,
            quantity=quantity,
            seed=seed,
            first_row=1 if data.suffix.lower() == ".parquet" else 2,
        )
    except RootCauseError as exc:
        messages = [translate(problem) for problem in exc.problems]
        payload = {"code": "invalid_input", "message": " ".join(messages), "problems": messages}
        if exc.excluded:
            payload["excluded"] = excluded_text(exc.excluded)
        _fail(payload, as_json)
    payload = root_cause_text(result)
    _emit(
        payload,
        as_json,
        f"{payload['n_rows']} rows, {payload['n_positive']} defective "
        f"(cross-validated AUC {payload['model']['cv']['auc']})",
    )
    if not as_json:
        for factor in payload["factors"][:10]:
            err.print(
                f"  {factor['rank']:>2}. {factor['name']} ({factor['importance']:.3f}, "
                f"{factor['role']}): {factor['summary'] or '—'}"
            )
        for entry in payload["excluded"]:
            err.print(f"  [dim]{entry['name']}: {entry['reason']}[/dim]")
        for warning in payload["warnings"]:
            err.print(f"  [yellow]{warning}[/yellow]")


@factory_app.command("forecast")
def factory_forecast(
    data: Annotated[Path, typer.Option("--data", help="CSV (UTF-8/CP949), .xlsx or .parquet")],
    id_col: Annotated[str, typer.Option("--id", help="Column naming the series (product)")],
    time: Annotated[str, typer.Option("--time", help="Column of the date or time")],
    value: Annotated[str, typer.Option("--value", help="Column of the quantity")],
    horizon: Annotated[int, typer.Option("--horizon", help="Periods to forecast")],
    freq: Annotated[
        str | None, typer.Option("--freq", help="D, B, W-MON, MS, ME, h… (inferred if omitted)")
    ] = None,
    season_length: Annotated[
        int | None, typer.Option("--season-length", help="Periods per season (default by freq)")
    ] = None,
    aggregate: Annotated[
        bool, typer.Option("--aggregate", help="Sum raw lines (orders) per series and period")
    ] = False,
    holidays: Annotated[
        bool, typer.Option("--holidays/--no-holidays", help="Korean holidays as a regressor")
    ] = True,
    windows: Annotated[int, typer.Option("--windows", help="Cross-validation windows")] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Demand forecasts per series: seasonal naive, ETS, ARIMA, Theta, CES, their combination
    and intermittent-demand models, the model chosen per series by rolling-origin
    cross-validation (MASE), with prediction intervals."""
    import os

    from sangsaeng.core.i18n import translate
    from sangsaeng.factory.engine.forecast import ForecastError, prepare
    from sangsaeng.factory.engine.forecast import forecast as run_forecast

    frame = _load_table(data, as_json)
    try:
        series, freq_used = prepare(
            frame,
            id_col=id_col,
            time_col=time,
            value_col=value,
            freq=freq,
            first_row=1 if data.suffix.lower() == ".parquet" else 2,
            aggregate=aggregate,
        )
        many = series["unique_id"].nunique() >= 100  # worker processes pay off from here
        result = run_forecast(
            series,
            horizon=horizon,
            freq=freq_used,
            season_length=season_length,
            holidays=holidays,
            n_windows=windows,
            n_jobs=(os.cpu_count() or 1) if many else 1,
        )
    except ForecastError as exc:
        messages = [translate(problem) for problem in exc.problems]
        _fail(
            {"code": "invalid_input", "message": " ".join(messages), "problems": messages}, as_json
        )
    for entry in result["series"]:
        entry["warnings"] = [translate(w) for w in entry["warnings"]]
    summary = result["summary"]
    summary["warnings"] = [translate(w) for w in summary["warnings"]]
    summary["method"] = [translate(line) for line in summary["method"]]
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    err.print(
        f"{summary['n_series']} series, {freq_used}, horizon {horizon}: "
        + ", ".join(f"{k} {v}" for k, v in summary["models_chosen"].items())
    )
    for entry in result["series"]:
        chosen = entry["cv"].get(entry["model"], {}).get("mase")
        naive = entry["cv"].get("SeasonalNaive", {}).get("mase")
        first = entry["forecast"][0]
        err.print(
            f"  {entry['id']}: {entry['model']} (CV MASE {chosen}, seasonal naive {naive}); "
            f"{first['time']} {first['mean']:.1f}"
        )
    for line in summary["warnings"] + summary["method"]:
        err.print(f"  {line}")


def _plain(details: object) -> object:
    if isinstance(details, dict):
        return {k: str(v) for k, v in details.items()}
    return details


@demo_app.command("seed")
def demo_seed(
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same data")
    ] = 2026,
    smes: Annotated[int, typer.Option(help="Number of SMEs (at least 300)")] = 320,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing if data exists")] = False,
    programs: Annotated[
        bool, typer.Option(help="Also seed the support programs (about half a minute)")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Create the synthetic demo data set with its demo logins."""
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.demo import seed as demo

    factory = make_session_factory(make_engine(get_settings().database_url))
    with factory() as session:
        occupied = demo.has_data(session)
    if occupied and if_empty:
        _emit({"seeded": False, "reason": "not empty"}, as_json, "Data exists; nothing seeded.")
        return
    if occupied:
        _fail(
            {
                "code": "refused",
                "message": "the database already holds organizations; "
                "use --if-empty, or seed an empty database",
            },
            as_json,
        )
    try:
        summary = demo.seed_database(
            factory, seed=seed, sme_count=smes, console=err, programs=programs
        )
    except ValueError as exc:
        _fail({"code": "invalid_input", "message": str(exc)}, as_json)
    _emit({"seeded": True, **summary}, as_json, demo.describe(summary))


@demo_app.command("kpi-sheet")
def demo_kpi_sheet(
    out: Annotated[Path, typer.Option(help="Where to write the sheet")] = Path(
        "kpi_sheet_demo.csv"
    ),
    program: Annotated[
        int | None, typer.Option(help="Program ID (default: the latest with KPI values due)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the demo KPI sheet (CP949 CSV, Korean headers) for the import demo: completion
    values of projects awaiting them, with planted bad rows the import must refuse."""
    from sangsaeng.db import make_engine, make_session_factory
    from sangsaeng.demo import outcomes as demo_outcomes

    factory = make_session_factory(make_engine(get_settings().database_url))
    with factory() as session:
        program_id = program or demo_outcomes.sheet_program(session)
        rows = demo_outcomes.sheet_rows(session, program_id) if program_id else []
        if not rows:
            _fail({"code": "not_found", "message": "no project awaits KPI values"}, as_json)
        out.write_bytes(demo_outcomes.kpi_sheet(session, program_id))
    payload = {"program_id": program_id, "file": str(out), "rows": len(rows)}
    _emit(payload, as_json, f"Wrote {len(rows)} rows of program {program_id} to {out}.")


@demo_app.command("logins")
def demo_logins(as_json: JsonOpt = False) -> None:
    """Print the demo logins and their shared password."""
    from sangsaeng.demo.seed import DEMO_LOGINS, DEMO_PASSWORD

    logins = [{"email": email, "roles": list(roles)} for email, _n, _o, roles in DEMO_LOGINS]
    payload = {"password": DEMO_PASSWORD, "logins": logins}
    if as_json:
        _emit(payload, True, "")
        return
    print(f"Demo logins (password: {DEMO_PASSWORD}):")
    for login in logins:
        print(f"  {login['email']:<32} {', '.join(login['roles'])}")


def _configure_logging() -> None:
    import logging

    from sangsaeng.core.web.logs import RedactSecretsFilter

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("uvicorn.access").addFilter(RedactSecretsFilter())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the web application."""
    import uvicorn

    _configure_logging()
    uvicorn.run(
        "sangsaeng.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


@app.command()
def worker(workers: Annotated[int, typer.Option(help="Worker threads")] = 2) -> None:
    """Run the background job worker (Huey consumer)."""
    from sangsaeng.jobs import get_huey

    _configure_logging()
    consumer = get_huey().create_consumer(workers=workers, worker_type="thread")
    consumer.run()


if __name__ == "__main__":
    app()
