"""shinsei-status transfer: the snapshot format, its keys, and the one-way push.

This package owns what crosses from the closed network to the public host. The
receipt-number normaliser lives here because both sides must agree on it byte for byte.
"""
