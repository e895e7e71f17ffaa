"""shinsei-status transfer: the ground floor both hosts stand on.

What crosses from the closed network to the public host and what both sides must agree on
byte for byte: the snapshot format (``snapshot``), signing and the pure verifier
(``keys``, ``verify``, ``errors``), the lookup key and the receipt-number normaliser
(``lookup``, ``receipt``), the transports and the one atomic writer (``transports``,
``sftp``). It imports nothing from ``intranet`` or ``public_mirror``; the public host
needs only the verifying half (no paramiko, no SQLAlchemy).
"""
