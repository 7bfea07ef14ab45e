"""One settings object (prefix ``GOSPLAN_``), built by entry points, never at import."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration read from the environment and an optional ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix="GOSPLAN_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str = Field(
        "sqlite:///gosplan.db",
        description="SQLAlchemy URL of the store: a SQLite file by default, or "
        "postgresql+psycopg://user:pass@host/db.",
    )
    data_dir: str = Field(
        "../shared/data",
        description="Folder holding publishers' files (used by examples and tests); "
        "GOSPLAN_DATA, as the tests and benchmarks read it, or GOSPLAN_DATA_DIR.",
        validation_alias=AliasChoices("GOSPLAN_DATA", "GOSPLAN_DATA_DIR", "data_dir"),
    )
    log_key_path: str = Field(
        "gosplan-log.key",
        description="File holding the Ed25519 key that signs public-log tree heads.",
    )
    log_origin: str | None = Field(
        None,
        description="The log's checkpoint origin (C2SP tlog-checkpoint), e.g. "
        "'gosplan.example.org/log'; default 'gosplan.invalid/log/<key id>'.",
    )
    witnesses: list[str] = Field(
        default_factory=list,
        description="Witnesses that cosign tree heads, each '<verifier key> [<URL>]' "
        "(the witness's cosignature/v1 vkey, then where its add-checkpoint endpoint is); "
        "as JSON in the environment.",
    )
    witness_quorum: int | None = Field(
        None,
        description="How many of the configured witnesses must cosign a head before "
        "receipts and `log verify` accept it (default: a majority).",
    )
    witness_submissions_per_minute: int = Field(
        12,
        ge=1,
        le=10_000,
        description="Cosignatures one registered witness may submit per minute "
        "(`POST /log/cosignatures`; counted once its signature verified).",
    )
    commission_key_path: str = Field(
        "gosplan-commission.pub",
        description="File holding the control commission's PUBLIC roster (its sealing key, "
        "threshold and members' signing keys), written offline by `gosplan criticism keygen`; "
        "the server can only seal identities, never open them.",
    )
    watch_key_path: str = Field(
        "gosplan-watch.key",
        description="File holding the secret that keys the retaliation watch's tags of "
        "filers' person ids (created on first use).",
    )
    echo_sql: bool = Field(False, description="Log every SQL statement (debugging).")
    secret_key_path: str = Field(
        "gosplan-session.key",
        description="File holding the secret that signs web session cookies "
        "(created with a random value on first use).",
    )
    economy: str = Field(
        "default",
        description="Economy source the web application plans for "
        "(see `gosplan sources`; default: Brazil, IBGE).",
    )
    seed_demo: bool = Field(
        False,
        description="Seed the demonstration population (published password) into an empty "
        "store when the web application starts; `gosplan serve --demo` sets it. Never on a "
        "real store.",
    )
    session_lifetime_hours: float = Field(
        12.0,
        gt=0,
        le=24 * 30,
        description="How long a sign-in lasts (web); sessions live in the store and end on "
        "logout or a password change.",
    )
    page_cache_seconds: float = Field(
        1.0,
        ge=0,
        le=60,
        description="How long a server process answers public pages from its page cache "
        "before reading again, in one query, whether what they show has changed (web). A "
        "change shows at once to the session that made it, to everyone else (in any "
        "process) within this many seconds. 0: check on every request.",
    )
    session_cache_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description="How long a server process trusts a session (and its user) it looked up "
        "in the store before looking again (web). An end of sessions made by this process "
        "(logout, password or role change) takes effect at once; one made by another "
        "process within this many seconds. 0: look up on every request.",
    )
    db_pool_size: int = Field(
        10,
        ge=1,
        le=200,
        description="Database connections each server process keeps open (PostgreSQL).",
    )
    db_max_overflow: int = Field(
        10,
        ge=0,
        le=200,
        description="Connections a server process may open beyond `db_pool_size` at a peak.",
    )
    web_threads: int | None = Field(
        None,
        ge=1,
        le=400,
        description="Threads a server process runs its page handlers on (web). Default: 2 (at "
        "most `db_pool_size` + `db_max_overflow`). A handler spends most of its time in Python, "
        "holding the interpreter lock, so more threads only contend for it: under "
        "`benchmarks/bench_web.py`'s load on loopback PostgreSQL, 20 threads cost 20.6 ms of "
        "CPU a request and 2 threads 11.9 ms. Scale with processes (`--workers`); raise this "
        "only where the database is far away and handlers wait on it.",
    )
    cookie_secure: bool | None = Field(
        None,
        description="Mark the session cookie Secure. Unset: Secure when the request came over "
        "HTTPS, and always when `gosplan serve` binds an address other than loopback.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For/-Proto headers are believed; empty: believed from nobody, "
        "loopback included.",
    )
    login_attempts_per_account: int = Field(
        10, ge=1, description="Failed sign-ins allowed per account per login window (web)."
    )
    login_attempts_per_client: int = Field(
        30, ge=1, description="Failed sign-ins allowed per client address per login window."
    )
    login_window_minutes: float = Field(
        15.0, gt=0, description="The window, in minutes, of the two sign-in limits above."
    )
    login_concurrency: int = Field(
        2,
        ge=1,
        le=64,
        description="Password hashes (Argon2id, 64 MiB each) one server process computes at "
        "once; further sign-ins wait, then get 503.",
    )
    max_body_bytes: int = Field(
        6 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted (web), enforced while it is read.",
    )
    max_json_depth: int = Field(
        32, ge=2, le=1000, description="Deepest nesting accepted in JSON sent to the web face."
    )
    rate_limit_filing: int = Field(
        10, description="Criticisms one client may file per minute (web)."
    )
    rate_limit_voting: int = Field(30, description="Votes one client may cast per minute (web).")
    rate_limit_buying: int = Field(
        120, description="Purchases one client may make per minute (web)."
    )
    plan_population: float | None = Field(
        None,
        description="Able-bodied people who share the work in the web plan page (default: "
        "the default plan's for the embedded economy, else the base year's workforce).",
    )
    integrity_workforce_tolerance: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="How far (a share of the larger) a declared workforce may lie from the "
        "worker-years its approved hours make before `gosplan integrity check-workforce` "
        "opens an alert.",
    )
    accounts_max_hours_per_period: float = Field(
        300.0,
        gt=0,
        le=10_000,
        allow_inf_nan=False,
        description="Most hours one person may have recorded in one accounting period, over "
        "every enterprise (periods are a month by convention; 300 h is about 70 h a week). "
        "More is refused when recorded.",
    )
    decision_min_discussion_hours: float = Field(
        72.0,
        ge=0,
        le=24 * 365,
        allow_inf_nan=False,
        description="Shortest discussion of a proposal before voting opens, in hours; a "
        "proposer may ask for longer, never shorter.",
    )
    decision_min_voting_hours: float = Field(
        48.0,
        ge=0,
        le=24 * 365,
        allow_inf_nan=False,
        description="Shortest vote on a proposal, in hours; a proposer may ask for longer, "
        "never shorter.",
    )
    decision_max_hours: float = Field(
        24.0 * 90,
        gt=0,
        le=24 * 3650,
        allow_inf_nan=False,
        description="Longest discussion, and longest vote, a proposer may ask for, in hours.",
    )
    decision_quorum_share: float = Field(
        0.2,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Quorum of a vote as a share of the electorate (the people who may vote "
        "when the proposal is made); never fewer than two ballots, so one person cannot "
        "adopt a decision alone.",
    )
