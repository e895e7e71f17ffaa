from intranet.auth import passwords


def includeme(config):
    passwords.dummy_hash()    # made before the first login, not during it (see there)
    config.add_route("home", "/")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_route("language", "/language")
