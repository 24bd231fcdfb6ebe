"""Reference integration: a power-bank rental kiosk (信易租).

What the kiosk does with a scanned QR:

1. decode it (``rescan`` when no pass can be read);
2. verify it online for ``deposit_free_rental``; eligible → rent with the deposit waived, not eligible →
   rent with a real deposit (a resident who does not qualify can still rent);
3. when the platform cannot be reached (connection errors, timeouts, 5xx after the client's retries) and
   the scenario is a low-value one the kiosk may decide offline, verify offline with the cached key set and
   deny list: an accepted offline code → rent deposit-free and queue the use, reported by :meth:`sync`;
   an online-only pass → rent with a deposit;
4. an expired or not-yet-valid pass → ``rescan`` (the app shows a fresh one).

Opening and closing the rental goes through a :class:`RentalBackend`. :class:`PlatformRentals` opens and
returns them on the platform's rentals API (the platform waives the deposit up to the scenario's cap, or
holds it on the resident's card, and a return releases the hold and credits the resident); rentals granted
on an offline code are kept on the device until their use is reported. :class:`LocalRentals` only
records them in memory (an offline-only kiosk, or tests of the decision logic).

Run it: ``python -m xinyi_partner.kiosk qr.png --base-url URL --state-dir DIR`` (API key from
``XINYI_API_KEY``), or ``xinyi-partner kiosk qr.png``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from xinyi_partner._http import HttpClient
from xinyi_partner.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    PermissionDeniedError,
    QrDecodeError,
    ServerError,
)
from xinyi_partner.offline import OfflineVerifier
from xinyi_partner.offline_queue import FlushResult, OfflineQueue
from xinyi_partner.online import PartnerClient
from xinyi_partner.results import OfflineResult, OnlineResult, Rental
from xinyi_partner.tokens import peek_handle

Clock = Callable[[], float]
KioskAction = Literal["rent_deposit_free", "rent_with_deposit", "rescan"]

SCENARIO = "deposit_free_rental"
ITEM_KIND = "power_bank"
DEPOSIT_FEN = 9900  # the typical 99 yuan power-bank deposit, in fen
RESCAN_CODES = frozenset(
    {"token_expired", "token_not_yet_valid", "qr_not_found", "qr_not_a_pass", "qr_unreadable_image"}
)


class RentalBackend(Protocol):
    """Where rentals are opened and closed. Issue 5 brings the platform's rentals API behind this."""

    def open_rental(
        self,
        *,
        scenario: str,
        item_kind: str,
        deposit_fen: int,
        deposit_waived: bool,
        verification_id: str | None,
        offline_handle: str | None,
    ) -> str: ...

    def close_rental(self, rental_id: str) -> None: ...


@dataclass
class LocalRental:
    id: str
    scenario: str
    item_kind: str
    deposit_fen: int
    deposit_waived: bool
    verification_id: str | None
    offline_handle: str | None
    open: bool = True


class LocalRentals:
    """Records rentals in memory only (no rentals API yet)."""

    def __init__(self) -> None:
        self.rentals: dict[str, LocalRental] = {}
        self._ids = itertools.count(1)

    def open_rental(
        self,
        *,
        scenario: str,
        item_kind: str,
        deposit_fen: int,
        deposit_waived: bool,
        verification_id: str | None,
        offline_handle: str | None,
    ) -> str:
        rental_id = f"local_{next(self._ids)}"
        self.rentals[rental_id] = LocalRental(
            rental_id, scenario, item_kind, deposit_fen, deposit_waived, verification_id, offline_handle
        )
        return rental_id

    def close_rental(self, rental_id: str) -> None:
        self.rentals[rental_id].open = False


class PlatformRentals:
    """Rentals on the platform (``/v1/rentals``) through :class:`PartnerClient`.

    The platform decides the split from the verification: ``deposit_fen`` here is the item's deposit,
    whatever the kiosk shows. Rentals granted offline (no verification yet) stay in ``offline``."""

    def __init__(
        self,
        client: PartnerClient,
        *,
        deposit_fen: int = DEPOSIT_FEN,
        rental_seconds: int = 4 * 3600,
        clock: Clock = time.time,
    ) -> None:
        self.client = client
        self.deposit_fen = deposit_fen
        self.rental_seconds = rental_seconds
        self.clock = clock
        self.offline = LocalRentals()
        self.opened: dict[str, Rental] = {}

    def open_rental(
        self,
        *,
        scenario: str,
        item_kind: str,
        deposit_fen: int,
        deposit_waived: bool,
        verification_id: str | None,
        offline_handle: str | None,
    ) -> str:
        if verification_id is None:
            return self.offline.open_rental(
                scenario=scenario,
                item_kind=item_kind,
                deposit_fen=deposit_fen,
                deposit_waived=deposit_waived,
                verification_id=None,
                offline_handle=offline_handle,
            )
        rental = self.client.open_rental(
            verification_id,
            item_kind=item_kind,
            deposit_fen=self.deposit_fen,
            due_at=self.clock() + self.rental_seconds,
            idempotency_key=f"kiosk-open-{verification_id}",
        )
        self.opened[rental.id] = rental
        return rental.id

    def close_rental(self, rental_id: str) -> None:
        if rental_id in self.offline.rentals:
            self.offline.close_rental(rental_id)
            return
        self.opened[rental_id] = self.client.return_rental(
            rental_id, idempotency_key=f"kiosk-return-{rental_id}"
        )


@dataclass(frozen=True)
class KioskOutcome:
    action: KioskAction
    via: Literal["online", "offline", "none"]
    message: str
    code: str | None = None
    deposit_fen: int = 0
    rental_id: str | None = None
    verification_id: str | None = None
    online: OnlineResult | None = field(default=None, repr=False)
    offline: OfflineResult | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "via": self.via,
            "message": self.message,
            "code": self.code,
            "deposit_fen": self.deposit_fen,
            "rental_id": self.rental_id,
            "verification_id": self.verification_id,
            "online": _jsonable(asdict(self.online)) if self.online else None,
            "offline": asdict(self.offline) if self.offline else None,
        }


class PowerBankKiosk:
    def __init__(
        self,
        verifier: OfflineVerifier,
        queue: OfflineQueue,
        client: PartnerClient | None = None,
        *,
        rentals: RentalBackend | None = None,
        scenario: str = SCENARIO,
        item_kind: str = ITEM_KIND,
        deposit_fen: int = DEPOSIT_FEN,
        offline_fallback: bool = True,
    ) -> None:
        self.verifier = verifier
        self.queue = queue
        self.client = client
        self.rentals: RentalBackend = rentals if rentals is not None else LocalRentals()
        self.scenario = scenario
        self.item_kind = item_kind
        self.deposit_fen = deposit_fen
        self.offline_fallback = offline_fallback
        if verifier.used_handles is None:
            verifier.used_handles = queue

    @classmethod
    def create(
        cls,
        state_dir: str | Path,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        http: HttpClient | None = None,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 5.0,
        max_attempts: int = 2,
        platform_rentals: bool = False,
        **options: Any,
    ) -> PowerBankKiosk:
        """A kiosk keeping its key set, deny list and offline queue under ``state_dir``. Without
        ``api_key`` it only verifies offline. ``platform_rentals``: open and return rentals on the
        platform's rentals API (needs ``api_key``)."""
        state = Path(state_dir)
        queue = OfflineQueue(state / "offline-uses.sqlite3", clock=clock)
        verifier = OfflineVerifier(
            base_url, http=http, clock=clock, cache_dir=state, used_handles=queue, timeout=timeout
        )
        client = None
        if base_url and api_key:
            client = PartnerClient(
                base_url, api_key, http=http, timeout=timeout, max_attempts=max_attempts, sleep=sleep
            )
        if platform_rentals and client is not None and "rentals" not in options:
            options["rentals"] = PlatformRentals(
                client, deposit_fen=options.get("deposit_fen", DEPOSIT_FEN), clock=clock
            )
        return cls(verifier, queue, client, **options)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.verifier.close()
        self.queue.close()

    # --- the scan ------------------------------------------------------------------------------------------

    def scan(self, image: Any) -> KioskOutcome:
        """A QR image (path, PNG bytes or PIL image) → what the kiosk does."""
        try:
            from xinyi_partner.qr import decode_qr_image

            token = decode_qr_image(image)
        except QrDecodeError as exc:
            return KioskOutcome("rescan", "none", "Could not read a 信易+ pass: please scan again.", exc.code)
        return self.handle_token(token)

    def handle_token(self, token: str) -> KioskOutcome:
        if self.client is None:
            return self._offline(token, reason="This kiosk verifies offline only.")
        handle = peek_handle(token)
        if handle is not None and self.queue.has_used(handle):
            # Accepted offline here and maybe not reported yet: the platform may not know it is used.
            return self._not_waived("none", "token_replayed", "This single-use code was already used here.")
        try:
            result = self.client.verify(token, self.scenario)
        except (APIConnectionError, ServerError) as exc:
            return self._offline(token, reason=f"The platform is unreachable ({exc.code}).")
        except (AuthenticationError, PermissionDeniedError):
            raise  # the kiosk is misconfigured (key revoked, scenario not open to it): an operator must act
        except APIError as exc:
            return self._not_waived("online", exc.code, exc.message)
        if result.eligible:
            rental_id = self._open(deposit_waived=True, verification_id=result.id)
            return KioskOutcome(
                "rent_deposit_free",
                "online",
                "Eligible: power bank released, deposit waived.",
                result.reason,
                0,
                rental_id,
                result.id,
                online=result,
            )
        return self._not_waived("online", result.reason, "Not eligible for a waived deposit.", online=result)

    def open_with_deposit(self, outcome: KioskOutcome) -> str:
        """The resident accepted to rent with a deposit: open that rental. With :class:`PlatformRentals`
        the platform holds the deposit on the resident's card (released on return)."""
        if outcome.action != "rent_with_deposit":
            raise ValueError("only a rent_with_deposit outcome opens a rental with a deposit")
        return self._open(deposit_waived=False, verification_id=outcome.verification_id)

    def return_item(self, rental_id: str) -> None:
        """The power bank came back: close the rental (on the platform: hold released, and a positive
        record for the resident when on time)."""
        self.rentals.close_rental(rental_id)

    def sync(self) -> FlushResult | None:
        """Back online: report the queued offline uses, then refresh the key set and deny list. Returns
        None when there is no client (offline-only kiosk). Raises if the platform is still unreachable."""
        if self.client is None:
            return None
        flushed = self.queue.flush(self.client)
        self.verifier.refresh()
        return flushed

    # --- helpers -----------------------------------------------------------------------------------------

    def _offline(self, token: str, *, reason: str) -> KioskOutcome:
        if not self.offline_fallback:
            return self._not_waived("none", "offline_fallback_disabled", reason)
        result = self.verifier.verify(token, self.scenario)
        if result.accepted:
            self.queue.record(token, result)
            rental_id = self._open(deposit_waived=True, offline_handle=result.handle)
            return KioskOutcome(
                "rent_deposit_free",
                "offline",
                f"{reason} Valid offline code: power bank released, deposit waived; use queued for report.",
                None,
                0,
                rental_id,
                offline=result,
            )
        return self._not_waived("offline", result.code, f"{reason} {result.message}", offline=result)

    def _not_waived(
        self,
        via: Literal["online", "offline", "none"],
        code: str | None,
        message: str,
        *,
        online: OnlineResult | None = None,
        offline: OfflineResult | None = None,
    ) -> KioskOutcome:
        if code in RESCAN_CODES:
            return KioskOutcome(
                "rescan",
                via,
                f"{message} Please show the current code.",
                code,
                online=online,
                offline=offline,
            )
        return KioskOutcome(
            "rent_with_deposit",
            via,
            f"{message} Rent with a {self.deposit_fen / 100:.2f} yuan deposit.",
            code,
            self.deposit_fen,
            None,
            online.id if online else None,
            online=online,
            offline=offline,
        )

    def _open(
        self, *, deposit_waived: bool, verification_id: str | None = None, offline_handle: str | None = None
    ) -> str:
        return self.rentals.open_rental(
            scenario=self.scenario,
            item_kind=self.item_kind,
            deposit_fen=0 if deposit_waived else self.deposit_fen,
            deposit_waived=deposit_waived,
            verification_id=verification_id,
            offline_handle=offline_handle,
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k != "raw"}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def run(argv: Sequence[str] | None = None) -> int:
    """``python -m xinyi_partner.kiosk``: scan each image, print one JSON line per outcome."""
    parser = argparse.ArgumentParser(prog="xinyi-partner kiosk", description="Reference power-bank kiosk.")
    add_kiosk_arguments(parser)
    return run_kiosk(parser.parse_args(argv))


def add_kiosk_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="*", type=Path, help="QR images to scan, one rental each")
    parser.add_argument("--base-url", default=os.environ.get("XINYI_BASE_URL"))
    parser.add_argument("--api-key", default=os.environ.get("XINYI_API_KEY"), help="default: $XINYI_API_KEY")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("XINYI_KIOSK_STATE", "./kiosk-state")),
        help="key set, deny list and offline queue (default: $XINYI_KIOSK_STATE or ./kiosk-state)",
    )
    parser.add_argument("--offline", action="store_true", help="do not call the verification API")
    parser.add_argument("--scenario", default=SCENARIO)
    parser.add_argument("--deposit-fen", type=int, default=DEPOSIT_FEN)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--sync", action="store_true", help="report queued offline uses and refresh caches")
    parser.add_argument(
        "--local-rentals", action="store_true", help="record rentals on the device only, not on the platform"
    )


def run_kiosk(args: argparse.Namespace) -> int:
    kiosk = PowerBankKiosk.create(
        args.state_dir,
        base_url=args.base_url,
        api_key=None if args.offline else args.api_key,
        timeout=args.timeout,
        scenario=args.scenario,
        deposit_fen=args.deposit_fen,
        platform_rentals=not args.local_rentals,
    )
    try:
        for image in args.images:
            outcome = kiosk.scan(image)
            print(json.dumps({"image": str(image), **outcome.to_dict()}, ensure_ascii=False))
        if args.sync:
            flushed = kiosk.sync()
            reported = flushed.reported if flushed else 0
            print(json.dumps({"sync": {"reported": reported}}))
    except APIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    except APIConnectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    finally:
        kiosk.close()
    return 0


if __name__ == "__main__":
    sys.exit(run())
