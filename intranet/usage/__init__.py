"""The relief, measured: the public hosts' daily lookups beside the records the call centre
opened, per day — the figure a city reports to its council."""


def includeme(config):
    config.add_route("usage_csv", "/dashboard/usage.csv")
