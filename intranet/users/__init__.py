def includeme(config):
    config.add_route("users", "/users")
    config.add_route("user_new", "/users/new")
    config.add_route("user", "/users/{id:\\d+}")
