"""A demonstration population, seeded into an empty store so a first visitor sees a living system.

Every demo user's password is ``demo-password``; the README lists them.
Everything is made through the services' public APIs: users and a proposal
(decisions), labour accounts with credited hours and a catalogue with stock
(accounts), enterprises and officials on record and a criticism (control
from below), each of which also lands in the public log.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy.orm import Session

from gosplan.clock import utcnow
from gosplan.errors import GosplanError
from gosplan.services import appointments, criticism, decisions, lookups, users
from gosplan.storage.base import session_scope
from gosplan.web.state import AppState

log = logging.getLogger("gosplan.web")

DEMO_PASSWORD = "demo-password"
DEMO_USERS = [
    ("ana", "worker", "Ana Souza"),
    ("bruno", "worker", "Bruno Lima"),
    ("carla", "delegate", "Carla Dias"),
    ("diego", "planner", "Diego Alves"),
    ("elena", "commission", "Elena Ramos"),
]
#: demo enterprises: (code, name, keywords of the product it makes)
DEMO_ENTERPRISES = [
    (
        "textile-coop",
        "Textile cooperative",
        ("têxt", "textil", "vestu", "cloth", "transforma", "manufact"),
    ),
    ("grain-farm", "Grain farm collective", ("agric", "grain", "lavoura", "cereal")),
]
#: hours each demo person worked in the first period, by enterprise
DEMO_HOURS = {
    "textile-coop": {"ana": 152, "carla": 160},
    "grain-farm": {"bruno": 168, "diego": 40},
}  # the commission works at neither
PERIOD = "demo-1"


def person_code(username: str) -> str:
    return f"person:{username}"


def pick_product(products: list[str], words: tuple[str, ...], taken: set[str]) -> str:
    """The first product whose name matches one of ``words``, else the first free one."""
    for p in products:
        if p not in taken and any(re.search(w, p.lower()) for w in words):
            return p
    return next(p for p in products if p not in taken)


def seed_if_empty(state: AppState) -> bool:
    """Seed the demonstration if there are no users yet.  Returns True if seeded."""
    with Session(state.engine, expire_on_commit=False) as session:
        if users.count(session) > 0:
            return False
        made = {}
        for username, role, name in DEMO_USERS:
            made[username] = users.register(
                session, username, DEMO_PASSWORD, role=role, display_name=name
            )
        now = utcnow()
        decisions.create_proposal(
            session,
            made["diego"],
            title="How should the social fund be split next year?",
            body="The plan sets aside part of every hour for social consumption. "
            "Should more go to health care or to education?",
            kind="fund_split",
            options=[
                {
                    "label": "Health first",
                    "effect": {
                        "shares": {"health": 0.45, "education": 0.35, "care": 0.15, "culture": 0.05}
                    },
                },
                {
                    "label": "Education first",
                    "effect": {
                        "shares": {"health": 0.35, "education": 0.45, "care": 0.15, "culture": 0.05}
                    },
                },
            ],
            method="approval",
            rules=decisions.Rules.from_settings(state.settings),
            now=now,
            voting_hours=max(24.0 * 7, state.settings.decision_min_voting_hours),
        )
        session.commit()
    for part in (_seed_accounts, _seed_control, _seed_fulfilment):
        try:
            part(state)
        except GosplanError as exc:  # e.g. an economy whose labour is wages, not hours
            log.warning(
                "demonstration: %s left out: %s",
                part.__doc__.split(",")[0] if part.__doc__ else part.__name__,
                exc,
            )
    return True


def _seed_accounts(state: AppState) -> None:
    """Person and enterprise accounts, one period with approved hours, and the catalogue."""
    from gosplan.services.accounts import catalogue_from_economy, deduction_with_free

    ledger, eco = state.accounts, state.economy
    # health and education are free for all: named funds of the deduction, never sold
    ledger.open_period(PERIOD, deduction_with_free(eco, values=state.values))
    for username, _, name in DEMO_USERS:
        ledger.open_account(person_code(username), "person", name)
    for code, name, _ in DEMO_ENTERPRISES:
        ledger.open_account(code, "enterprise", name)
    for code, hours in DEMO_HOURS.items():
        for u in hours:
            ledger.join(code, person_code(u), by="demo")
        ledger.record_hours_many(
            code,
            PERIOD,
            [(person_code(u), h) for u, h in hours.items()],
            key=f"demo:hours:{code}",
            recorded_by=f"demo:{code}",
        )
        ledger.approve(code, PERIOD, key=f"demo:approve:{code}", approver="demo:planning")
    ledger.add_goods(catalogue_from_economy(eco, personal_hours=20_000.0, values=state.values))
    goods = [g for g in ledger.goods() if not g.free_fund]
    if goods:
        cheapest = min(goods, key=lambda g: g.price)
        ledger.buy(person_code("ana"), cheapest.code, 1, key="demo:buy:ana")
    with session_scope(state.engine) as s:
        for username, _, _ in DEMO_USERS:
            lookups.link_user(s, username, account=person_code(username))
        lookups.link_user(s, "carla", enterprise=DEMO_ENTERPRISES[0][0])


def _seed_control(state: AppState) -> None:
    """Enterprises and officials on record, and one criticism with a sealed identity."""
    with session_scope(state.engine) as s:
        for code, name, _ in DEMO_ENTERPRISES:
            appointments.add_unit(s, code, name)
        appointments.add_person(
            s, "dir-textile", "Rui Barbosa (director, textile cooperative)", hometown="Recife"
        )
        appointments.add_person(
            s, "dir-grain", "Marta Nunes (director, grain farm)", hometown="Londrina"
        )
        appointments.add_position(s, "textile-director", "Director", "textile-coop")
        appointments.add_position(s, "grain-director", "Director", "grain-farm")
        criticism.file(
            s,
            target_kind="official",
            target="dir-textile",
            content="The director reports the spinning line as running while it "
            "has stood idle for two weeks waiting for spare parts; the shortfall "
            "is hidden in the monthly report.",
            # sealed only where the commission's public roster is installed
            identity=("Ana Souza, spinning shop" if criticism.can_seal(state.settings) else None),
            settings=state.settings,
        )


#: weekly planned output of each demo enterprise, and the weeks it has reported so far
WEEKLY_PLAN = 100.0
REPORTED = {
    "textile-coop": [101.0, 99.0, 103.0, 100.0, 58.0],  # the last week falls short
    "grain-farm": [100.0, 102.0, 98.0, 101.0, 99.0],
}


def demo_products(products: list[str]) -> dict[str, str]:
    """The product each demo enterprise makes."""
    taken: set[str] = set()
    out = {}
    for code, _, words in DEMO_ENTERPRISES:
        out[code] = pick_product(products, words, taken)
        taken.add(out[code])
    return out


def _seed_fulfilment(state: AppState) -> None:
    """The demo enterprises in the fulfilment register, a weekly plan, five weeks of reports
    (the textile cooperative's last one short of the plan) and the check run's alerts."""
    import pandas as pd

    from gosplan.planning.targets import hours_per_labour_unit
    from gosplan.services.fulfilment import store as ful

    eco = state.economy
    now = utcnow()
    monday = (
        pd.Timestamp(now).normalize() - pd.Timedelta(days=now.weekday()) - pd.Timedelta(weeks=5)
    )
    made = demo_products([str(p) for p in eco.products])
    rows = []
    products = [str(p) for p in eco.products]
    buyer, seller = (c for c, _, _ in DEMO_ENTERPRISES)
    # the textile cooperative's one registered input: grain, at the technical norm
    norm = float(eco.A[products.index(made[seller]), products.index(made[buyer])])
    with session_scope(state.engine) as s:
        ful.register_sectors(s, eco)
        for code, name, _ in DEMO_ENTERPRISES:
            ful.register_enterprise(
                s,
                code,
                sector=made[code],
                capacity=WEEKLY_PLAN * 1.2,
                now=now,
                name=name,
                norms={made[seller]: norm} if code == buyer and norm > 0 else None,
            )
        ful.adopt_plan(
            s,
            name="demo weekly plan",
            freq="week",
            start=monday.date(),
            periods=13,
            sector_output={made[c]: WEEKLY_PLAN * 13 for c in made},
            now=now,
            source="demonstration",
        )
        hours_per_unit = hours_per_labour_unit(eco)
        for code, outputs in REPORTED.items():
            i = products.index(made[code])
            per_unit = float(eco.labour[i]) * hours_per_unit
            for week, out in enumerate(outputs):
                start = monday + pd.Timedelta(weeks=week)
                line = {
                    "enterprise": code,
                    "period": start.date().isoformat(),
                    "submitted_at": (start + pd.Timedelta(days=8)).isoformat(),
                }
                rows += [
                    {**line, "kind": "output", "quantity": out},
                    {**line, "kind": "hours", "quantity": round(out * per_unit, 3)},
                ]
                if norm > 0:
                    moved = round(REPORTED[buyer][week] * norm, 3)
                    rows.append(
                        {
                            **line,
                            "kind": "input" if code == buyer else "delivery",
                            "counterparty": seller if code == buyer else buyer,
                            "quantity": moved,
                        }
                    )
        ful.ingest(s, pd.DataFrame(rows), now=now, source="demo")
        ful.check(s, as_of=now, now=now)
