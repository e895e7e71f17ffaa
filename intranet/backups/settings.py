"""The ``backup.*`` settings a run, a status check and a restore read (intranet.ini)."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BackupSettings:
    directory: Path             # backup.directory: where the sets are made
    retention_days: int         # backup.retention_days: older sets go after a good new one
    max_age_hours: int          # backup.max_age_hours: an older newest set is "stale"
    database_url: str
    # OS user pg_dump and pg_restore run as (peer authentication: "postgres"); empty: this one.
    database_user: str
    config_directory: Path      # backup.config_directory: the tree packed as a tar
    # backup.host_files: files outside it a fresh host needs before install.sh can run (the
    # TLS certificate and key the values file names), packed with their absolute paths.
    host_files: tuple[Path, ...]
    checkpoint_file: Path | None    # audit.checkpoint_file (None: not configured)
    # Stopped before a restore writes the database, started after (empty: none).
    web_service: str
    # OS user `audit verify` runs as after a restore (the staff app's role); empty: this one.
    verify_user: str

    @classmethod
    def from_settings(cls, settings) -> "BackupSettings":
        checkpoints = settings.get("audit.checkpoint_file") or ""
        return cls(
            directory=Path(settings["backup.directory"]),
            retention_days=int(settings["backup.retention_days"]),
            max_age_hours=int(settings["backup.max_age_hours"]),
            database_url=settings["sqlalchemy.url"],
            database_user=settings.get("backup.database_user", "").strip(),
            config_directory=Path(settings["backup.config_directory"]),
            host_files=tuple(Path(item) for item in settings.get("backup.host_files", "").split()),
            checkpoint_file=Path(checkpoints) if checkpoints.strip() else None,
            web_service=settings.get("backup.web_service", "").strip(),
            verify_user=settings.get("backup.verify_user", "").strip())
