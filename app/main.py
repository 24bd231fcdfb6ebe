"""The FastAPI application. Engines, stores and keys are created in the lifespan, never at import."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.accounts.router import router as accounts_router
from app.audit import service as audit_service
from app.audit.router import router as audit_router
from app.consents.router import router as consents_router
from app.core import clock, edge, metrics, openapi
from app.core.access import AccessLogMiddleware
from app.core.config import Settings, get_settings
from app.core.db import make_async_engine, make_engine
from app.core.errors import install_error_handlers
from app.core.health import router as health_router
from app.core.logging import configure_logging
from app.core.requestid import RequestContextMiddleware
from app.core.security import Crypto
from app.core.shutdown import on_stop
from app.core.sms import DevelopmentLogSender, NullSender, SmsNotConfiguredError, SmsSender
from app.core.store import KeyValueStore, make_store, on_loop, refuse_evicting_store
from app.enterprises.router import router as enterprises_router
from app.evidence.router import router as evidence_router
from app.jobs.router import router as jobs_router
from app.loans.router import router as loans_router
from app.members.consoles import router as members_consoles_router
from app.members.managed import router as members_managed_router
from app.members.router import router as members_router
from app.monitoring import router as monitoring_router
from app.objections.router import router as objections_router
from app.partners.router import router as partners_router
from app.passes.router import router as passes_router
from app.payments.router import router as payments_router
from app.records.router import router as records_router
from app.rentals.router import router as rentals_router
from app.repairs.router import router as repairs_router
from app.reports.router import router as reports_router
from app.scanners.router import router as scanners_router
from app.scenarios.catalog import load_catalog
from app.scenarios.router import router as scenarios_router
from app.scoring.router import router as scoring_router
from app.signing.keyring import Keyring
from app.signing.router import router as signing_router
from app.subjects.router import router as subjects_router
from app.verifications.router import router as verifications_router
from app.verifications.stats import router as scenario_stats_router
from app.verifications.stream import Streams
from app.web import pages
from app.web.console.router import router as console_page_router
from app.web.resident.router import router as resident_page_router
from app.web.scan import router as scan_page_router
from app.web.stats import router as stats_page_router
from app.webhooks.router import router as webhooks_router

# The order in which /docs shows the API: a resident's path first, then partners', then operators'.
OPENAPI_TAGS = [
    {"name": "accounts", "description": "Sign in by phone and SMS code; tokens; binding an ID number."},
    {"name": "scoring", "description": "A subject's credit score, level and the reasons behind them."},
    {"name": "credit report", "description": "The credit report a subject can read and share."},
    {"name": "passes", "description": "Rotating QR passes and offline codes shown at partners."},
    {"name": "verifications", "description": "Partners check a scanned pass for a scenario."},
    {"name": "scenarios", "description": "The 信易+ scenarios: rules, benefits, partner kinds."},
    {"name": "keys", "description": "The public keys that sign passes (JWKS)."},
    {"name": "rentals", "description": "信易租: deposit-free rentals, returns and defaults."},
    {"name": "payments", "description": "Saved payment methods, deposit holds and Stripe's webhooks."},
    {"name": "xinyidai", "description": "信易贷: loan applications, bank referrals and outcomes."},
    {"name": "enterprises", "description": "Enterprises and their administrators."},
    {"name": "consents", "description": "Purpose-bound consents to read a credit report."},
    {"name": "objections", "description": "Rights: object to a record (异议)."},
    {"name": "credit repair", "description": "Rights: credit repair (信用修复)."},
    {"name": "evidence", "description": "Rights: files attached to objections and repairs."},
    {"name": "audit", "description": "Rights: who read a subject's data; the hash-chained audit log."},
    {"name": "partners", "description": "Partner organisations, members, devices and API keys."},
    {
        "name": "partner members",
        "description": "People who act for a partner: invitations, roles, what they manage.",
    },
    {"name": "scanner devices", "description": "Counter scanners a partner's member enrols and revokes."},
    {"name": "webhooks", "description": "Outbound webhooks to partners: endpoints and deliveries."},
    {"name": "records", "description": "Ingestion of public credit records and red/black lists."},
    {"name": "admin", "description": "Operators' views of subjects."},
    {"name": "health", "description": "Liveness and readiness."},
]


def make_sender(settings: Settings) -> SmsSender:
    """The SMS sender the settings ask for. Production without a provider refuses to start."""
    if settings.sms_provider == "tencent":
        from app.core.sms_tencent import TencentSmsSender  # the provider's SDK is loaded only when used

        return TencentSmsSender(settings)
    if settings.is_development:
        return DevelopmentLogSender()
    if settings.env == "production":
        raise SmsNotConfiguredError(
            "refusing to start in production without an SMS provider: nobody could sign in. "
            "Set XINYI_SMS_PROVIDER=tencent and its XINYI_SMS_* settings (see the README, Configuration)."
        )
    return NullSender()


def tune_gc() -> None:
    """For a long-lived server process, once everything it loads at start-up is loaded. Those objects
    (modules, models, the scenario catalog, compiled statements) live as long as the process: frozen out
    of the collector's generations, they are no longer traversed by every full collection. A request
    makes thousands of short-lived objects, most freed by reference counting; a higher first threshold
    makes collections rarer: about a fifth less user CPU per verification under load (measured in
    docs/benchmarks.md, round 4). Not in tests, which start many apps in one process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)


def create_app(
    settings: Settings | None = None,
    *,
    store: KeyValueStore | None = None,
    sms_sender: SmsSender | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        clock.configure(settings.env, offset=settings.clock_offset, at=settings.clock_at)
        audit_service.configure(settings)  # the audit chain's HMAC keys
        engine = make_engine(settings.database_url, pooler=settings.database_pooler)
        metrics.instrument_engine(engine)
        app.state.settings = settings
        app.state.engine = engine
        app.state.async_engine = async_engine = make_async_engine(
            settings.database_url, pooler=settings.database_pooler
        )
        metrics.instrument_engine(async_engine.sync_engine)
        app.state.store = store or make_store(settings.redis_url)
        if settings.env == "production":
            refuse_evicting_store(app.state.store)
        app.state.store_on_loop = on_loop(app.state.store)
        app.state.crypto = Crypto(settings)
        app.state.scenarios = load_catalog()  # a bad scenario file stops start-up, naming file and field
        app.state.keyring = Keyring(app.state.crypto.cipher)
        app.state.keyring.warm(engine)
        app.state.sms_sender = sms_sender or make_sender(settings)  # production: a provider, or no start
        app.state.streams = streams = Streams(
            settings.sse_max_streams_per_user, settings.sse_max_streams_per_process, settings.sse_idle_seconds
        )
        restore_signals = on_stop(streams.drain)  # live streams end as soon as the process is told to stop
        if settings.env != "test":
            tune_gc()
        try:
            yield
        finally:
            streams.drain()
            restore_signals()
            await app.state.store_on_loop.close()
            if store is None:
                app.state.store.close()
            engine.dispose()
            await async_engine.dispose()
            metrics.process_exited(os.getpid())

    # FastAPIOffline: /docs (Swagger UI) loads its script and styles from this service, not from a CDN that
    # a government network may not reach. No /redoc: its page still fetches a logo from redoc.ly.
    app: FastAPI = FastAPIOffline(
        title="信易+ credit-incentive marketplace",
        version="0.1.0",
        lifespan=lifespan,
        description="Public credit records turned into benefits at partner businesses. "
        "Errors are application/problem+json with a stable `code`.",
        openapi_tags=OPENAPI_TAGS,
        static_url="/docs/assets",
        redoc_url=None,
    )
    app.add_middleware(edge.BodyLimitMiddleware)  # a refused body is access-logged, with its request id
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(RequestContextMiddleware)  # the access line carries the request id
    # Outermost: the client address every limit and log line sees is the real one behind a trusted proxy.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_error_handlers(app)
    openapi.install(app)  # every error response documented as problem+json
    # FastAPI matches routes one by one, in this order: the partners' verification call, the hottest of
    # all, comes first, then the residents' passes (every phone showing its code asks every 60-90 s).
    # (No other path can match one of theirs, so the order changes nothing else.)
    for router in (
        verifications_router,
        passes_router,
        health_router,
        monitoring_router,
        accounts_router,
        enterprises_router,
        partners_router,
        audit_router,
        subjects_router,
        records_router,
        scoring_router,
        scenarios_router,
        signing_router,
        consents_router,
        loans_router,
        webhooks_router,
        evidence_router,
        objections_router,
        repairs_router,
        reports_router,
        payments_router,
        rentals_router,
        scanners_router,
        scenario_stats_router,
        members_router,
        members_managed_router,
        members_consoles_router,
        jobs_router,
        # the pages people touch: /scan, /app, /stats, /console
        scan_page_router,
        resident_page_router,
        stats_page_router,
        console_page_router,
    ):
        app.include_router(router)
    pages.mount_static(app)
    return app
