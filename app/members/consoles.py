"""What members do for their partner's business, with their own sign-in (``/v1/partners/{partner_id}/…``):
a bank's officers work its 信易贷 referrals, a merchant's managers read its scans and rentals, a data
provider's staff send records and follow objections to them.

Each call answers with the very function the partner's key route uses (one service call, one shape); the
role it needs is app.members.permissions, and the member is the audited actor."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.core import edge
from app.core.dates import DateRangeDep
from app.core.db import SessionDep
from app.core.idempotency import AppRoute, IdempotencyDep, IdempotencyRequiredDep
from app.core.pagination import Page, PageParamsDep, page_of
from app.deps import CryptoDep
from app.loans.models import ReferralStatus
from app.loans.schemas import BankReferralOut, LoanDecisionIn, OutcomeIn, OutcomeOut, ReportOut
from app.loans.views import (
    REPORT_REFUSALS,
    decision_view,
    outcome_view,
    referral_view,
    referrals_page,
    report_view,
)
from app.members.deps import (
    ObjectionsReader,
    RecordsReader,
    RecordsWriter,
    ReferralsDecider,
    ReferralsReader,
    RentalsReader,
    ReportsReader,
    ScansReader,
)
from app.objections.router import StatusFilter, source_objections_page
from app.objections.schemas import SourceObjectionOut
from app.records import service as records_service
from app.records import uploads
from app.records.router import batch_submitted
from app.records.schemas import RecordBatchIn, RecordBatchOut, RecordBatchSummary
from app.records.views import batch_out
from app.rentals import stats as rental_stats
from app.rentals.router import OverdueQuery, StatusQuery, rentals_page
from app.rentals.schemas import RentalOut
from app.scenarios.catalog import CatalogDep
from app.verifications import stats as scan_stats

router = APIRouter(route_class=AppRoute, tags=["partner members"])
_P = "/v1/partners/{partner_id}"


# --- banks: 信易贷 referrals ---------------------------------------------------------------------------------


@router.get(_P + "/referrals")
def list_referrals(
    member: ReferralsReader, session: SessionDep, page: PageParamsDep, status: ReferralStatus | None = None
) -> Page[BankReferralOut]:
    """Your bank's referrals, newest first, each with its decision and repayment outcomes."""
    return referrals_page(session, member, page, status)


@router.get(_P + "/referrals/{referral_id}")
def get_referral(referral_id: str, member: ReferralsReader, session: SessionDep) -> BankReferralOut:
    return referral_view(session, member, referral_id)


@router.get(_P + "/referrals/{referral_id}/report", responses=REPORT_REFUSALS)
def get_report(referral_id: str, member: ReportsReader, session: SessionDep) -> ReportOut:
    """The enterprise's credit report while its consent is valid (``consent_expires_at``): 403
    ``consent_withdrawn`` / ``consent_expired`` after. Each fetch is on the enterprise's audit log, naming you."""
    return report_view(session, member, referral_id)


@router.post(_P + "/referrals/{referral_id}/decision")
def post_decision(
    referral_id: str,
    body: LoanDecisionIn,
    member: ReferralsDecider,
    idem: IdempotencyDep,
    session: SessionDep,
) -> BankReferralOut:
    """Approve (amount_fen, annual_rate_bps, term_months) or decline (a documented reason code), once."""
    return decision_view(session, member, referral_id, body)


@router.post(_P + "/referrals/{referral_id}/outcomes", status_code=201)
def post_outcome(
    referral_id: str,
    body: OutcomeIn,
    member: ReferralsDecider,
    idem: IdempotencyDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> OutcomeOut:
    """A repayment outcome of an approved loan: it becomes a record and the enterprise is rescored."""
    return outcome_view(session, crypto, member, referral_id, body)


# --- partners that verify passes: scans; merchants: rentals -------------------------------------------------


@router.get(_P + "/scan-statistics")
def scan_statistics(
    member: ScansReader, session: SessionDep, catalog: CatalogDep, days: DateRangeDep
) -> scan_stats.PartnerScanStatisticsOut:
    """Your scans per business day (China) and the eligible rate per scenario, ``from``–``to`` (default:
    the last 30 days; at most 366)."""
    return scan_stats.for_partner(session, catalog, member.id, days)


@router.get(_P + "/rentals")
def list_rentals(
    member: RentalsReader,
    session: SessionDep,
    crypto: CryptoDep,
    page: PageParamsDep,
    status: StatusQuery = None,
    overdue: OverdueQuery = False,
) -> Page[RentalOut]:
    """Your rentals, newest first: ``status`` (open, default_reported, disputed, defaulted, …) or
    ``overdue=true`` (open past their due time)."""
    return rentals_page(session, crypto.hasher, member, page, status, overdue)


@router.get(_P + "/rental-statistics")
def rental_statistics(
    member: RentalsReader, session: SessionDep, days: DateRangeDep
) -> rental_stats.RentalStatisticsOut:
    """Rentals opened ``from``–``to`` (business dates, China) by status, overdue now, and the default rate."""
    return rental_stats.for_partner(session, member.id, days)


# --- data providers: records and objections -----------------------------------------------------------------


@router.post(
    _P + "/record-batches",
    status_code=201,
    openapi_extra=edge.json_body_doc(RecordBatchIn) | edge.max_body(edge.RECORD_BATCH_MAX_BODY),
)
async def submit_batch(
    request: Request,
    member: RecordsWriter,
    idem: IdempotencyRequiredDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> RecordBatchOut:
    """Records or list entries, as ``POST /v1/records/batches`` takes them: each refused row is reported
    (row, field, code) and the others land."""
    return await batch_submitted(request, session, crypto, member)


@router.post(_P + "/record-files", status_code=201, openapi_extra=uploads.OPENAPI)
async def submit_file(
    request: Request,
    member: RecordsWriter,
    idem: IdempotencyRequiredDep,
    session: SessionDep,
    crypto: CryptoDep,
) -> RecordBatchOut:
    """A record file, as ``POST /v1/records/files`` takes it (multipart ``file``, ``encoding``): a file
    that cannot be read is refused whole (``file_refused``); otherwise refused rows are listed."""
    return await uploads.file_submitted(request, session, crypto, member)


@router.get(_P + "/record-batches")
def list_batches(member: RecordsReader, session: SessionDep, page: PageParamsDep) -> Page[RecordBatchSummary]:
    """Your batches and file import runs, newest first, in counts."""
    return page_of(records_service.batches(session, page, source=member.id), batch_out)


@router.get(_P + "/objections")
def list_objections(
    member: ObjectionsReader, session: SessionDep, page: PageParamsDep, status: StatusFilter = None
) -> Page[SourceObjectionOut]:
    """Objections to your records and their outcomes, newest first; each one listed is recorded in its
    subject's access log."""
    return source_objections_page(session, member, page, status)
