"""A throwaway local PostgreSQL server for the bench and the tests: the production instance's storage.

Debian's ``postgresql`` package provides the server programs (``/usr/lib/postgresql/<version>/bin``);
``local_postgres()`` creates a cluster in a temporary folder (``initdb``), starts it on a free port on
127.0.0.1 with its socket in that folder, creates a database and yields its URL, then stops the server
and removes the folder. PostgreSQL refuses to run as root: as root the cluster belongs to the
``postgres`` user the package creates, and the programs run as that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DATABASE = "dagster"
OS_USER_AS_ROOT = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def server_programs() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``: the newest Debian package's, else PATH's."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda name: [int(part) for part in name.split(
            "/")[-2].split(".") if part.isdigit()], reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    raise PostgresUnavailable("PostgreSQL is not installed (Debian: apt-get install postgresql; "
                              "`make test` installs it when run as root)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as(user: pwd.struct_passwd | None):
    if user is None:
        return None

    def demote() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    return demote


@contextmanager
def local_postgres() -> Iterator[str]:
    """Start a PostgreSQL server in a temporary folder; yield ``postgresql+psycopg2://user@127.0.0.1:port/dagster``
    (SQLAlchemy 2.1 reads a bare ``postgresql://`` as psycopg 3; dagster-postgres brings psycopg2)."""
    programs = server_programs()
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam(OS_USER_AS_ROOT)
        except KeyError as missing:
            raise PostgresUnavailable(f"running as root and there is no {OS_USER_AS_ROOT!r} user to run "
                                      "PostgreSQL as") from missing
    folder = Path(tempfile.mkdtemp(prefix="costattr-postgres-"))
    data = folder / "data"
    role = user.pw_name if user else pwd.getpwuid(os.getuid()).pw_name
    port = _free_port()
    environment = {**os.environ, "LC_ALL": "C", "PGTZ": "UTC"}
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    preexec = _run_as(user)

    def run(*command: str) -> None:
        done = subprocess.run(command, preexec_fn=preexec, env=environment, cwd=folder, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(command[:2])} failed: {(done.stderr or done.stdout).strip()}")

    try:
        run(str(programs / "initdb"), "-D", str(data), "-U", role, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        run(str(programs / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"), "-w",
            "start")
        try:
            run(str(programs / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", role, DATABASE)
            yield f"postgresql+psycopg2://{role}@127.0.0.1:{port}/{DATABASE}"
        finally:
            run(str(programs / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
