from intranet.deficiencies import catalogue
from intranet.programmes.events import ProgrammeCreated


def includeme(config):
    config.add_subscriber(catalogue.add_defaults_to_new, ProgrammeCreated)
    config.add_route("deficiency_kinds", "/programmes/{id:\\d+}/deficiencies")
    # {kind}: a kind's id, or "new" for the form that adds one.
    config.add_route("deficiency_kind", "/programmes/{id:\\d+}/deficiencies/{kind:new|\\d+}")
