"""The Reflex app: the HTTP API in front, then every page of the portal and the tower."""

import reflex as rx

import models  # noqa: F401  (every table, for migrations)
from portal_app.api.app import build_api
from portal_app.components.connection import overlay as connection_overlay
from portal_app.components.layout import PAGES
from portal_app.components.problem_banner import problem_banner
from portal_app.edge.body_limit import RequestBodyLimit
from portal_app.edge.headers import SecurityHeaders
from portal_app.edge.origins import RequestOriginCheck
from portal_app.edge.upload_gate import UploadGate
from portal_app.loading_page import loading_page
from portal_app.maintenance import (
    keep_evaluating_rules,
    keep_planner_statistics,
    keep_sending_email,
    keep_sending_webhooks,
    keep_within_retention,
)
from portal_app.not_found import not_found_page
from portal_app.portal import account as _portal_account  # noqa: F401  (registers pages)
from portal_app.portal import audit as _portal_audit  # noqa: F401
from portal_app.portal import documents as _portal_documents  # noqa: F401
from portal_app.portal import help as _portal_help  # noqa: F401
from portal_app.portal import help_article as _portal_help_article  # noqa: F401
from portal_app.portal import home as _portal_home  # noqa: F401
from portal_app.portal import invoices as _portal_invoices  # noqa: F401
from portal_app.portal import notifications as _portal_notifications  # noqa: F401
from portal_app.portal import quote_form as _portal_quote_form  # noqa: F401
from portal_app.portal import quotes as _portal_quotes  # noqa: F401
from portal_app.portal import request_detail as _portal_request_detail  # noqa: F401
from portal_app.portal import request_new as _portal_request_new  # noqa: F401
from portal_app.portal import requests as _portal_requests  # noqa: F401
from portal_app.portal import shipment_detail as _portal_shipment_detail  # noqa: F401
from portal_app.portal import shipments as _portal_shipments  # noqa: F401
from portal_app.portal import webhooks as _portal_webhooks  # noqa: F401
from portal_app.tower import account as _tower_account  # noqa: F401
from portal_app.tower import audit as _tower_audit  # noqa: F401
from portal_app.tower import bookings as _tower_bookings  # noqa: F401
from portal_app.tower import carrier_events as _tower_carrier_events  # noqa: F401
from portal_app.tower import changes as _tower_changes  # noqa: F401
from portal_app.tower import config as _tower_config  # noqa: F401
from portal_app.tower import config_carriers as _tower_config_carriers  # noqa: F401
from portal_app.tower import config_invoicing as _tower_config_invoicing  # noqa: F401
from portal_app.tower import config_org as _tower_config_org  # noqa: F401
from portal_app.tower import config_requests as _tower_config_requests  # noqa: F401
from portal_app.tower import config_rules as _tower_config_rules  # noqa: F401
from portal_app.tower import config_sso as _tower_config_sso  # noqa: F401
from portal_app.tower import config_templates as _tower_config_templates  # noqa: F401
from portal_app.tower import exception_detail as _tower_exception_detail  # noqa: F401
from portal_app.tower import exceptions as _tower_exceptions  # noqa: F401
from portal_app.tower import help as _tower_help  # noqa: F401
from portal_app.tower import home as _tower_home  # noqa: F401
from portal_app.tower import imports as _tower_imports  # noqa: F401
from portal_app.tower import kpis as _tower_kpis  # noqa: F401
from portal_app.tower import notifications as _tower_notifications  # noqa: F401
from portal_app.tower import quotes as _tower_quotes  # noqa: F401
from portal_app.tower import rate_card as _tower_rate_card  # noqa: F401
from portal_app.tower import rates as _tower_rates  # noqa: F401
from portal_app.tower import request_detail as _tower_request_detail  # noqa: F401
from portal_app.tower import requests as _tower_requests  # noqa: F401
from portal_app.tower import shipments as _tower_shipments  # noqa: F401
from portal_app.tower import system as _tower_system  # noqa: F401
from portal_app.tower import tasks as _tower_tasks  # noqa: F401
from portal_app.tower import webhooks as _tower_webhooks  # noqa: F401
from portal_app.tower import workload as _tower_workload  # noqa: F401
from portal_app.tower import workspace as _tower_workspace  # noqa: F401
from portal_app.ui.login import LoginState, login_page
from portal_app.ui.page_binding import PageSessionBinding
from portal_app.ui.page_errors import on_backend_exception, on_frontend_exception
from portal_app.ui.session import HomeRedirectState


def index() -> rx.Component:
    return rx.fragment()


app = rx.App(
    # The HTTP API in front of Reflex's own routes, then the web edge around all of it, innermost first:
    # see portal_app/edge.
    api_transformer=[
        build_api(),
        UploadGate,
        RequestBodyLimit,
        RequestOriginCheck,
        SecurityHeaders,  # outermost: every answer carries the headers, the other layers' refusals too
    ],
    stylesheets=["/portal.css"],
    # Light or dark follows the system setting (portal_app/theme.py); the header's Menu button on a phone is opened
    # by a file of our own (assets/menu.js), not by a page event.
    head_components=[rx.el.meta(name="color-scheme", content="light dark"), rx.el.script(src="/menu.js", defer=True)],
    toaster=None,
    # Pages with a reference in the address are served one shared HTML page: it shows this until their code loads.
    hydrate_fallback=loading_page,
    # An unexpected error shows the product's banner with an error id (the log has it too), never window.alert.
    backend_exception_handler=on_backend_exception,
    frontend_exception_handler=on_frontend_exception,
)
# The connection notice and the error banner are our own, not Reflex's toasts (whose library every page would
# download).
app.app_wraps[(5, "Overlay")] = lambda stateful: rx.fragment(connection_overlay(), problem_banner()) if stateful \
    else None
# Page state belongs to one sign-in: wiped before anything is sent once the tab's session changes or ends.
app.add_middleware(PageSessionBinding())
app.register_lifespan_task(keep_planner_statistics)
app.register_lifespan_task(keep_evaluating_rules)
app.register_lifespan_task(keep_sending_email)
app.register_lifespan_task(keep_sending_webhooks)
app.register_lifespan_task(keep_within_retention)
app.add_page(login_page, route="/login", title="Sign in", on_load=LoginState.load)
app.add_page(index, route="/", title="Freight portal", on_load=HomeRedirectState.go_home)
for page, route, title, on_load in PAGES:
    app.add_page(page, route=route, title=title, on_load=on_load)
app.add_page(not_found_page, route="404", title="Page not found")
