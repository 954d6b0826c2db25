"""A throwaway PostgreSQL 15 + PostGIS server for tests and benchmarks.

PostgreSQL refuses to run as root, and CI runs as root: the server is then started as the
``postgres`` system user, in a temporary directory that user owns. It listens on a free
loopback port with trust authentication and is removed on stop.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN = Path(os.environ.get("T137_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")


class PostgresUnavailableError(RuntimeError):
    """The binaries needed for a throwaway server are not installed."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


def missing_requirements() -> str | None:
    """Return why no server can be started here, or None when one can."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL 15 binaries not found in {PG_BIN} (apt-get install postgresql-15)"
    if not POSTGIS_CONTROL.exists():
        return "PostGIS is not installed (apt-get install postgresql-15-postgis-3)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root but there is no 'postgres' user to run the server"
    return None


@contextmanager
def throwaway_postgis(dbname: str = "t137") -> Iterator[str]:
    """Start a PostgreSQL server with PostGIS and yield its SQLAlchemy URL.

    Parameters
    ----------
    dbname : str
        Name of the database created with the ``postgis`` extension.

    Yields
    ------
    str
        A ``postgresql+psycopg://postgres@127.0.0.1:PORT/DBNAME`` URL.
    """
    reason = missing_requirements()
    if reason is not None:
        raise PostgresUnavailableError(reason)
    root = Path(tempfile.mkdtemp(prefix="t137-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (root, sock):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    log = root / "server.log"
    run = {"check": True, "capture_output": True, "cwd": str(root)}
    subprocess.run(
        _as_server_user(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        **run,  # type: ignore[arg-type]
    )
    opts = (
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1"
        " -c fsync=off -c full_page_writes=off -c max_connections=60"
    )
    subprocess.run(
        _as_server_user(
            [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "start"]
        ),
        **run,  # type: ignore[arg-type]
    )
    try:
        psql = _as_server_user(
            [
                "/usr/bin/psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
            ]
        )
        subprocess.run([*psql, "-d", "postgres", "-c", f'CREATE DATABASE "{dbname}"'], **run)  # type: ignore[arg-type]
        subprocess.run([*psql, "-d", dbname, "-c", "CREATE EXTENSION postgis"], **run)  # type: ignore[arg-type]
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{dbname}"
    finally:
        subprocess.run(
            _as_server_user(
                [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
            cwd=str(root),
        )
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)
