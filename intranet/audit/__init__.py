def includeme(config):
    config.add_route("audit", "/audit")
    config.add_route("audit_csv", "/audit.csv")
    config.add_route("audit_record", "/audit/{seq:\\d+}")
