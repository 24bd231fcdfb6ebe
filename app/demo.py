"""Demo data for ``make run``: a small, realistic city. Safe to load again: it finds what exists.

Every identifier is valid (check digits computed, not invented), so the demo exercises the same rules as
production. Partner API keys are stored hashed and cannot be shown again, so each load revokes the
previous demo keys and prints fresh ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.core.clock import add_months, business_date
from app.core.config import Settings
from app.core.principal import Principal
from app.core.security import Crypto
from app.enterprises import service as enterprises_service
from app.enterprises.models import Enterprise
from app.loans import products as loan_products
from app.loans.models import LoanProduct
from app.partners import places
from app.partners import service as partners_service
from app.partners.models import ApiKey, Partner, PartnerKind
from app.records import service as records_service
from app.records.catalog import RecordStatus
from app.records.models import CreditRecord
from app.scenarios.catalog import load_catalog
from app.subjects.identifiers import id_number_check_char, uscc_check_char

DEMO_KEY_NAME = "demo"
LOADER = Principal(type="system", id="demo-loader")


def _id_number(first17: str) -> str:
    return first17 + id_number_check_char(first17)


def _uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


@dataclass(frozen=True)
class DemoResident:
    phone: str
    name: str
    id_number: str
    note: str


RESIDENTS = (
    DemoResident("13800000001", "张伟", _id_number("65010219880512301"), "good record: deposit-free rentals"),
    DemoResident("13800000002", "李娜", _id_number("65010419920817202"), "resident with a penalty on file"),
    DemoResident("13800000003", "王芳", _id_number("65010519850203404"), "admin of a small enterprise"),
)
STAFF = (("13900000001", "operator"), ("13900000002", "auditor"))
ENTERPRISE = ("乌鲁木齐天山小微科技有限公司", _uscc("91650102MA7G8K2Q1"), "13800000003")
PARTNERS = (
    ("天山共享充电宝", PartnerKind.merchant),
    ("乌鲁木齐示范商业银行", PartnerKind.bank),
    ("天山农村商业银行", PartnerKind.bank),
    ("天山区政务服务中心", PartnerKind.government_counter),
    ("乌鲁木齐市市场监督管理局", PartnerKind.data_provider),
)
# Where residents find them (the app's "where can I use it"): public name, district, address, scenarios
PLACES = {
    "天山共享充电宝": ("天山共享充电宝", "天山区", "乌鲁木齐市天山区光明路 39 号", ["deposit_free_rental"]),
    "乌鲁木齐示范商业银行": (
        "示范商业银行 信易贷",
        "沙依巴克区",
        "乌鲁木齐市沙依巴克区友好北路 8 号",
        ["xinyidai"],
    ),
    "天山农村商业银行": ("天山农商银行 信易贷", "天山区", "乌鲁木齐市天山区解放北路 120 号", ["xinyidai"]),
    "天山区政务服务中心": (
        "天山区政务服务中心",
        "天山区",
        "乌鲁木齐市天山区新华南路 56 号",
        ["priority_service"],
    ),
}


def _demo_records(today: date) -> list[dict[str, Any]]:
    """What the market regulator pushes for the demo city, dated relative to today so every demo shows
    the same story: 张伟 has honours and volunteer work; 李娜 has a general administrative penalty past its
    minimum publicity (so she can apply for credit repair) and a breached contract; 王芳 has a minor penalty
    recorded against her by mistake (so she can object to it); the enterprise has a tax grade A. Re-loading sends the same source record ids, so nothing changes the second time."""

    def day(months_ago: int) -> str:
        return add_months(today, -months_ago).isoformat()

    zhang, li, _ = (resident.id_number for resident in RESIDENTS)
    uscc = ENTERPRISE[1]
    return [
        {
            "source_record_id": "demo-honour-1",
            "category": "honour",
            "id_number": zhang,
            "decision_date": day(5),
            "title": "乌鲁木齐市诚信市民",
        },
        {
            "source_record_id": "demo-volunteer-1",
            "category": "volunteer_service",
            "id_number": zhang,
            "decision_date": day(2),
            "title": "社区志愿服务 120 小时",
        },
        {
            "source_record_id": "demo-blood-1",
            "category": "blood_donation",
            "id_number": zhang,
            "decision_date": day(8),
            "title": "无偿献血 400 毫升",
        },
        {
            "source_record_id": "demo-penalty-1",
            "category": "administrative_penalty",
            "id_number": li,
            "severity": "general",
            "decision_date": day(4),
            "conduct_end_date": day(4),
            "title": "未按规定明码标价",
            "legal_basis": "《价格违法行为行政处罚规定》第十三条",
        },
        {
            # Recorded against 王芳 by mistake (the shop belongs to someone else): the demo's objection.
            "source_record_id": "demo-penalty-2",
            "category": "administrative_penalty",
            "id_number": RESIDENTS[2].id_number,
            "severity": "minor",
            "decision_date": day(1),
            "conduct_end_date": day(1),
            "title": "占道经营",
            "legal_basis": "《城市市容和环境卫生管理条例》第十四条",
        },
        {
            "source_record_id": "demo-contract-1",
            "category": "contract_performance",
            "outcome": "breached",
            "severity": "minor",
            "id_number": li,
            "decision_date": day(1),
            "title": "房屋租赁合同逾期付款",
        },
        {
            "source_record_id": "demo-tax-1",
            "category": "tax_credit_rating",
            "grade": "A",
            "uscc": uscc,
            "decision_date": day(6),
            "title": "2025 年度纳税信用 A 级",
        },
        {
            "source_record_id": "demo-registration-1",
            "category": "registration",
            "uscc": uscc,
            "decision_date": day(30),
            "title": "企业设立登记",
        },
    ]


@dataclass
class DemoSummary:
    residents: list[tuple[DemoResident, str]]
    staff: list[tuple[str, str]]
    enterprise: tuple[str, str, str]
    partner_keys: list[tuple[str, str, str, str]]  # name, kind, partner id, secret
    rentals: list[Any] = field(default_factory=list)  # app.rentals.demo.DemoRental


def load(session: Session, crypto: Crypto) -> DemoSummary:
    residents = []
    for resident in RESIDENTS:
        user = accounts_service.get_or_create_user_by_phone(session, crypto, resident.phone)
        if user.subject_id is None:
            accounts_service.bind_identity(session, crypto, user.id, resident.name, resident.id_number)
        residents.append((resident, user.id))

    staff = []
    for phone, role in STAFF:
        user = accounts_service.get_or_create_user_by_phone(session, crypto, phone)
        if role not in user.roles:
            user.roles = sorted({*user.roles, role})
            session.add(user)
        staff.append((phone, role))

    name, uscc, admin_phone = ENTERPRISE
    enterprise = session.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    if enterprise is None:
        admin = session.exec(select(User).where(User.phone_hash == crypto.phone_hash(admin_phone))).one()
        actor = Principal(type="user", id=admin.id, subject_id=admin.subject_id)
        enterprise = enterprises_service.register(session, actor, name, uscc)

    keys = []
    for partner_name, kind in PARTNERS:
        partner = session.exec(select(Partner).where(Partner.name == partner_name)).first()
        if partner is None:
            partner = partners_service.create_partner(session, LOADER, name=partner_name, kind=kind)
        if partner_name in PLACES:
            display_name, district, address, offered = PLACES[partner_name]
            changes = {
                "display_name": display_name,
                "district": district,
                "address": address,
                "offered_scenarios": offered,
            }
            places.set_profile(session, LOADER, partner.id, changes, load_catalog())
        old_keys = select(ApiKey).where(
            ApiKey.partner_id == partner.id, ApiKey.name == DEMO_KEY_NAME, col(ApiKey.revoked_at).is_(None)
        )
        for old in session.exec(old_keys).all():
            partners_service.revoke_api_key(session, LOADER, old.id, partner.id)
        issued = partners_service.create_api_key(session, LOADER, partner.id, name=DEMO_KEY_NAME)
        keys.append((partner_name, kind.value, partner.id, issued.secret))
        if kind is PartnerKind.data_provider:
            provider = Principal(type="partner", id=partner.id, partner_kind=kind.value)
            result = records_service.submit_batch(session, crypto, provider, _demo_records(business_date()))
            if result.errors:  # the demo's own data is wrong: say so rather than load half a story
                raise RuntimeError(
                    f"demo records refused: {[(e.row, e.field, e.code) for e in result.errors]}"
                )
        if kind == PartnerKind.bank:
            _demo_product(session, partner)
    session.flush()
    rentals = _demo_rentals(session, crypto, residents)
    return DemoSummary(residents, staff, (name, uscc, enterprise.id), keys, rentals)


def _demo_rentals(session: Session, crypto: Crypto, residents: list[tuple[DemoResident, str]]) -> list[Any]:
    from app.core.config import get_settings
    from app.rentals import demo as rentals_demo

    merchant = session.exec(select(Partner).where(Partner.name == PARTNERS[0][0])).one()
    users = [session.get(User, user_id) for _, user_id in residents]
    subjects = [
        (r.name, u.subject_id) for (r, _), u in zip(residents, users, strict=True) if u and u.subject_id
    ]
    actor = Principal(type="partner", id=merchant.id, partner_kind=merchant.kind)
    return rentals_demo.load(session, crypto, get_settings(), actor, subjects)


# 信易贷: each demo bank offers one product the demo enterprise (software, 乌鲁木齐, level A with the demo
# records) matches, so an application is referred to both; each bank's own credit policy then approves or
# declines.
DEMO_PRODUCT = {
    "description": "面向小微企业的纯信用流动资金贷款",
    "min_level": "B",
    "min_amount_fen": 10_000_00,
    "max_amount_fen": 3_000_000_00,
    "min_term_months": 6,
    "max_term_months": 36,
    "industries": [],
    "regions": ["65"],
    "active": True,
}


def _demo_product(session: Session, partner: Partner) -> None:
    if session.exec(select(LoanProduct.id).where(LoanProduct.partner_id == partner.id)).first() is not None:
        return
    bank = Principal(type="partner", id=partner.id, partner_kind="bank")
    rates = (385, 600) if partner.name.startswith("乌鲁木齐") else (420, 720)
    loan_products.create(
        session,
        bank,
        {
            **DEMO_PRODUCT,
            "name": f"{partner.name}·小微信用贷",
            "min_rate_bps": rates[0],
            "max_rate_bps": rates[1],
        },
    )


# --- the subject-rights story (``xinyi demo rights``) ---------------------------------------------------

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
    operator_user = _user(session, crypto, STAFF[0][0])
    operator = Principal(type="user", id=operator_user.id, roles=frozenset(operator_user.roles))

    def as_principal(user: User) -> Principal:
        return Principal(type="user", id=user.id, subject_id=user.subject_id)

    def score(subject_id: str) -> str:
        result = scoring_service.current_score(session, subject_id).result
        return f"{result.score} ({result.level})"

    wang = _user(session, crypto, RESIDENTS[2].phone)
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

    li = _user(session, crypto, RESIDENTS[1].phone)
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
            commitment_version=commitments.CURRENT_VERSION, signed_name=RESIDENTS[1].name, accepted=True,
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
