def includeme(config):
    config.add_route("imports", "/imports")
    config.add_route("import_problems", "/imports/problems.csv")
    config.add_route("import_layouts", "/imports/layouts")
    config.add_route("import_layout", "/imports/layouts/{id:\\d+}")
