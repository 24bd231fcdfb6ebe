"""app/ uses other libraries through their public API only: no ``_``-prefixed module, name or module
attribute of another package, and none of the undocumented modules listed below. A library's private parts change without notice in any release, so code
on them breaks silently on an upgrade (issue #18: a QR encoder on ``qrcode``'s tables, a JWS module
beside PyJWT)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
# Modules without a ``_`` that their own documentation does not offer either: qrcode documents the
# ``QRCode`` class, its constants and image factories, not its Reed–Solomon tables and bit buffers; PyJWT
# documents ``jwt.*``, not its encoding helpers.
UNDOCUMENTED = ("qrcode.base", "qrcode.LUT", "qrcode.util", "jwt.utils")


def _private(name: str) -> bool:
    """``_x`` is private; ``__x__`` (``__future__``, ``__version__``) is not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _internal(module: str) -> bool:
    parts = module.split(".")
    return any(_private(part) for part in parts) or any(
        module == name or module.startswith(name + ".") for name in UNDOCUMENTED
    )


def private_uses(source: str, filename: str = "<source>") -> list[str]:
    """Each import of another package's private module or name, and each ``module._name`` read from an
    imported package, as ``line: what``."""
    found: list[str] = []
    foreign_modules: set[str] = set()  # local names bound to another package's modules
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "app":
                    continue
                if _internal(alias.name):
                    found.append(f"{node.lineno}: import {alias.name}")
                foreign_modules.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "app":
                continue
            if _internal(node.module):
                found.append(f"{node.lineno}: from {node.module} import …")
                continue
            for alias in node.names:
                if _private(alias.name) or _internal(f"{node.module}.{alias.name}"):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    for node in ast.walk(ast.parse(source, filename)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in foreign_modules
            and _private(node.attr)
        ):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return sorted(set(found), key=lambda line: int(line.split(":")[0]))


def test_the_check_finds_private_imports_and_attributes_of_other_packages() -> None:
    source = """
from __future__ import annotations
import qrcode
import redis._parsers
import jwt.api_jws as jws_api
from qrcode._tables import LUT
from jwt import _private_helper, __version__, decode
from app.core import _local
from qrcode import base as qr_base, constants
from qrcode.LUT import rsPoly_LUT
import app._internal
x = qrcode._secret
y = jws_api._load
z = qrcode.__version__
w = _local._fine
"""
    assert private_uses(source) == [
        "4: import redis._parsers",
        "6: from qrcode._tables import …",
        "7: from jwt import _private_helper",
        "9: from qrcode import base",
        "10: from qrcode.LUT import …",
        "12: qrcode._secret",
        "13: jws_api._load",
    ]


def test_app_uses_other_libraries_through_their_public_api_only() -> None:
    offenders = {
        str(path.relative_to(APP.parent)): uses
        for path in sorted(APP.rglob("*.py"))
        if (uses := private_uses(path.read_text(encoding="utf-8"), str(path)))
    }
    assert offenders == {}
