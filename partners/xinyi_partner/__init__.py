"""信易+ partner kit.

- :class:`OfflineVerifier` — verify a pass offline with the cached JWKS and signed deny list;
- :class:`PartnerClient` / :class:`AsyncPartnerClient` — the partner API for every kind (merchants:
  verify online, rentals, scanner devices, offline-use reports; banks: referrals, reports, decisions,
  outcomes, loan products; data providers: record batches and files, objections; webhook endpoints), typed
  answers (:mod:`xinyi_partner.models`), lists that page for you (:class:`Pager`, :class:`AsyncPager`);
- :class:`OfflineQueue` — the device's record of offline uses, flushed when back online;
- :class:`WebhookVerifier` / :func:`verify_webhook` — Standard Webhooks signatures;
- :func:`decode_qr_image` and friends in :mod:`xinyi_partner.qr` (the ``qr`` extra);
- :class:`PowerBankKiosk` in :mod:`xinyi_partner.kiosk` — the reference integration.
"""

from __future__ import annotations

__version__ = "0.1.0"

from xinyi_partner.aio import AsyncPartnerClient
from xinyi_partner.calls import AsyncPager, Page, Pager
from xinyi_partner.denylist import DenyList, deny_list_hash
from xinyi_partner.errors import (
    AlgorithmNotAllowed,
    APIConnectionError,
    APIError,
    AuthenticationError,
    ConflictError,
    DenyListInvalid,
    DenyListStale,
    DenyListUnavailable,
    HandleAlreadyUsed,
    HandleRevoked,
    InvalidRequestError,
    InvalidSignature,
    KeysUnavailable,
    MalformedToken,
    NotFoundError,
    OnlineCheckRequired,
    PermissionDeniedError,
    QrDecodeError,
    RateLimitError,
    ScenarioMismatch,
    ServerError,
    TokenError,
    TokenExpired,
    TokenNotYetValid,
    UnknownKey,
    WebhookVerificationError,
    XinyiError,
)
from xinyi_partner.keys import KeySet, jwk_thumbprint, public_jwk
from xinyi_partner.models import (
    CreditReport,
    LoanOutcome,
    LoanProduct,
    Objection,
    ObjectionEvent,
    PartnerInfo,
    RecordBatch,
    Referral,
    RowError,
    ScannerDevice,
    WebhookDelivery,
    WebhookEndpoint,
)
from xinyi_partner.offline import OfflineVerifier
from xinyi_partner.offline_queue import FlushResult, OfflineQueue, OfflineUse
from xinyi_partner.online import PartnerClient
from xinyi_partner.qr import decode_qr_image, qr_digits_to_token, render_qr_png, token_to_qr_digits
from xinyi_partner.resources.data_providers import FileUpload
from xinyi_partner.results import OfflineResult, OnlineResult, Rental
from xinyi_partner.tokens import VerifiedToken
from xinyi_partner.webhooks import WebhookMessage, WebhookVerifier, verify_webhook

__all__ = [
    "APIConnectionError",
    "APIError",
    "AlgorithmNotAllowed",
    "AsyncPager",
    "AsyncPartnerClient",
    "AuthenticationError",
    "ConflictError",
    "CreditReport",
    "DenyList",
    "DenyListInvalid",
    "DenyListStale",
    "DenyListUnavailable",
    "FileUpload",
    "FlushResult",
    "HandleAlreadyUsed",
    "HandleRevoked",
    "InvalidRequestError",
    "InvalidSignature",
    "KeySet",
    "KeysUnavailable",
    "LoanOutcome",
    "LoanProduct",
    "MalformedToken",
    "NotFoundError",
    "Objection",
    "ObjectionEvent",
    "OfflineQueue",
    "OfflineResult",
    "OfflineUse",
    "OfflineVerifier",
    "OnlineCheckRequired",
    "OnlineResult",
    "Page",
    "Pager",
    "PartnerClient",
    "PartnerInfo",
    "PermissionDeniedError",
    "QrDecodeError",
    "RateLimitError",
    "RecordBatch",
    "Referral",
    "Rental",
    "RowError",
    "ScannerDevice",
    "ScenarioMismatch",
    "ServerError",
    "TokenError",
    "TokenExpired",
    "TokenNotYetValid",
    "UnknownKey",
    "VerifiedToken",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookMessage",
    "WebhookVerificationError",
    "WebhookVerifier",
    "XinyiError",
    "__version__",
    "decode_qr_image",
    "deny_list_hash",
    "jwk_thumbprint",
    "public_jwk",
    "qr_digits_to_token",
    "render_qr_png",
    "token_to_qr_digits",
    "verify_webhook",
]
