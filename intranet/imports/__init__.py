def includeme(config):
    config.add_route("imports", "/imports")
    config.add_route("export_applications", "/applications.csv")
    config.add_route("export_history", "/history.csv")
