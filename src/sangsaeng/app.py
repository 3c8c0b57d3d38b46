"""Composition root: builds the FastAPI application from the domain routers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sangsaeng import __version__
from sangsaeng.assessments import api as assessments_api
from sangsaeng.assessments import catalog as instrument_catalog
from sangsaeng.assessments import pages as assessments_pages
from sangsaeng.core.accounts import api as accounts_api
from sangsaeng.core.accounts import pages as accounts_pages
from sangsaeng.core.audit import api as audit_api
from sangsaeng.core.audit import pages as audit_pages
from sangsaeng.core.files import api as files_api
from sangsaeng.core.files.service import LocalStorage
from sangsaeng.core.imports import api as imports_api
from sangsaeng.core.imports import pages as imports_pages
from sangsaeng.core.jobs import api as jobs_api
from sangsaeng.core.jobs import pages as jobs_pages
from sangsaeng.core.notifications import pages as notification_pages
from sangsaeng.core.orgs import api as orgs_api
from sangsaeng.core.orgs import pages as orgs_pages
from sangsaeng.core.web import errors
from sangsaeng.core.web import pages as shell_pages
from sangsaeng.core.web.middleware import WebShellMiddleware
from sangsaeng.core.web.templating import build_templates
from sangsaeng.db import make_engine, make_session_factory
from sangsaeng.factory import pages as factory_pages
from sangsaeng.factory import standards_pages as factory_standards_pages
from sangsaeng.impact import api as impact_api
from sangsaeng.impact import pages as impact_pages
from sangsaeng.impact import panel_pages as impact_panel_pages
from sangsaeng.jobs import configure as configure_jobs
from sangsaeng.outcomes import api as outcomes_api
from sangsaeng.outcomes import catalogue_pages as outcomes_catalogue
from sangsaeng.outcomes import import_pages as outcomes_import_pages
from sangsaeng.outcomes import pages as outcomes_pages
from sangsaeng.outcomes import report_api as outcomes_report_api
from sangsaeng.outcomes import report_pages as outcomes_report_pages
from sangsaeng.programs import api as programs_api
from sangsaeng.programs import application_api, application_pages
from sangsaeng.programs import dashboard_pages as programs_dashboard_pages
from sangsaeng.programs import pages as programs_pages
from sangsaeng.programs import project_api as programs_project_api
from sangsaeng.programs import project_pages as programs_project_pages
from sangsaeng.programs import selection_api as programs_selection_api
from sangsaeng.programs import selection_pages as programs_selection_pages
from sangsaeng.settings import Settings, get_settings

STATIC_DIR = Path(__file__).parent / "core" / "web" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Sangsaeng API",
        version=__version__,
        description="상생 — large-company–SME shared-growth platform. "
        "Authenticate with `Authorization: Bearer <token>` (create tokens at /me/tokens).",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.read_session_factory = make_session_factory(
        engine.execution_options(isolation_level="AUTOCOMMIT")
    )
    app.state.templates = build_templates()
    app.state.storage = LocalStorage(settings.data_dir / "files")
    instrument_catalog.configure(settings.data_dir / "instruments")
    app.state.huey = configure_jobs(settings, immediate=settings.jobs_immediate)
    settings.resolved_secret_key()

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        shell_pages.router,
        accounts_pages.router,
        orgs_pages.router,
        audit_pages.router,
        accounts_api.router,
        orgs_api.router,
        audit_api.router,
        files_api.router,
        imports_api.router,
        imports_pages.router,
        jobs_pages.router,
        notification_pages.router,
        jobs_api.router,
        assessments_pages.router,
        assessments_api.router,
        programs_api.router,
        programs_pages.router,
        # After programs_pages: /programs/new must not be taken for a program id.
        programs_dashboard_pages.router,
        programs_project_api.router,
        programs_project_pages.router,
        programs_selection_api.router,
        programs_selection_pages.router,
        application_api.router,
        application_pages.router,
        outcomes_import_pages.router,
        outcomes_api.router,
        outcomes_pages.router,
        outcomes_report_pages.router,
        outcomes_report_api.router,
        outcomes_catalogue.router,
        outcomes_catalogue.api,
        impact_panel_pages.router,
        impact_panel_pages.api,
        impact_pages.router,
        impact_api.router,
        factory_pages.router,
        factory_pages.api,
        factory_standards_pages.router,
    ):
        app.include_router(router)
    errors.install(app)
    app.add_middleware(WebShellMiddleware, on_error=errors.handle_unexpected)
    return app
