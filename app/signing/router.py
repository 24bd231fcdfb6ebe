"""``/.well-known/jwks.json``: the public keys that verify passes and the deny list. Public, cacheable."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.core.clock import utcnow
from app.core.db import SessionDep
from app.core.idempotency import AppRoute
from app.signing import service
from app.signing.keyring import Keyring

router = APIRouter(route_class=AppRoute, tags=["keys"])


def get_keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


@router.get("/.well-known/jwks.json")
def jwks(request: Request, session: SessionDep, response: Response) -> dict[str, list[dict[str, str]]]:
    """Ed25519 keys (``kty`` OKP, ``alg`` EdDSA, ``kid`` = RFC 7638 thumbprint): the key that signs now,
    the next key before it signs, and retired keys for longer than any token they signed can live.
    A verifier that meets an unknown ``kid`` should fetch this again (with a cooldown)."""
    now = utcnow()
    get_keyring(request).signer(session, now)  # the first key is made on first use
    response.headers["Cache-Control"] = "public, max-age=300"
    return service.jwks(service.list_keys(session), now)
