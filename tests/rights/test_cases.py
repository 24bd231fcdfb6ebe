"""The review workflow objections and repairs share: a case's ``overdue`` flag and the operators'
``overdue`` queue come from one deadline rule per kind, so they agree on either side of the deadline."""

from __future__ import annotations

from datetime import timedelta

from app.core.clock import utcnow
from app.objections.models import Objection
from app.records.catalogue import add_months
from app.repairs.models import RepairApplication
from tests.clock import TODAY
from tests.rights.helpers import a_penalty, evidence_id, object_to
from tests.rights.test_repairs import _apply


def _queued(client, operator, kind):
    response = client.get(f"/v1/admin/{kind}?overdue=true", headers=operator["headers"])
    assert response.status_code == 200, response.text
    return [case["id"] for case in response.json()["data"]]


def test_an_objection_due_in_an_hour_is_not_overdue_anywhere_and_an_hour_late_it_is_everywhere(
    client, db, provider, resident, operator
):
    filed = object_to(client, resident, a_penalty(client, db, provider, resident).id).json()
    objection = db.get(Objection, filed["id"])
    objection.answer_due_at = utcnow() + timedelta(hours=1)
    db.add(objection)
    db.commit()

    assert filed["id"] not in _queued(client, operator, "objections")
    mine = client.get(f"/v1/me/objections/{filed['id']}", headers=resident["headers"]).json()
    assert mine["overdue"] is False

    objection.answer_due_at = utcnow() - timedelta(hours=1)
    db.add(objection)
    db.commit()

    assert filed["id"] in _queued(client, operator, "objections")
    mine = client.get(f"/v1/me/objections/{filed['id']}", headers=resident["headers"]).json()
    assert mine["overdue"] is True


def test_a_repair_due_today_is_not_yet_overdue_and_the_day_after_it_is(
    client, db, provider, resident, operator
):
    record = a_penalty(client, db, provider, resident, decision_date=add_months(TODAY, -4))
    applied = _apply(client, resident, record.id, [evidence_id(client, resident, "repair")]).json()
    application = db.get(RepairApplication, applied["id"])
    application.decision_due_on = TODAY
    db.add(application)
    db.commit()

    assert applied["id"] not in _queued(client, operator, "repairs")
    mine = client.get(f"/v1/me/repairs/{applied['id']}", headers=resident["headers"]).json()
    assert mine["overdue"] is False

    application.decision_due_on = TODAY - timedelta(days=1)
    db.add(application)
    db.commit()

    assert applied["id"] in _queued(client, operator, "repairs")
    mine = client.get(f"/v1/me/repairs/{applied['id']}", headers=resident["headers"]).json()
    assert mine["overdue"] is True


def test_a_closed_case_is_never_overdue(client, db, provider, resident, operator):
    filed = object_to(client, resident, a_penalty(client, db, provider, resident).id).json()
    objection = db.get(Objection, filed["id"])
    objection.answer_due_at = utcnow() - timedelta(days=1)
    objection.status = "rejected"
    db.add(objection)
    db.commit()

    assert filed["id"] not in _queued(client, operator, "objections")
    mine = client.get(f"/v1/me/objections/{filed['id']}", headers=resident["headers"]).json()
    assert mine["overdue"] is False
