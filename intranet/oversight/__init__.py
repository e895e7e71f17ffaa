"""The security officer's screens: the audit trail in words, its search and CSV, and the
transfer log. They name every domain's codes, so they sit above every domain."""


def includeme(config):
    config.add_route("audit", "/audit")
    config.add_route("audit_csv", "/audit.csv")
    config.add_route("audit_record", "/audit/{seq:\\d+}")
    config.add_route("transfers", "/transfers")
    config.add_route("transfers_csv", "/transfers.csv")
