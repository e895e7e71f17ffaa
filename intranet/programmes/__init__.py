def includeme(config):
    config.add_route("programmes", "/programmes")
    config.add_route("programme_new", "/programmes/new")
    config.add_route("programme", "/programmes/{id:\\d+}")
    config.add_route("programme_step", "/programmes/{id:\\d+}/step")
