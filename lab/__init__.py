"""The laboratory: the real servers the tests and the benchmarks both start — a throwaway
PostgreSQL cluster and SQLite files (``databases``), the WSGI app on waitress
(``servers``), OpenSSH's sshd with the upload account (``sshd``), a public host in a folder
(``mirror_fixtures``), import files and hostile workbooks made byte by byte, and the
smallest intranet ini (``intranet_ini``).

Neither a test module nor part of the product: ``bench/`` imports it instead of ``tests/``,
and the wheel leaves it out (setup.cfg's package list names only intranet, transfer and
public_mirror).
"""
