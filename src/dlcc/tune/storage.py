"""Open the database a study lives in: SQLite (one machine) or PostgreSQL/MySQL (many workers).

Every storage is opened with a heartbeat: each running trial writes a heartbeat every
`heartbeat` seconds, and a trial whose worker died (killed, machine lost) is marked FAIL by
the next worker once `2 x heartbeat` seconds pass without one, so it never blocks the study.
"""

from __future__ import annotations

import importlib.util
import time
import warnings
from pathlib import Path

from dlcc.errors import ConfigError

SUPPORTED = ("sqlite", "postgresql", "mysql")
EXAMPLES = "sqlite:///sweep.db or postgresql+psycopg://USER@HOST:5432/DBNAME"


def redact(url: str) -> str:
    """The URL with any password replaced by ***, safe to print and to write to files."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL holds no parsable password either
        return url.split("@")[-1] if "@" in url else url


def normalize_url(url: str) -> str:
    """Check the URL's form; use psycopg 3 for 'postgresql://' when psycopg2 is absent."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"storage URL {url!r} is not a database URL", fix=f"use e.g. {EXAMPLES}") from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend, parsed = "postgresql", parsed.set(drivername="postgresql" + parsed.drivername[8:])
    if backend not in SUPPORTED:
        raise ConfigError(f"storage URL {redact(url)!r} uses {backend!r}; supported: {', '.join(SUPPORTED)}",
                          fix=f"use e.g. {EXAMPLES}")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg") is not None:
            parsed = parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            raise ConfigError(f"storage URL {url!r} names no database file (an in-memory study would be lost)",
                              fix="use sqlite:///path/to/sweep.db")
        if not Path(database).parent.exists():
            raise ConfigError(f"storage URL {url!r}: directory {Path(database).parent} does not exist",
                              fix=f"create it first: mkdir -p {Path(database).parent}")
    return parsed.render_as_string(hide_password=False)


def open_storage(url: str, heartbeat: int = 10):
    """An Optuna `RDBStorage` for `url`; a `ConfigError` when it cannot be used."""
    from sqlalchemy import exc as sa_exc

    url = normalize_url(url)
    backend = url.split(":", 1)[0].split("+")[0]
    if backend == "sqlite":
        engine_kwargs = {"connect_args": {"timeout": 60}}  # wait for a lock, not fail
    else:
        engine_kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
    try:
        return _create(url, engine_kwargs, heartbeat)
    except ImportError as exc:
        raise ConfigError(f"storage {redact(url)!r} needs a database driver that is not installed ({exc})",
                          fix="pip install 'psycopg[binary]' and use postgresql+psycopg://...") from None
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigError(f"cannot reach the study storage {redact(url)!r}: {reason}",
                          fix="check host, port, user, password and database name, and that the server "
                              "is running and reachable from this machine") from None
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ValueError) as exc:
        raise ConfigError(f"storage URL {redact(url)!r} cannot be used: {exc}", fix=f"use e.g. {EXAMPLES}") from None


def _create(url: str, engine_kwargs: dict, heartbeat: int, attempts: int = 5):
    import optuna
    from sqlalchemy import exc as sa_exc

    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since v2.9
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                                  heartbeat_interval=heartbeat, grace_period=2 * heartbeat)
        except (sa_exc.IntegrityError, sa_exc.ProgrammingError):
            # Workers started together on an empty database race to create Optuna's tables;
            # the loser sees "already exists". Once the winner is done, opening succeeds.
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
