"""Who is calling: a signed-in user, a partner (API key), or the system itself (CLI, workers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PrincipalType = Literal["user", "partner", "system"]


@dataclass(frozen=True)
class Principal:
    type: PrincipalType
    id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    partner_kind: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    # For users: the credit subject their account is bound to (after binding an ID number).
    subject_id: str | None = None
    # For a partner member acting for the partner ``id`` (app.members): the person's user id. The
    # partner's services see the partner, as with an API key; the audit log names the person.
    member_user_id: str | None = None

    @property
    def actor_type(self) -> str:
        """How the audit log names this actor: staff roles are recorded as such."""
        if self.member_user_id is not None:
            return "member"
        if self.type == "user" and "operator" in self.roles:
            return "operator"
        if self.type == "user" and "auditor" in self.roles:
            return "auditor"
        return "resident" if self.type == "user" else self.type

    @property
    def actor_id(self) -> str:
        """Who the audit log and ``created_by`` name: the member acting for a partner, else the caller."""
        return self.member_user_id or self.id


SYSTEM = Principal(type="system", id="system")
