def includeme(config):
    config.add_route("dashboard", "/dashboard")
