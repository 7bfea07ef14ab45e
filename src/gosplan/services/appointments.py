"""Appointment integrity: ties between appointer, panel and appointee; cliques of mutual favour.

* **Ties** (family, hometown, former colleagues, declared friendship; declared
  by the people or found in records) form an undirected graph.  A shared
  ``hometown`` on record is a found tie without storing every pair: each town
  is a node joined to its people, so two townspeople are
  :data:`HOMETOWN_WEIGHT` (1.5) ties apart — a weaker tie than family.  An
  appointment is **flagged** when the appointer or any panel member is within
  ``k`` ties of the appointee; the finding carries the path.
* **Cliques**: every appointment, panel approval and evaluation is a directed
  *interaction*.  Officials who act for each other in both directions form the
  *reciprocal graph*; groups in it where every member shares a triangle with
  the others (clique percolation, ``k_clique_communities`` with k = 3) and
  that are dense enough are reported as possible "mutual insurance societies".

The graph work is in pure functions (:func:`tie_graph_from`, :func:`find_ties`,
:func:`find_cliques`) that the store-backed functions feed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from sqlalchemy import select
from sqlalchemy.orm import Session

from gosplan.errors import ValidationError
from gosplan.services import publiclog
from gosplan.storage.control import (
    Appointment,
    Interaction,
    Person,
    Position,
    Tenure,
    Tie,
    Unit,
)

TIE_KINDS = ("family", "hometown", "colleague", "friendship")
TIE_SOURCES = ("declared", "found")
INTERACTION_KINDS = ("appoint", "approve", "evaluate")
DEFAULT_K = 2
#: a shared hometown is a weaker tie than family or friendship: it counts this many ties,
#: so at k = 2 townspeople are flagged, but not a townsperson's relatives or friends
HOMETOWN_WEIGHT = 1.5


# --------------------------------------------------------------------------- registry


def add_person(session: Session, person_id: str, name: str, hometown: str | None = None) -> Person:
    person_id, name = person_id.strip(), name.strip()
    if not person_id or not name:
        raise ValidationError("a person needs an id and a name.")
    if session.get(Person, person_id) is not None:
        raise ValidationError(f"person {person_id!r} is already on record.")
    p = Person(id=person_id, name=name, hometown=(hometown or "").strip() or None)
    session.add(p)
    publiclog.append(
        session, "person.registered", {"person": p.id, "name": p.name, "hometown": p.hometown}
    )
    session.flush()
    return p


def add_unit(session: Session, unit_id: str, name: str, kind: str = "enterprise") -> Unit:
    if kind not in ("enterprise", "organisation"):
        raise ValidationError(f"unit kind {kind!r} is not 'enterprise' or 'organisation'.")
    if session.get(Unit, unit_id) is not None:
        raise ValidationError(f"unit {unit_id!r} is already on record.")
    u = Unit(id=unit_id, name=name, kind=kind)
    session.add(u)
    publiclog.append(session, "unit.registered", {"unit": unit_id, "name": name, "kind": kind})
    session.flush()
    return u


def add_position(
    session: Session, position_id: str, title: str, unit: str, reports_to: str | None = None
) -> Position:
    if session.get(Position, position_id) is not None:
        raise ValidationError(f"position {position_id!r} is already on record.")
    if session.get(Unit, unit) is None:
        raise ValidationError(f"position {position_id!r}: unit {unit!r} is not on record.")
    if reports_to is not None and session.get(Position, reports_to) is None:
        raise ValidationError(
            f"position {position_id!r} reports to unknown position {reports_to!r}."
        )
    p = Position(id=position_id, title=title, unit_id=unit, reports_to=reports_to)
    session.add(p)
    publiclog.append(
        session,
        "position.created",
        {"position": position_id, "title": title, "unit": unit, "reports_to": reports_to},
    )
    session.flush()
    return p


def _person(session: Session, pid: str, role: str) -> Person:
    p = session.get(Person, pid)
    if p is None:
        raise ValidationError(f"{role} {pid!r} is not on record.")
    return p


def add_tie(
    session: Session, a: str, b: str, kind: str, *, source: str = "declared", note: str = ""
) -> Tie:
    """Record a tie between two people (logged as ``tie.recorded``)."""
    if kind not in TIE_KINDS:
        raise ValidationError(f"tie kind {kind!r} is not one of {', '.join(TIE_KINDS)}.")
    if source not in TIE_SOURCES:
        raise ValidationError(f"tie source {source!r} is not 'declared' or 'found'.")
    if a == b:
        raise ValidationError(f"a tie needs two different people; got {a!r} twice.")
    _person(session, a, "tied person")
    _person(session, b, "tied person")
    a, b = sorted((a, b))
    t = Tie(a=a, b=b, kind=kind, source=source, note=note)
    session.add(t)
    publiclog.append(session, "tie.recorded", {"a": a, "b": b, "kind": kind, "source": source})
    session.flush()
    return t


def record_interaction(
    session: Session, actor: str, subject: str, kind: str, day: dt.date
) -> Interaction:
    """``actor`` appointed/approved/evaluated ``subject`` on ``day`` (logged)."""
    if kind not in INTERACTION_KINDS:
        raise ValidationError(
            f"interaction kind {kind!r} is not one of {', '.join(INTERACTION_KINDS)}."
        )
    _person(session, actor, "acting official")
    _person(session, subject, "subject")
    i = Interaction(actor=actor, subject=subject, kind=kind, day=day)
    session.add(i)
    if kind == "evaluate":  # appointments and approvals are logged with the appointment
        publiclog.append(
            session,
            "evaluation.recorded",
            {"actor": actor, "subject": subject, "day": day.isoformat()},
        )
    session.flush()
    return i


# --------------------------------------------------------------------------- ties


def tie_graph_from(
    ties: Iterable[tuple[str, str, str, str]],
    hometowns: Iterable[tuple[str, str | None]] = (),
    *,
    hometown_weight: float = HOMETOWN_WEIGHT,
) -> nx.Graph:
    """Tie graph: people joined by ties (weight 1) and through their towns.

    ``ties`` are ``(a, b, kind, source)``; ``hometowns`` ``(person, town)``.  A
    town is a node joined to each of its people by half of ``hometown_weight``,
    so two townspeople are ``hometown_weight`` apart without storing every pair.
    """
    g = nx.Graph()
    for a, b, kind, source in ties:
        if g.has_edge(a, b):
            g[a][b]["kinds"].append(f"{kind} ({source})")
        else:
            g.add_edge(a, b, w=1.0, kinds=[f"{kind} ({source})"])
    for person, town in hometowns:
        if town:
            g.add_edge(
                person, ("hometown", town), w=hometown_weight / 2, kinds=["hometown (found)"]
            )
    return g


@dataclass(frozen=True)
class Finding:
    """A decider within ``distance`` ties of the appointee, along ``path``."""

    decider: str
    role: str  # appointer | panel
    distance: float
    path: list[dict[str, str]]

    def to_json(self) -> dict[str, Any]:
        return {
            "decider": self.decider,
            "role": self.role,
            "distance": self.distance,
            "path": self.path,
        }

    def describe(self) -> str:
        steps = " → ".join(f"{s['to']} ({s['tie']})" for s in self.path)
        return (
            f"{self.role} {self.decider} is {self.distance:g} ties from the appointee: "
            f"{self.path[0]['from'] if self.path else ''} → {steps}"
        )


def _path_steps(g: nx.Graph, nodes: Sequence[Any]) -> list[dict[str, str]]:
    steps: list[dict[str, str]] = []
    i = 0
    while i < len(nodes) - 1:
        u, v = nodes[i], nodes[i + 1]
        if isinstance(v, tuple):  # through a town: collapse person–town–person
            w = nodes[i + 2]
            steps.append({"from": str(u), "to": str(w), "tie": f"hometown {v[1]} (found)"})
            i += 2
        else:
            steps.append({"from": str(u), "to": str(v), "tie": ", ".join(g[u][v]["kinds"])})
            i += 1
    return steps


def find_ties(
    g: nx.Graph, appointee: str, deciders: Sequence[tuple[str, str]], k: float = DEFAULT_K
) -> list[Finding]:
    """Deciders ``(person, role)`` within ``k`` ties of ``appointee``, with the shortest path."""
    if appointee not in g:
        return []
    dist, paths = nx.single_source_dijkstra(g, appointee, cutoff=k, weight="w")
    out = []
    for person, role in deciders:
        if person in dist and person != appointee:
            out.append(Finding(person, role, float(dist[person]), _path_steps(g, paths[person])))
    return out


def tie_graph(session: Session) -> nx.Graph:
    """The tie graph of everyone on record."""
    ties = [
        (a, b, kind, src)
        for a, b, kind, src in session.execute(select(Tie.a, Tie.b, Tie.kind, Tie.source))
    ]
    towns = [
        (pid, town)
        for pid, town in session.execute(
            select(Person.id, Person.hometown).where(Person.hometown.is_not(None))
        )
    ]
    return tie_graph_from(ties, towns)


def check(
    session: Session,
    appointee: str,
    appointer: str,
    panel: Sequence[str] = (),
    k: float = DEFAULT_K,
) -> list[Finding]:
    """Findings for a proposed appointment (nothing is written)."""
    for pid, role in [
        (appointee, "appointee"),
        (appointer, "appointer"),
        *[(p, "panel member") for p in panel],
    ]:
        _person(session, pid, role)
    deciders = [(appointer, "appointer"), *[(p, "panel") for p in panel]]
    return find_ties(tie_graph(session), appointee, deciders, k)


def appoint(
    session: Session,
    *,
    position: str,
    appointee: str,
    appointer: str,
    panel: Sequence[str] = (),
    day: dt.date,
    k: float = DEFAULT_K,
) -> Appointment:
    """Appoint ``appointee`` to ``position``: check ties, close the previous tenure, log it."""
    pos = session.get(Position, position)
    if pos is None:
        raise ValidationError(f"position {position!r} is not on record.")
    panel = [p for p in dict.fromkeys(panel)]
    if appointee == appointer or appointee in panel:
        raise ValidationError(f"{appointee!r} cannot appoint or approve their own appointment.")
    findings = check(session, appointee, appointer, panel, k)
    for t in session.scalars(
        select(Tenure).where(Tenure.position_id == position, Tenure.ended.is_(None))
    ):
        t.ended = day
    session.add(Tenure(person_id=appointee, position_id=position, started=day))
    session.add(Interaction(actor=appointer, subject=appointee, kind="appoint", day=day))
    for p in panel:
        session.add(Interaction(actor=p, subject=appointee, kind="approve", day=day))
    entry = publiclog.append(
        session,
        "appointment.made",
        {
            "position": position,
            "appointee": appointee,
            "appointer": appointer,
            "panel": panel,
            "day": day.isoformat(),
            "k": k,
            "flagged": bool(findings),
            "findings": [f.to_json() for f in findings],
        },
    )
    a = Appointment(
        position_id=position,
        appointee=appointee,
        appointer=appointer,
        panel=panel,
        day=day,
        flagged=bool(findings),
        findings=[f.to_json() for f in findings],
        log_index=entry.index,
    )
    session.add(a)
    session.flush()
    return a


def appointments(session: Session, *, flagged_only: bool = False) -> list[Appointment]:
    q = select(Appointment).order_by(Appointment.id)
    if flagged_only:
        q = q.where(Appointment.flagged.is_(True))
    return list(session.scalars(q))


# --------------------------------------------------------------------------- cliques


@dataclass
class Clique:
    """A group of officials who act for each other in both directions."""

    members: list[str]
    density: float  # reciprocal pairs / possible pairs
    interactions: int  # interactions among members, both directions
    pairs: list[tuple[str, str, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "density": round(self.density, 3),
            "interactions": self.interactions,
            "pairs": [{"a": a, "b": b, "interactions": n} for a, b, n in self.pairs],
        }


def reciprocal_graph(interactions: Iterable[tuple[str, str]], *, min_each_way: int = 1) -> nx.Graph:
    """Undirected graph of pairs who each acted for the other at least ``min_each_way`` times."""
    counts = Counter((a, b) for a, b in interactions if a != b)
    r = nx.Graph()
    for (a, b), n in counts.items():
        back = counts.get((b, a), 0)
        if a < b and n >= min_each_way and back >= min_each_way:
            r.add_edge(a, b, n=n + back)
    return r


def find_cliques(
    interactions: Iterable[tuple[str, str]],
    *,
    min_size: int = 3,
    min_density: float = 0.6,
    min_each_way: int = 1,
) -> list[Clique]:
    """Dense reciprocal groups: clique-percolation communities of the reciprocal graph.

    Communities smaller than ``min_size`` or with fewer than ``min_density`` of
    their member pairs reciprocal are not reported.
    """
    r = reciprocal_graph(interactions, min_each_way=min_each_way)
    out = []
    for community in nx.community.k_clique_communities(r, 3):
        members = sorted(community)
        density = _density(r, members)
        if len(members) < min_size or density < min_density:
            continue
        sub = r.subgraph(members)
        pairs = sorted((min(a, b), max(a, b), int(d["n"])) for a, b, d in sub.edges(data=True))
        out.append(Clique(members, density, sum(n for _, _, n in pairs), pairs))
    out.sort(key=lambda c: (-len(c.members), -c.density, c.members))
    return out


def _density(r: nx.Graph, members: Sequence[str]) -> float:
    possible = len(members) * (len(members) - 1) / 2
    return r.subgraph(members).number_of_edges() / possible if possible else 0.0


def cliques(session: Session, **kwargs: Any) -> list[Clique]:
    """Cliques among everyone's recorded appointments, approvals and evaluations."""
    pairs = [(a, b) for a, b in session.execute(select(Interaction.actor, Interaction.subject))]
    return find_cliques(pairs, **kwargs)


def log_clique_report(session: Session, found: Sequence[Clique]) -> None:
    """Publish a clique report (members are officials; their conduct is public)."""
    publiclog.append(session, "appointments.cliques", {"groups": [c.to_json() for c in found]})


# --------------------------------------------------------------------------- evaluation


@dataclass
class SyntheticOrganisation:
    """A generated organisation with planted cliques and rigged appointments (known answers)."""

    people: list[str]
    boss: dict[str, str]
    unit: dict[str, str]
    hometown: dict[str, str]
    ties: list[tuple[str, str, str, str]]
    interactions: list[tuple[str, str]]
    planted: list[list[str]]
    #: (appointee, appointer, panel, rigged?)
    appointments: list[tuple[str, str, list[str], bool]]


def synthetic_organisation(
    n: int = 3000,
    *,
    cliques: int = 20,
    clique_sizes: tuple[int, int] = (4, 7),
    p_act: float = 0.85,
    towns: int = 150,
    rigged: int = 200,
    fair: int = 2000,
    peer_review: float = 0.3,
    seed: int = 0,
) -> SyntheticOrganisation:
    """A hierarchy of ``n`` people (span 6) in units, with families, hometowns, friendships,
    former colleagues, yearly evaluations and peer reviews as background, plus ``cliques``
    planted groups of officials from different units who each act for every other member
    with probability ``p_act`` (both directions needed to show), and ``rigged``
    appointments of a relative or friend (1–2 ties) among ``fair`` ones drawn at random.

    Long because it builds one synthetic organisation in order (hierarchy, background
    ties, evaluations, planted cliques, appointments) with one random generator, so that
    a seed always gives the same organisation.
    """
    import random

    rng = random.Random(seed)
    people = [f"p{i:05d}" for i in range(n)]
    boss: dict[str, str] = {}
    levels: list[list[str]] = [[people[0]]]
    i = 1
    while i < n:
        above, row = levels[-1], []
        for j in range(min(n - i, len(above) * 6)):
            boss[people[i]] = above[j % len(above)]
            row.append(people[i])
            i += 1
        levels.append(row)
    unit: dict[str, str] = {people[0]: "U-top"}
    for p in people[1:]:
        chain = [p]
        while chain[-1] in boss:
            chain.append(boss[chain[-1]])
        unit[p] = f"U-{chain[-3]}" if len(chain) >= 3 else f"U-{p}"
    hometown = {p: f"town{rng.randrange(towns):03d}" for p in people}
    ties: list[tuple[str, str, str, str]] = []
    shuffled = people[:]
    rng.shuffle(shuffled)
    k = 0
    while k < int(0.4 * n):  # 40% of people live in families of 2-5
        size = rng.randint(2, 5)
        fam = shuffled[k : k + size]
        ties += [(a, b, "family", "found") for x, a in enumerate(fam) for b in fam[x + 1 :]]
        k += size
    by_unit: dict[str, list[str]] = {}
    for p in people:
        by_unit.setdefault(unit[p], []).append(p)
    for p in people:
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            q = rng.choice(by_unit[unit[p]]) if rng.random() < 0.7 else rng.choice(people)
            if q != p:
                ties.append((p, q, "friendship", "declared"))
        if rng.random() < 0.3:
            q = rng.choice(people)
            if q != p and unit[q] != unit[p]:
                ties.append((p, q, "colleague", "found"))
    # background interactions: appointments by the boss, panels of the boss's peers,
    # three years of evaluations down the hierarchy, peer reviews among colleagues
    interactions: list[tuple[str, str]] = []
    subordinates: dict[str, list[str]] = {}
    for p, b in boss.items():
        subordinates.setdefault(b, []).append(p)
        interactions.append((b, p))
        peers = [q for q in subordinates if q != b and boss.get(q) == boss.get(b)]
        for q in rng.sample(peers, min(2, len(peers))):
            interactions.append((q, p))
        interactions += [(b, p)] * 3
    for team in subordinates.values():
        for p in team:
            for _ in range(3):
                if rng.random() < peer_review and len(team) > 1:
                    q = rng.choice([t for t in team if t != p])
                    interactions.append((p, q))
    officials = [p for row in levels[1:4] for p in row]
    planted: list[list[str]] = []
    for _ in range(cliques):
        size = rng.randint(*clique_sizes)
        group: list[str] = []
        while len(group) < size:  # members from different units
            cand = rng.choice(officials)
            if cand not in group and unit[cand] not in {unit[g] for g in group}:
                group.append(cand)
        planted.append(sorted(group))
        for a in group:
            for b in group:
                if a != b and rng.random() < p_act:
                    interactions += [(a, b)] * rng.randint(1, 3)
    adj: dict[str, set[str]] = {}
    for a, b, _, _ in ties:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    appts: list[tuple[str, str, list[str], bool]] = []
    with_ties = [p for p in officials if adj.get(p)]
    while len(appts) < rigged:
        appointer = rng.choice(with_ties)
        near = sorted(adj[appointer])
        pick = rng.choice(near)
        if rng.random() < 0.5 and adj.get(pick):  # a friend's relative: two ties
            pick = rng.choice(sorted(adj[pick]))
        if pick != appointer:
            panel = rng.sample(officials, 2)
            if pick not in panel:
                appts.append((pick, appointer, panel, True))
    while len(appts) < rigged + fair:
        appointer, appointee = rng.choice(officials), rng.choice(people)
        panel = rng.sample(officials, 2)
        if appointee != appointer and appointee not in panel:
            appts.append((appointee, appointer, panel, False))
    rng.shuffle(appts)
    return SyntheticOrganisation(people, boss, unit, hometown, ties, interactions, planted, appts)


def _jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def evaluate_synthetic(
    org: SyntheticOrganisation,
    *,
    ks: Sequence[float] = (1, 2),
    include_hometowns: bool = True,
    **clique_kwargs: Any,
) -> dict[str, Any]:
    """Detection figures on a :func:`synthetic_organisation` (its answers are known).

    Cliques: a planted group is *found* if a reported group has Jaccard
    similarity ≥ 0.5 with it; a reported group matching no planted one is a
    *false alarm*.  Appointments: share of rigged ones flagged (recall) and of
    fair ones flagged (false-alarm rate) for each ``k``.
    """
    found = find_cliques(org.interactions, **clique_kwargs)
    matched = [
        max((_jaccard(p, c.members) for c in found), default=0.0) >= 0.5 for p in org.planted
    ]
    false = [c for c in found if max(_jaccard(p, c.members) for p in org.planted) < 0.5]
    g = tie_graph_from(org.ties, org.hometown.items() if include_hometowns else ())
    per_k = {}
    for k in ks:
        hits = {True: 0, False: 0}
        for appointee, appointer, panel, is_rigged in org.appointments:
            deciders = [(appointer, "appointer"), *[(p, "panel") for p in panel]]
            if find_ties(g, appointee, deciders, k):
                hits[is_rigged] += 1
        n_rig = sum(1 for a in org.appointments if a[3])
        n_fair = len(org.appointments) - n_rig
        per_k[k] = {
            "rigged_flagged": hits[True] / n_rig if n_rig else 0.0,
            "fair_flagged": hits[False] / n_fair if n_fair else 0.0,
        }
    return {
        "people": len(org.people),
        "ties": len(org.ties),
        "interactions": len(org.interactions),
        "planted_cliques": len(org.planted),
        "cliques_found": sum(matched),
        "clique_recall": sum(matched) / len(org.planted),
        "groups_reported": len(found),
        "clique_false_alarms": len(false),
        "appointments": per_k,
    }
