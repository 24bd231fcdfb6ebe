"""Every retention rule of the service, in one place: how long each kind of data is kept, and from when.

- Negative (失信) credit information is kept at most 5 years from the end of the conduct (DESIGN.md,
  "Domain facts"); the decision date stands in when the source gave no conduct end. Until then it still
  stops counting at the end of its publicity (:func:`app.records.catalog.window` asks
  :func:`retention_ends_on`); after it the row is deleted (:mod:`app.retention.service`).
- An evidence upload never attached to a case is removed after :data:`UNATTACHED_EVIDENCE_KEPT_FOR`
  (:func:`app.evidence.service.sweep`).

Nothing else the service stores is deleted on a schedule: the audit log is append-only and hash-chained,
and cases and scores go when the record they are about goes.

This module imports nothing of the domains, so any of them can ask it.
"""

from __future__ import annotations

from datetime import date, timedelta

from app.audit.service import Grounds
from app.core.clock import add_months

NEGATIVE_INFORMATION_MONTHS = 60
GROUNDS = Grounds(
    "retention period of negative credit information ended",
    "negative credit information is kept at most 5 years after the conduct ended",
)
UNATTACHED_EVIDENCE_KEPT_FOR = timedelta(hours=24)

# Which credit_records rows are negative information (those with a severity), and the day their retention
# counts from, as SQL: the partial index ix_credit_records_retained and the query that reads it must state
# both alike, which is how PostgreSQL and SQLite know the index covers the query.
RETAINED_RECORDS_WHERE = "severity IS NOT NULL"
RETAINED_RECORDS_FROM = "coalesce(conduct_end_date, decision_date)"


def retention_ends_on(conduct_end_date: date | None, decision_date: date) -> date:
    """The day a 失信 record must be gone: 5 years after its conduct ended (the decision date when the
    source gave no conduct end)."""
    return add_months(conduct_end_date or decision_date, NEGATIVE_INFORMATION_MONTHS)


def latest_deletable_end(today: date) -> date:
    """The latest conduct end whose retention has ended by ``today`` (month-end clamping makes the inverse
    of add_months a few days wide, so step forward to the last one that still qualifies)."""
    end = add_months(today, -NEGATIVE_INFORMATION_MONTHS)
    while add_months(end + timedelta(days=1), NEGATIVE_INFORMATION_MONTHS) <= today:
        end += timedelta(days=1)
    return end
