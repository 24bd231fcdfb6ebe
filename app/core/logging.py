"""Structured logging (JSON outside development) that scrubs ID numbers, phone numbers and credentials.

Redaction happens in the last processor before rendering, for our own log calls and for every stdlib
logger (uvicorn, SQLAlchemy) routed through structlog, so a careless log call cannot leak a secret.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from app.core.config import Settings

_SENSITIVE_KEYS = re.compile(
    r"(secret|password|passwd|token|authorization|api_key|apikey|otp|code|id_number|cookie)", re.I
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # 身份证号: 17 digits and a digit or X.
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "[id-number]"),
    # JWTs (access tokens, QR passes).
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[jwt]"),
    # Our own credentials: partner API keys and refresh tokens.
    (re.compile(r"\b(xyk|rt)_[A-Za-z0-9_-]{8,}"), "[credential]"),
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [credential]"),
    # Mainland mobile numbers: keep the first 3 and last 4 digits. Not inside a longer token: a request
    # id's hex may hold eleven digits in a row.
    (re.compile(r"(?<![0-9A-Za-z])(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])"), r"\2****\4"),
]
_EXEMPT_KEYS = {"event", "level", "logger", "timestamp", "request_id", "error_type", "status_code", "code"}


def scrub_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {k: _scrub_item(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _scrub_item(key: str, value: Any) -> Any:
    if key not in _EXEMPT_KEYS and _SENSITIVE_KEYS.search(key) and value not in (None, ""):
        return "[redacted]"
    return _scrub(value)


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in ("event", "exception"):
            event_dict[key] = _scrub(event_dict[key])
        else:
            event_dict[key] = _scrub_item(key, event_dict[key])
    return event_dict


def _drop_color_message(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event_dict.pop("color_message", None)  # uvicorn's ANSI-coloured duplicate of the message
    return event_dict


def configure_logging(settings: Settings) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if settings.json_logs
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not _is_ours(h)]
    handler._xinyi = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


def _is_ours(handler: logging.Handler) -> bool:
    return bool(getattr(handler, "_xinyi", False))
