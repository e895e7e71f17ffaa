from intranet.statuses.services import load_catalogue


def includeme(config):
    config.add_route("catalogue", "/catalogue")
    config.add_route("catalogue_status", "/catalogue/{code}")
    # Read once per request: most pages need it, several times.
    config.add_request_method(lambda request: load_catalogue(request.dbsession), "catalogue",
                              reify=True)
