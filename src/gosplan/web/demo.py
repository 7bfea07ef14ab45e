"""A demonstration population, seeded into an empty store so a first visitor sees a living system.

Every demo user's password is ``demo-password``; the README lists them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from gosplan.services import decisions, users
from gosplan.storage.web import utcnow
from gosplan.web.state import AppState

DEMO_PASSWORD = "demo-password"
DEMO_USERS = [
    ("ana", "worker", "Ana Souza"),
    ("bruno", "worker", "Bruno Lima"),
    ("carla", "delegate", "Carla Dias (delegate, textile cooperative)"),
    ("diego", "planner", "Diego Alves (planning body)"),
    ("elena", "commission", "Elena Ramos (control commission)"),
]


def seed_if_empty(state: AppState) -> bool:
    """Seed demo users and a proposal if there are no users yet.  Returns True if seeded."""
    with Session(state.engine, expire_on_commit=False) as session:
        if users.count(session) > 0:
            return False
        made = {}
        for username, role, name in DEMO_USERS:
            made[username] = users.register(session, username, DEMO_PASSWORD, role=role,
                                            display_name=name)
        now = utcnow()
        decisions.create_proposal(
            session, made["diego"],
            title="How should the social fund be split next year?",
            body="The plan sets aside part of every hour for social consumption. "
            "Should more go to health care or to education?",
            kind="fund_split",
            options=[
                {"label": "Health first", "effect": {"shares": {
                    "health": 0.45, "education": 0.35, "care": 0.15, "culture": 0.05}}},
                {"label": "Education first", "effect": {"shares": {
                    "health": 0.35, "education": 0.45, "care": 0.15, "culture": 0.05}}},
            ],
            method="approval", quorum=2, discussion_until=now,
            voting_until=now + dt.timedelta(days=7),
        )
        session.commit()
        return True
