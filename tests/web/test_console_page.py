"""/console is one page: served with the strict CSP, its scripts from this origin, its menu naming the
roles each section needs (the page shows a link only to a user holding one; the API decides each call)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.web.pages import CONTENT_SECURITY_POLICY


def test_the_console_page(client: TestClient) -> None:
    response = client.get("/console")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    scripts = re.findall(r"<script\b[^>]*>", response.text)
    assert scripts == ['<script type="module" src="/static/console/app.js">']
    assert " style=" not in response.text  # no inline style for the CSP to refuse
    assert '<html lang="zh-CN">' in response.text


def test_the_menu_names_the_roles_of_each_section_and_starts_hidden(client: TestClient) -> None:
    html = client.get("/console").text
    links = re.findall(r'<a href="#/(\w+)" data-i18n="\w+" data-roles="([\w ]+)" hidden>', html)
    assert links == [
        ("objections", "operator"),
        ("repairs", "operator"),
        ("subjects", "operator"),
        ("partners", "operator"),
        ("webhooks", "operator"),
        ("jobs", "operator"),
        ("imports", "operator"),
        ("audit", "auditor operator"),
    ]
    assert '<nav id="nav" class="sidenav" aria-label="控制台菜单" hidden>' in html


def test_the_console_scripts_are_served_with_the_same_policy(client: TestClient) -> None:
    for path in ("app.js", "ui.js", "i18n.js", "views/cases.js", "views/audit.js", "console.css"):
        response = client.get(f"/static/console/{path}")
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_the_pdf_viewer_and_its_worker_are_served_as_scripts_under_the_same_policy(
    client: TestClient,
) -> None:
    # A module worker is refused unless it comes as JavaScript; the policy's worker-src 'self' admits it
    for path in (
        "console/pdf_viewer.js",
        "vendor/pdfjs-dist-6.5.438/pdf.min.mjs",
        "vendor/pdfjs-dist-6.5.438/pdf.worker.min.mjs",
    ):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path
        assert response.headers["content-type"].split(";")[0] in {
            "text/javascript",
            "application/javascript",
        }, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_a_trailing_slash_finds_the_console(client: TestClient) -> None:
    response = client.get("/console/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (308, "/console")
