"""Banks publish loan products; anyone may list the active ones."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from app.audit import service as audit_service
from app.core.clock import utcnow
from app.core.errors import InvalidInput, NotFound
from app.core.pagination import PageParams, fetch_page
from app.core.principal import Principal
from app.loans.catalog import INDUSTRIES
from app.loans.models import LoanProduct
from app.partners.models import Partner, PartnerStatus
from app.scenarios.schemas import LEVEL_RANK

_GROUNDS = audit_service.Grounds(
    purpose="信易贷 product catalog", legal_basis="platform operation: partner agreement"
)
FIELDS = (
    "name",
    "description",
    "min_level",
    "min_amount_fen",
    "max_amount_fen",
    "min_term_months",
    "max_term_months",
    "min_rate_bps",
    "max_rate_bps",
    "industries",
    "regions",
    "active",
)


def _check(values: dict[str, Any]) -> None:
    """Cross-field rules (single fields are checked by the schema)."""
    if values["min_level"] not in LEVEL_RANK:
        raise InvalidInput("min_level: one of AAA, AA, A, B, C, D.", code="invalid_level", param="min_level")
    for low, high in (
        ("min_amount_fen", "max_amount_fen"),
        ("min_term_months", "max_term_months"),
        ("min_rate_bps", "max_rate_bps"),
    ):
        if values[low] > values[high]:
            raise InvalidInput(f"{high}: must not be below {low}.", code="invalid_range", param=high)
    unknown = [code for code in values["industries"] if code not in INDUSTRIES]
    if unknown:
        raise InvalidInput(
            "industries: GB/T 4754 section letters A-T.", code="unknown_industry", param="industries"
        )
    if any(not (r.isdigit() and len(r) in (2, 4, 6)) for r in values["regions"]):
        raise InvalidInput(
            "regions: 行政区划 prefixes of 2, 4 or 6 digits (65, 6501, 650102).",
            code="invalid_region",
            param="regions",
        )


def create(session: Session, bank: Principal, values: dict[str, Any]) -> LoanProduct:
    values = {
        **values,
        "industries": sorted(set(values["industries"])),
        "regions": sorted(set(values["regions"])),
    }
    _check(values)
    product = LoanProduct(partner_id=bank.id, **values)
    session.add(product)
    session.flush()
    _audit(session, bank, "loan_product.created", product)
    return product


def update(session: Session, bank: Principal, product_id: str, changes: dict[str, Any]) -> LoanProduct:
    product = get_own(session, bank.id, product_id)
    merged = {name: getattr(product, name) for name in FIELDS} | changes
    merged["industries"] = sorted(set(merged["industries"]))
    merged["regions"] = sorted(set(merged["regions"]))
    _check(merged)
    for name, value in merged.items():
        setattr(product, name, value)
    product.updated_at = utcnow()
    session.add(product)
    session.flush()
    _audit(session, bank, "loan_product.updated", product)
    return product


def _audit(session: Session, bank: Principal, action: str, product: LoanProduct) -> None:
    _GROUNDS.record(session, bank, action, {"product_id": product.id, "active": product.active})


def get_own(session: Session, bank_id: str, product_id: str) -> LoanProduct:
    product = session.get(LoanProduct, product_id)
    if product is None or product.partner_id != bank_id:
        raise NotFound("No loan product with this id.", code="loan_product_not_found", param="product_id")
    return product


def list_own(session: Session, bank_id: str, params: PageParams) -> tuple[list[LoanProduct], bool]:
    return fetch_page(
        session, select(LoanProduct).where(LoanProduct.partner_id == bank_id), LoanProduct.id, params
    )


def _public() -> Any:
    return (
        select(LoanProduct)
        .join(Partner, col(Partner.id) == col(LoanProduct.partner_id))
        .where(col(LoanProduct.active).is_(True), Partner.status == PartnerStatus.active)
    )


def list_public(
    session: Session, params: PageParams, *, bank_id: str | None = None, amount_fen: int | None = None,
    term_months: int | None = None, industry: str | None = None,
) -> tuple[list[LoanProduct], bool]:  # fmt: skip
    """Active products of active banks, newest first, optionally only those that fit a request."""
    statement = _public()
    if bank_id is not None:
        statement = statement.where(LoanProduct.partner_id == bank_id)
    if amount_fen is not None:
        statement = statement.where(
            col(LoanProduct.min_amount_fen) <= amount_fen, col(LoanProduct.max_amount_fen) >= amount_fen
        )
    if term_months is not None:
        statement = statement.where(
            col(LoanProduct.min_term_months) <= term_months, col(LoanProduct.max_term_months) >= term_months
        )
    rows, has_more = fetch_page(session, statement, LoanProduct.id, params)
    if industry is not None:  # JSON lists: filtered here, on one page (an empty list serves every industry)
        rows = [p for p in rows if not p.industries or industry in p.industries]
    return rows, has_more


def get_public(session: Session, product_id: str) -> LoanProduct:
    product = session.exec(_public().where(LoanProduct.id == product_id)).first()
    if product is None:
        raise NotFound("No loan product with this id.", code="loan_product_not_found", param="product_id")
    return product


def active_of_banks(session: Session, bank_ids: list[str]) -> list[LoanProduct]:
    if not bank_ids:
        return []
    statement = (
        select(LoanProduct)
        .where(col(LoanProduct.partner_id).in_(bank_ids), col(LoanProduct.active).is_(True))
        .order_by(col(LoanProduct.id))
    )
    return list(session.exec(statement).all())
