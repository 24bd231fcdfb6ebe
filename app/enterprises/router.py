from __future__ import annotations

from fastapi import APIRouter

from app.core.idempotency import AppRoute

router = APIRouter(route_class=AppRoute)
