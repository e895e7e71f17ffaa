def includeme(config):
    config.add_route("catalogue", "/catalogue")
    config.add_route("catalogue_status", "/catalogue/{code}")
