"""``xinyi demo rights``: after ``demo load``, the subject-rights story played through the services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.accounts.models import User
from app.core.clock import business_date
from app.core.config import Settings
from app.core.principal import Principal
from app.core.security import Crypto
from app.records import service as records_service
from app.records.catalog import RecordStatus
from app.records.models import CreditRecord
from demo.city import residents, staff

DEMO_EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass
class RightsStory:
    lines: list[str]


def _user(session: Session, crypto: Crypto, phone: str) -> User:
    return session.exec(select(User).where(User.phone_hash == crypto.phone_hash(phone))).one()


def _demo_record(session: Session, source_record_id: str) -> CreditRecord:
    record_id = session.exec(
        select(CreditRecord.id).where(CreditRecord.source_record_id == source_record_id)
    ).one()
    return records_service.get_record(session, record_id)


def rights_story(session: Session, crypto: Crypto, settings: Settings) -> RightsStory:
    """Play issue 7's "done when" through the services, as the API would: 王芳 objects to the penalty
    recorded against her by mistake (disputed at once), an operator upholds it (her score rises in the same
    transaction); 李娜 applies for repair of her general penalty and, on approval, is eligible for
    deposit-free rental again. Run after ``demo load``; a second run finds the story told and says so."""
    from app.evidence import service as evidence_service
    from app.objections import service as objections_service
    from app.repairs import commitment as commitments
    from app.repairs import service as repairs_service
    from app.scenarios import service as scenarios_service
    from app.scenarios.catalog import load_catalog
    from app.scoring import service as scoring_service

    lines: list[str] = []
    today = business_date()
    store = evidence_service.store_for(settings)
    operator_user = _user(session, crypto, staff()[0][0])
    operator = Principal(type="user", id=operator_user.id, roles=frozenset(operator_user.roles))

    def as_principal(user: User) -> Principal:
        return Principal(type="user", id=user.id, subject_id=user.subject_id)

    def score(subject_id: str) -> str:
        result = scoring_service.current_score(session, subject_id).result
        return f"{result.score} ({result.level})"

    wang = _user(session, crypto, residents()[2].phone)
    wrong = _demo_record(session, "demo-penalty-2")
    if wrong.status == RecordStatus.active:
        resident = as_principal(wang)
        proof = evidence_service.upload(
            session, store, settings, resident, purpose="objection", file_name="经营场所租赁合同.pdf",
            chunks=[DEMO_EVIDENCE_PDF],
        )  # fmt: skip
        objection = objections_service.file(
            session, settings, resident, record_id=wrong.id,
            reason="该占道经营处罚的当事人并非本人，本人名下无经营场所。", evidence_ids=[proof.id], today=today,
        )  # fmt: skip
        disputed = records_service.get_record(session, wrong.id).status
        lines.append(
            f"王芳 objects to {wrong.id}: record is now {disputed}; score {score(wang.subject_id or '')}"
        )
        answered = objections_service.answer(
            session, operator, objection.id, decision="upheld", resolution="withdrawn",
            answer_text="经市场监管部门核实，当事人登记错误，该记录予以撤销。", changes=None, today=today,
        )  # fmt: skip
        lines.append(
            f"operator upholds {objection.id}: record {answered.record.status}; score "
            f"{answered.score_before} ({answered.level_before}) -> {answered.score_after} ({answered.level_after})"
        )
    else:
        lines.append(f"王芳's objection was already answered: record {wrong.id} is {wrong.status}")

    li = _user(session, crypto, residents()[1].phone)
    penalty = _demo_record(session, "demo-penalty-1")
    rental = load_catalog()["deposit_free_rental"]

    def eligible() -> bool:
        return scenarios_service.evaluate(
            rental, scenarios_service.subject_standing(session, li.subject_id or "")
        ).eligible

    if penalty.status == RecordStatus.active:
        resident = as_principal(li)
        lines.append(
            f"李娜 before repair: score {score(li.subject_id or '')}, deposit-free rental: {eligible()}"
        )
        proof = evidence_service.upload(
            session, store, settings, resident, purpose="repair", file_name="罚款缴纳凭证.pdf",
            chunks=[DEMO_EVIDENCE_PDF],
        )  # fmt: skip
        application = repairs_service.apply(
            session, settings, resident, record_id=penalty.id,
            correction_statement="已缴纳罚款并按规定明码标价，整改完毕。", evidence_ids=[proof.id],
            commitment_version=commitments.CURRENT_VERSION, signed_name=residents()[1].name, accepted=True,
            today=today,
        )  # fmt: skip
        decided = repairs_service.decide(
            session, operator, application.id, decision="approved", reasons=None, today=today
        )
        lines.append(
            f"operator approves repair {application.id} (due {application.decision_due_on}): record "
            f"{decided.record.status}; score {decided.score_before} ({decided.level_before}) -> "
            f"{decided.score_after} ({decided.level_after}); deposit-free rental: {eligible()}"
        )
    else:
        lines.append(f"李娜's repair was already decided: record {penalty.id} is {penalty.status}")
    lines.append("Both see it all in GET /v1/me/report?format=html (signed in as 13800000003 / 13800000002).")
    session.flush()
    return RightsStory(lines)
