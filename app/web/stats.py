"""``/stats``: the public statistics page (no sign-in). The tables are rendered here from the same
functions as ``GET /v1/stats/xinyidai`` and ``GET /v1/stats/scenarios``, so the page reads without
script; its script draws the charts from those two endpoints (vendored ECharts, no CDN)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.core.db import SessionDep
from app.loans import stats as loan_stats
from app.scenarios.catalog import CatalogDep
from app.verifications import stats as scenario_stats
from app.web.pages import page

router = APIRouter(include_in_schema=False)

TEXT = {
    "zh": {
        "title": "信易+ 公开统计",
        "intro": "信易贷与信易+场景的汇总数字，每次打开时按当前数据计算；不含任何个人或单个企业的信息。",
        "other": "English",
        "xinyidai": "信易贷",
        "subjects_rated": "已评分主体",
        "reports_generated": "已生成信用报告",
        "applications": "贷款申请",
        "referrals": "推荐至银行",
        "approvals": "获批",
        "declines": "未获批",
        "approved_amount": "获批金额（元）",
        "by_bank": "按银行",
        "bank": "银行",
        "by_month": "按月（北京时间）",
        "month": "月份",
        "scenarios": "信易+ 场景使用",
        "scenario": "场景",
        "scans": "核验次数",
        "eligible": "符合条件",
        "none": "暂无数据",
        "api": "数据接口",
    },
    "en": {
        "title": "Xinyi+ public statistics",
        "intro": "Totals for Xinyidai loans and Xinyi+ scenarios, computed from current data each time the page "
        "opens; nothing about any person or single enterprise.",
        "other": "中文",
        "xinyidai": "Xinyidai (credit-based loans)",
        "subjects_rated": "Subjects rated",
        "reports_generated": "Credit reports generated",
        "applications": "Loan applications",
        "referrals": "Referred to banks",
        "approvals": "Approved",
        "declines": "Declined",
        "approved_amount": "Approved amount (CNY)",
        "by_bank": "By bank",
        "bank": "Bank",
        "by_month": "By month (China Standard Time)",
        "month": "Month",
        "scenarios": "Xinyi+ scenario usage",
        "scenario": "Scenario",
        "scans": "Scans",
        "eligible": "Eligible",
        "none": "No data yet",
        "api": "Data API",
    },
}


def yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


@router.get("/stats", response_class=HTMLResponse)
def stats_page(
    request: Request, session: SessionDep, catalog: CatalogDep, lang: Literal["zh", "en"] = "zh"
) -> HTMLResponse:
    return page(
        request,
        "stats.html",
        {
            "lang": lang,
            "html_lang": "zh-CN" if lang == "zh" else "en",
            "t": TEXT[lang],
            "loans": loan_stats.compute(session),
            "usage": scenario_stats.compute(session, catalog),
            "yuan": yuan,
        },
    )
