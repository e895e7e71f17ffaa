"""The shinsei-status installer: one host, one role, from the release bundle, offline.

Standard library only (it runs before the venv exists), on the Python 3.11 that the venv
is made from. Every step is a desired state with two halves: what differs from it
(``--check`` prints that and changes nothing) and how to reach it; a second run finds
nothing to do. ``--root DIR`` installs into a directory tree instead of ``/`` (the tests'
way in; commands that only make sense on a running host are then left out and said so).
"""
