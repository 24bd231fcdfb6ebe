"""Stored scores: the current score of each subject, its history, and the checkpoints of rebuilds."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.db import UTCDateTime
from app.core.ids import new_id


class CreditScore(SQLModel, table=True):
    """One row per scored subject, replaced on every recompute that changes anything."""

    __tablename__ = "credit_scores"

    subject_id: str = Field(primary_key=True, foreign_key="subjects.id", max_length=32)
    score: int
    level: str = Field(sa_type=String(4))
    blocked: bool = False
    model_version: str = Field(max_length=16)
    # {dimension: points}; base + Σ contributions == score.
    contributions: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    # {"reasons": [[code, dimension, points, count], …], "improvements": [{…}, …]}
    explanation: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Hash of the model version and the inputs that counted (scoring.service.inputs_digest): a rescore
    # whose inputs did not change computes and writes nothing.
    digest: str = Field(max_length=32)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    trigger: str = Field(max_length=32)


class ScoreHistory(SQLModel, table=True):
    """A row each time a subject's score, level, block or model version changed."""

    __tablename__ = "credit_score_history"
    __table_args__ = (Index("ix_credit_score_history_subject_id_id", "subject_id", "id"),)

    id: str = Field(default_factory=lambda: new_id("sch"), primary_key=True, max_length=32)
    subject_id: str = Field(foreign_key="subjects.id", max_length=32)
    score: int
    level: str = Field(sa_type=String(4))
    blocked: bool = False
    model_version: str = Field(max_length=16)
    top_reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    trigger: str = Field(max_length=32)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScoreRebuild(SQLModel, table=True):
    """``xinyi scores rebuild`` progress: subjects are visited in id order and ``last_subject_id`` is
    committed with each batch, so an interrupted rebuild resumes after it."""

    __tablename__ = "score_rebuilds"

    id: str = Field(default_factory=lambda: new_id("srb"), primary_key=True, max_length=32)
    model_version: str = Field(max_length=16)
    status: str = Field(default="running", sa_type=String(16))  # running | completed
    last_subject_id: str | None = Field(default=None, max_length=32)
    processed: int = 0
    changed: int = 0
    as_of: date
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
