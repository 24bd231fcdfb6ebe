"""Ed25519 signing keys for QR passes and the offline deny list. Private halves are stored encrypted."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime


class SigningKey(SQLModel, table=True):
    """One key pair. ``generation`` orders keys and is unique, so two processes that both create "the first
    key" (or rotate at once) cannot both succeed.

    Life of a key: published from ``created_at``; signs from ``activates_at`` until ``retired_at`` (when its
    successor activates); published until ``unpublish_at``, longer than any token it signed can live."""

    __tablename__ = "signing_keys"

    kid: str = Field(primary_key=True, max_length=43)  # RFC 7638 thumbprint, base64url SHA-256
    generation: int = Field(unique=True)
    public_x: str = Field(max_length=43)  # the JWK "x": base64url of the 32-byte public key
    private_ciphertext: str = Field(max_length=200)  # FieldCipher, purpose bound to the kid
    private_cipher_kid: str = Field(max_length=32)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    activates_at: datetime = Field(sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    unpublish_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
