"""``xinyi-partner``: verify a pass from the command line, run the reference kiosk, refresh the caches.

    xinyi-partner verify qr.png [--scenario S] [--base-url URL] [--cache-dir DIR]      # offline (default)
    xinyi-partner verify qr.png --online --base-url URL [--api-key xyk_…]              # online
    xinyi-partner decode qr.png                                                        # print the token
    xinyi-partner refresh --base-url URL [--cache-dir DIR]                             # JWKS + deny list
    xinyi-partner kiosk qr.png … [--offline] [--sync] --base-url URL --state-dir DIR   # reference kiosk

The API key is best given as ``$XINYI_API_KEY`` (command lines end up in shell histories); the base URL
may come from ``$XINYI_BASE_URL`` and the cache directory from ``$XINYI_PARTNER_CACHE``.

Exit status: 0 accepted / eligible; 1 refused / not eligible; 2 usage or unreadable image; 3 the offline
check could not decide (online check required); 4 API or network error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from xinyi_partner import __version__
from xinyi_partner.errors import APIConnectionError, APIError, HandleAlreadyUsed, QrDecodeError, XinyiError
from xinyi_partner.kiosk import add_kiosk_arguments, run_kiosk
from xinyi_partner.offline import OfflineVerifier
from xinyi_partner.offline_queue import OfflineQueue
from xinyi_partner.online import PartnerClient
from xinyi_partner.results import OfflineResult

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNDECIDED, EXIT_API = 0, 1, 2, 3, 4


def _default_cache_dir() -> Path:
    env = os.environ.get("XINYI_PARTNER_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "xinyi-partner"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xinyi-partner", description="信易+ partner kit")
    parser.add_argument("--version", action="version", version=f"xinyi-partner {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    verify = commands.add_parser("verify", help="verify a QR image (offline by default)")
    verify.add_argument("image", help="QR image (PNG/JPEG), or '-' to read a token from stdin")
    verify.add_argument("--scenario", default="deposit_free_rental")
    verify.add_argument("--online", action="store_true", help="ask the platform (needs an API key)")
    verify.add_argument("--base-url", default=os.environ.get("XINYI_BASE_URL"))
    verify.add_argument("--api-key", default=os.environ.get("XINYI_API_KEY"), help="default: $XINYI_API_KEY")
    verify.add_argument("--cache-dir", type=Path, default=None, help="key set and deny list cache")
    verify.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where accepted offline codes are recorded (default: the cache dir; `kiosk --sync` reports them)",
    )
    verify.add_argument("--allow-stale-deny-list", action="store_true")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")

    decode = commands.add_parser("decode", help="print the token held by a QR image")
    decode.add_argument("image")

    refresh = commands.add_parser("refresh", help="fetch the key set and deny list into the cache")
    refresh.add_argument("--base-url", default=os.environ.get("XINYI_BASE_URL"))
    refresh.add_argument("--cache-dir", type=Path, default=None)

    kiosk = commands.add_parser("kiosk", help="run the reference power-bank kiosk on QR images")
    add_kiosk_arguments(kiosk)
    return parser


BASE_URL_HINT = (
    "set the platform's address with --base-url URL or the environment variable XINYI_BASE_URL "
    "(e.g. export XINYI_BASE_URL=https://xinyi.example.gov.cn)"
)


class MissingExtra(Exception):
    """Reading a QR image needs the optional [qr] dependencies."""


def _read_token(image: str) -> str:
    if image == "-":
        from xinyi_partner.qr import qr_text_to_token

        return qr_text_to_token(sys.stdin.read())
    try:
        import PIL  # noqa: F401
        import zxingcpp  # noqa: F401
    except ImportError as exc:
        raise MissingExtra(
            f"reading a QR image needs the [qr] extra ({exc.name} is not installed): "
            "pip install 'xinyi-partner[qr]' — or pass the token or the QR's digits on stdin: "
            "xinyi-partner verify - < token.txt"
        ) from None
    from xinyi_partner.qr import decode_qr_image

    return decode_qr_image(image)


def _verify(args: argparse.Namespace) -> int:
    token = _read_token(args.image)
    if args.online:
        if not args.base_url:
            print(f"error: --online needs the platform's address: {BASE_URL_HINT}", file=sys.stderr)
            return EXIT_USAGE
        if not args.api_key:
            print("error: --online needs an API key: export XINYI_API_KEY=xyk_…", file=sys.stderr)
            return EXIT_USAGE
        with PartnerClient(args.base_url, args.api_key) as client:
            online = client.verify(token, args.scenario)
        if args.json:
            body = {k: v for k, v in asdict(online).items() if k != "raw"}
            body["expires_at"] = online.expires_at.isoformat() if online.expires_at else None
            print(json.dumps(body, ensure_ascii=False, default=str))
        else:
            print(
                f"{online.decision} ({online.reason or '-'}) for {online.scenario}: "
                f"verification {online.id}, benefit {json.dumps(online.benefit, ensure_ascii=False)}, "
                f"subject {online.subject}"
            )
        return EXIT_OK if online.eligible else EXIT_REFUSED
    cache_dir = args.cache_dir or _default_cache_dir()
    with OfflineVerifier(
        args.base_url, cache_dir=cache_dir, allow_stale_deny_list=args.allow_stale_deny_list
    ) as verifier:
        result = verifier.verify(token, args.scenario)
    if result.accepted:
        result = _record_use(args.state_dir or cache_dir, token, result)
    if args.json:
        print(json.dumps(asdict(result), ensure_ascii=False))
    elif result.accepted:
        stale = " (deny list stale)" if result.deny_list_stale else ""
        print(
            f"accepted: valid offline code for {result.scenario}, handle {result.handle}, "
            f"expires {result.expires_at_datetime:%Y-%m-%d %H:%M:%SZ}, deny list v{result.deny_list_version}{stale}"
        )
    else:
        print(f"{result.decision} ({result.code}): {result.message}")
    if not args.base_url and result.decision not in {"accepted", "refused"}:
        print(f"hint: only the cache in {cache_dir} was used; {BASE_URL_HINT}", file=sys.stderr)
    return {"accepted": EXIT_OK, "refused": EXIT_REFUSED}.get(result.decision, EXIT_UNDECIDED)


def _record_use(state_dir: Path, token: str, result: OfflineResult) -> OfflineResult:
    """A single-use code accepted here is recorded, so a second showing is refused on this device (as the
    kiosk does) and the use can be reported to the platform (`xinyi-partner kiosk --sync`)."""
    with OfflineQueue(state_dir / "offline-uses.sqlite3") as queue:
        try:
            queue.record(token, result)
        except HandleAlreadyUsed as exc:
            return replace(result, decision="refused", code=exc.code, message=exc.message)
    return result


def _refresh(args: argparse.Namespace) -> int:
    if not args.base_url:
        print(f"error: refresh fetches from the platform: {BASE_URL_HINT}", file=sys.stderr)
        return EXIT_USAGE
    with OfflineVerifier(args.base_url, cache_dir=args.cache_dir or _default_cache_dir()) as verifier:
        deny_list = verifier.refresh()
        kids = ", ".join(sorted(verifier.keys.kids))
    print(f"keys: {kids}; deny list v{deny_list.version}, {len(deny_list.hashes)} entries")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "verify":
            return _verify(args)
        if args.command == "decode":
            print(_read_token(args.image))
            return EXIT_OK
        if args.command == "refresh":
            return _refresh(args)
        return run_kiosk(args)
    except MissingExtra as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except QrDecodeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (APIError, APIConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_API
    except XinyiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNDECIDED


if __name__ == "__main__":
    sys.exit(main())
