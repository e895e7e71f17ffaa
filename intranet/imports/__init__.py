def includeme(config):
    config.add_route("imports", "/imports")
