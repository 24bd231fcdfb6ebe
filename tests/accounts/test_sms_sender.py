"""The development sender logs the code in development only; elsewhere the code never reaches a log."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.sms import DevelopmentLogSender, NullSender
from app.main import create_app
from tests.core.test_logging import capture_json_logs
from tests.helpers import make_phone


def test_outside_development_no_code_is_logged_or_returned(settings: Settings, store) -> None:
    app = create_app(settings, store=store)  # env=test, no sender injected
    with TestClient(app) as client:
        assert isinstance(app.state.sms_sender, NullSender)
        buffer = capture_json_logs()
        phone = make_phone()
        response = client.post("/v1/auth/otp", json={"phone": phone})
        assert response.status_code == 202
    logged = buffer.getvalue()
    assert "sms_gateway_not_configured" in logged
    assert not re.search(r"\b\d{6}\b", logged.replace(phone[-4:], ""))
    assert not re.search(r"\b\d{6}\b", response.text)


def test_in_development_the_code_goes_to_the_server_log_only(settings: Settings, store) -> None:
    dev = settings.model_copy(update={"env": "development"})
    app = create_app(dev, store=store)
    with TestClient(app) as client:
        assert isinstance(app.state.sms_sender, DevelopmentLogSender)
        buffer = capture_json_logs()
        phone = make_phone()
        response = client.post("/v1/auth/otp", json={"phone": phone})
    match = re.search(r"your 信易\+ sign-in code is (\d{6})", buffer.getvalue())
    assert match is not None
    assert match.group(1) not in response.text
    assert phone not in buffer.getvalue()  # masked in the log line
