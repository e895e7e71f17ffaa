"""shinsei-status public mirror: verifies snapshots and answers residents' lookups.

Runs on the internet-facing host with only this package and transfer's verifying code.
"""
