def includeme(config):
    config.add_route("password", "/password")
    config.add_route("users", "/users")
    config.add_route("user_new", "/users/new")
    config.add_route("user", "/users/{id:\\d+}")
    config.add_route("user_reset", "/users/{id:\\d+}/reset")
    config.add_route("grants", "/users/grants")
    config.add_route("grant_decide", "/users/grants/{id:\\d+}")
