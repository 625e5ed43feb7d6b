"""A throwaway PostgreSQL cluster for the daemon tests (Debian's `postgresql` package).

`PgCluster` runs `initdb` and `pg_ctl` from /usr/lib/postgresql/*/bin (as the
`postgres` user when the tests run as root, since PostgreSQL refuses to run as
root) in a temporary directory, listening only on a unix socket there (no TCP),
with trust authentication. `database()` creates a fresh database and returns its
URL; `restart()` restarts the server (the fault test uses it); `stop()` stops it
and removes the directory. `find_bin_dir()` is None when PostgreSQL is not
installed, and the fixtures then skip with that reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path


def find_bin_dir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


class PgCluster:
    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="bridle-pg-"))
        self.data = self.dir / "data"
        self.port = 5432
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.log = self.dir / "server.log"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr}{proc.stdout}\n{log}")
        return proc

    def start(self) -> PgCluster:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        opts = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.dir}' -p {self.port} "
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
            "-t", "60", "-o", opts, action, *extra,
        )  # fmt: skip

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@/{dbname}?host={self.dir}&port={self.port}"

    def database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "-m", "immediate")
        except RuntimeError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
