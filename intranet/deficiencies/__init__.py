def includeme(config):
    config.add_route("deficiency_kinds", "/programmes/{id:\\d+}/deficiencies")
    # {kind}: a kind's id, or "new" for the form that adds one.
    config.add_route("deficiency_kind", "/programmes/{id:\\d+}/deficiencies/{kind:new|\\d+}")
