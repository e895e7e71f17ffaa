"""Backups of the intranet host: one set per run, verified before it counts, restorable onto
a fresh host from the set alone.

A set is a directory named by the time it was made (``/var/backups/shinsei/2026-12-06T023000``,
root's, 0700, every file 0600) holding the database (``pg_dump -Fc``, or SQLite's backup
API), ``/etc/shinsei`` as a tar (keys, the pinned public-host keys, the session secret, the
ini files), the signed audit checkpoint file, a manifest and ``SHA256SUMS``. It is written
under a dot-name and renamed only after every file was read back (non-empty, checksums, the
dump readable to its last block), so a set that looks complete is complete.

``sets`` is the layout and its check, ``database`` the engine-specific dump and restore,
``make`` one run (with retention), ``status`` what monitoring reads, ``restore`` the way
back, ``cli`` the ``shinsei-intranet backup`` commands.
"""
