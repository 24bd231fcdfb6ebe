"""Turning a stored score into words a person can read, in Chinese and in English."""

from __future__ import annotations

from datetime import date

from app.scoring.reasons import Improvement, Reason
from app.scoring.schemas import DimensionOut, ImprovementOut, Labels, Language, ReasonOut, ScoreOut
from app.scoring.scoring_model import BLACK_LIST, ScoringModel, get_model
from app.scoring.service import StoredScore


def language_from(accept_language: str | None) -> Language:
    """The preferred of zh and en in an Accept-Language header; Chinese when neither is asked for."""
    best: tuple[float, Language] | None = None
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        lang: Language | None = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if lang is None:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if best is None or quality > best[0]:
            best = (quality, lang)
    return best[1] if best else "zh"


def _reason(model: ScoringModel, reason: Reason, lang: Language) -> ReasonOut:
    zh, en = model.labels(reason.code)
    return ReasonOut(
        code=reason.code,
        dimension=reason.dimension,
        points=reason.points,
        count=reason.count,
        label=zh if lang == "zh" else en,
        labels=Labels(zh=zh, en=en),
    )


def _messages(model: ScoringModel, item: Improvement, today: date) -> Labels:
    if item.kind == "headroom":
        dimension = model.dimensions[item.code]
        return Labels(
            zh=f"{dimension.raise_zh}（本维度最多还可加{item.points}分）。",
            en=f"{dimension.raise_en} (up to {item.points} more points in this dimension).",
        )
    zh_label, en_label = model.labels(item.code)
    if item.kind == "list_end":
        if item.until is not None:
            return Labels(
                zh=f"列入严重失信主体名单期间信用等级为D，该名单于{item.until.isoformat()}到期。",
                en=f"While on the black list your level is D; the entry ends on {item.until.isoformat()}.",
            )
        return Labels(
            zh="列入严重失信主体名单期间信用等级为D；纠正失信行为后可向列入部门申请移出（信用修复免费）。",
            en="While on the black list your level is D; once the conduct is corrected, ask the listing "
            "department to remove you (credit repair is free).",
        )
    until_zh = f"，最迟于{item.until.isoformat()}停止计分" if item.until else ""
    until_en = f"; it stops counting on {item.until.isoformat()} at the latest" if item.until else ""
    if item.kind == "repair" and item.available_from is not None:
        if item.available_from <= today:
            return Labels(
                zh=f"「{zh_label}」现在即可申请信用修复（免费），修复后最多可提高{item.points}分{until_zh}。",
                en=f"“{en_label}” can be repaired now (free of charge), adding back up to {item.points} "
                f"points{until_en}.",
            )
        when = item.available_from.isoformat()
        return Labels(
            zh=f"「{zh_label}」可于{when}起申请信用修复（免费），修复后最多可提高{item.points}分{until_zh}。",
            en=f"“{en_label}” can be repaired from {when} (free of charge), adding back up to {item.points} "
            f"points{until_en}.",
        )
    when = item.until.isoformat() if item.until else ""
    return Labels(
        zh=f"「{zh_label}」将于{when}停止计分，届时最多可提高{item.points}分。",
        en=f"“{en_label}” stops counting on {when}, adding back up to {item.points} points.",
    )


def _improvement(model: ScoringModel, item: Improvement, lang: Language, today: date) -> ImprovementOut:
    messages = _messages(model, item, today)
    return ImprovementOut(
        kind=item.kind,
        code=item.code,
        points=item.points,
        record_id=item.ref if item.kind in {"repair", "expiry"} else None,
        list_entry_id=item.ref if item.kind == "list_end" else None,
        available_from=item.available_from,
        available_now=item.available_from is not None and item.available_from <= today,
        until=item.until,
        message=messages.zh if lang == "zh" else messages.en,
        messages=messages,
    )


def render(found: StoredScore, lang: Language, today: date) -> ScoreOut:
    result = found.result
    model = get_model(result.model_version)
    reasons = [_reason(model, reason, lang) for reason in result.reasons]
    breakdown = []
    for name, points in result.contributions.items():
        zh, en = model.dimension_labels(name)
        dimension = model.dimensions.get(name)
        breakdown.append(
            DimensionOut(
                dimension=name,
                label=zh if lang == "zh" else en,
                labels=Labels(zh=zh, en=en),
                points=points,
                weight=dimension.weight if dimension else None,
                max_positive=dimension.max_positive if dimension else None,
                max_negative=dimension.max_negative if dimension else None,
                reasons=[r for r in reasons if r.dimension == name],
            )
        )
    band = model.band(result.level)
    top = [r for r in reasons if r.points != 0 or r.code == BLACK_LIST][: model.top_reasons]
    return ScoreOut(
        subject_id=found.subject_id,
        score=result.score,
        level=result.level,
        level_label=band.zh if lang == "zh" else band.en,
        level_labels=Labels(zh=band.zh, en=band.en),
        blocked=result.blocked,
        model_version=result.model_version,
        base=model.base,
        min_score=model.min_score,
        max_score=model.max_score,
        computed_at=found.computed_at,
        language=lang,
        breakdown=breakdown,
        top_reasons=top,
        improvements=[_improvement(model, item, lang, today) for item in result.improvements],
    )
