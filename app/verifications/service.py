"""Verifying a pass for a partner, and recording every scan where its subject can see it.

The online check runs five steps in this order; the first three refuse with a problem and change
nothing, the last two give a recorded, audited decision:

1. the token: ``alg`` EdDSA, a published ``kid``, the signature, ``exp``/``nbf`` within the leeway;
2. the scenario exists and this partner's kind may verify it;
3. the handle is claimed atomically in the store (``SET pass:<handle> NX`` until ``exp`` + leeway): of
   any number of concurrent scans of one token exactly one gets past here. Keyed on the handle, never on
   the token bytes, so a re-encoded token is the same pass;
4. the pass is not revoked and its subject is not black-listed *now*;
5. the scenario's rule on the subject's *current* level.

The partner learns the decision, a reason code, the benefit and a pairwise pseudonym of the subject
(stable for this partner, unlinkable across partners), never the score, level, name or ID number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.errors import Forbidden, InvalidInput
from app.core.ids import new_id
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.core.security import Hasher
from app.core.store import Delete, Get, KeyValueStoreOnLoop, Operation, SetIfAbsent
from app.passes import service as passes_service
from app.passes import tokens
from app.passes.tokens import PassClaims, TokenRefused
from app.scenarios import service as scenarios_service
from app.scenarios.catalog import Catalog
from app.scenarios.schemas import Scenario
from app.scenarios.service import Evaluation
from app.signing.keyring import Keyring
from app.verifications.models import ONLINE_PASS_UNIQUE, Verification

LEGAL_BASIS = "the resident presented the pass (主体出示信用码)"
ONLINE_ACTION = "pass.verified"
OFFLINE_ACTION = "pass.used_offline"
_FLAGGED_REVIEW = audit_service.Grounds(
    "review of offline codes used more than once", audit_service.SUPERVISION
)
_ID_COLUMN = cast(InstrumentedAttribute[str], Verification.id)


def pseudonym(hasher: Hasher, partner_id: str, subject_id: str) -> str:
    """``psn_`` + 128 bits of a keyed hash over (partner, subject): the same for every scan by one
    partner, different for every other partner, and no partner can compute another's."""
    return "psn_" + hasher.keyed(f"{partner_id}:{subject_id}", "pairwise_pseudonym")[:32]


def scenario_for(catalog: Catalog, partner: Principal, scenario_id: str) -> Scenario:
    scenario = catalog.get(scenario_id)
    if scenario is None:
        raise InvalidInput(
            "No scenario with this id (see GET /v1/scenarios).", code="unknown_scenario", param="scenario"
        )
    if partner.partner_kind not in scenario.partner_kinds:
        raise Forbidden(
            f"A {partner.partner_kind} partner may not verify passes for {scenario.id}.",
            code="scenario_not_allowed_for_partner",
            param="scenario",
        )
    return scenario


def record(
    session: Session,
    partner: Principal,
    *,
    subject_id: str,
    pass_id: str,
    scenario: Scenario,
    evaluation: Evaluation,
    mode: str,
    now: datetime,
    used_at: datetime | None = None,
    flagged: bool = False,
) -> Verification:
    """Store the decision and write it to the subject's audit chain (actor: the partner; purpose: the
    scenario; legal basis: the resident's presentation of the pass), in the caller's transaction. The
    row is flushed at once: a second online use of one pass fails here, on the unique index."""
    verification = Verification(
        id=new_id("ver"),
        mode=mode,
        partner_id=partner.id,
        subject_id=subject_id,
        pass_id=pass_id,
        scenario=scenario.id,
        decision=evaluation.decision,
        reason=evaluation.reason,
        benefit=evaluation.benefit,
        created_at=now,
        expires_at=now + timedelta(seconds=scenario.decision_ttl_seconds),
        used_at=used_at,
        flagged=flagged,
    )
    session.add(verification)
    session.flush()
    details = {
        "verification_id": verification.id,
        "scenario": scenario.id,
        "decision": evaluation.decision,
        "reason": evaluation.reason,
    }
    action = ONLINE_ACTION if mode == "online" else OFFLINE_ACTION
    audit_service.Grounds(scenario.id, LEGAL_BASIS).record(
        session, partner, action, details, subject_id=subject_id
    )
    return verification


def is_second_use(exc: IntegrityError) -> bool:
    """The database refused a second online verification of one pass (its store claim was lost)."""
    message = str(exc.orig)
    return ONLINE_PASS_UNIQUE in message or "verifications.pass_id" in message


def _replayed() -> TokenRefused:
    return TokenRefused(
        "This pass was already scanned; ask for a fresh QR code.", "token_replayed", status=409
    )


@dataclass(frozen=True)
class Scan:
    """A token that passed steps 1 and 2, and what claiming its handle takes (step 3)."""

    claims: PassClaims
    scenario: Scenario
    now: datetime
    claim_key: str  # ``pass:<handle>``, held until ``exp`` + leeway
    pass_id: str  # an online pass's id; "" for an offline code
    record_key: str  # where the store holds an online pass; "" for an offline code

    def claim(self, partner: Principal) -> list[Operation]:
        """Claim the handle and, in the same round trip, read an online pass's record (wasted only when
        the claim fails)."""
        ttl = max(1, self.claims.expires + tokens.LEEWAY_SECONDS - int(self.now.timestamp()))
        operations: list[Operation] = [SetIfAbsent(self.claim_key, partner.id, ttl)]
        if self.record_key:
            operations.append(Get(self.record_key))
        return operations

    def claimed(self, results: list[Any]) -> passes_service.OnlinePass | None:
        """The online pass behind a won claim (None for an offline code). A lost claim is a replay; a
        pass the store does not know is refused, and its claim must be given back."""
        if not results[0]:
            raise _replayed()
        if not self.record_key:
            return None
        online = passes_service.parse_online(self.pass_id, results[1])
        if online is None:
            raise TokenRefused("This pass is unknown; ask for a fresh QR code.", "pass_not_found")
        return online


def scan_of(hasher: Hasher, claims: PassClaims, scenario: Scenario, now: datetime) -> Scan:
    """What claiming a token's handle takes, once its scenario is checked against the token's own."""
    if claims.scenario is not None and claims.scenario != scenario.id:
        raise TokenRefused(
            f"This offline code is for {claims.scenario}, not {scenario.id}.", "token_scenario_mismatch"
        )
    pass_id, record_key = (
        ("", "") if claims.offline else passes_service.online_record_key(hasher, claims.handle)
    )
    return Scan(claims, scenario, now, f"pass:{claims.handle}", pass_id, record_key)


def _holder(
    session: Session, online: passes_service.OnlinePass | None, claims: PassClaims, now: datetime
) -> tuple[str, str, bool]:
    """(subject id, pass id, revoked) of the pass behind a claimed handle."""
    if online is not None:
        return online.subject_id, online.id, online.revoked
    code = passes_service.by_handle(session, claims.handle)
    if code is None:
        raise TokenRefused("This offline code is unknown.", "pass_not_found")
    if not passes_service.mark_used(session, code, now):
        raise TokenRefused("This offline code was already used.", "token_replayed", status=409)
    return code.subject_id, code.id, code.revoked_at is not None


def decide(
    session: Session, partner: Principal, scan: Scan, online: passes_service.OnlinePass | None
) -> Verification:
    """Steps 4 and 5 for a claimed handle: the decision, recorded and audited in the caller's
    transaction."""
    subject_id, pass_id, revoked = _holder(session, online, scan.claims, scan.now)
    if revoked:
        evaluation = scenarios_service.revoked()
    else:
        evaluation = scenarios_service.evaluate(
            scan.scenario, scenarios_service.subject_standing(session, subject_id)
        )
    try:
        return record(
            session,
            partner,
            subject_id=subject_id,
            pass_id=pass_id,
            scenario=scan.scenario,
            evaluation=evaluation,
            mode="offline" if scan.claims.offline else "online",
            now=scan.now,
        )
    except IntegrityError as exc:
        # The store's claim of the handle was lost (evicted, a failover): the database's unique index on
        # the online pass's verification still holds single use.
        if not is_second_use(exc):
            raise
        raise _replayed() from None


async def verify(
    session: AsyncSession,
    store: KeyValueStoreOnLoop,
    keyring: Keyring,
    hasher: Hasher,
    catalog: Catalog,
    partner: Principal,
    token: str,
    scenario_id: str,
    now: datetime | None = None,
) -> Verification:
    """The five steps of the module's docstring, in the request's transaction: the database's steps in
    its session, the store's awaited on the loop. A refusal after the handle's claim gives the claim back
    (the pass may be scanned again), except a replay."""
    now = now or utcnow()
    # (``run_sync`` is annotated with SQLAlchemy's Session; SQLModel's AsyncSession hands ``fn`` its own.)
    claims = await session.run_sync(tokens.read, keyring, token, now)  # type: ignore[arg-type]
    scan = scan_of(hasher, claims, scenario_for(catalog, partner, scenario_id), now)
    results = await store.batch(scan.claim(partner))
    try:
        online = scan.claimed(results)
        return await session.run_sync(decide, partner, scan, online)  # type: ignore[arg-type]
    except TokenRefused as refused:
        if refused.code != "token_replayed":
            await _give_back(store, scan)
        raise
    except BaseException:
        await _give_back(store, scan)  # nothing was decided
        raise


async def _give_back(store: KeyValueStoreOnLoop, scan: Scan) -> None:
    with anyio.CancelScope(shield=True):  # a cancelled request still frees the pass
        await store.batch([Delete(scan.claim_key)])


# --- reading ----------------------------------------------------------------------------------------


def list_for_subject(
    session: Session, subject_id: str, params: PageParams
) -> tuple[list[Verification], bool]:
    """Every scan of the subject's passes, newest first."""
    return fetch_page(
        session, select(Verification).where(Verification.subject_id == subject_id), _ID_COLUMN, params
    )


def list_flagged(
    session: Session, reviewer: Principal, params: PageParams
) -> tuple[list[Verification], bool]:
    """Offline codes used more than once, for operators. The read is recorded on the system chain."""
    rows, has_more = fetch_page(session, select(Verification).where(Verification.flagged), _ID_COLUMN, params)
    details = {"starting_after": params.starting_after, "returned": len(rows)}
    _FLAGGED_REVIEW.record(session, reviewer, "verifications.flagged_listed", details)
    return rows, has_more


def since(session: Session, subject_id: str, created_after: datetime) -> list[Verification]:
    """For the live stream: the subject's scans created at or after ``created_after``, oldest first."""
    statement = (
        select(Verification)
        .where(Verification.subject_id == subject_id, col(Verification.created_at) >= created_after)
        .order_by(_ID_COLUMN)
        .limit(100)
    )
    return list(session.exec(statement).all())
