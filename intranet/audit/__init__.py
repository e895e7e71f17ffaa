def includeme(config):
    config.add_route("audit", "/audit")
    config.add_route("audit_csv", "/audit.csv")
