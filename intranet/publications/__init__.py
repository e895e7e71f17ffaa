def includeme(config):
    config.add_route("publications", "/publications")
    config.add_route("publication_decision", "/publications/{id:\\d+}/decision")
    config.add_route("transfers", "/transfers")
    config.add_route("transfers_csv", "/transfers.csv")
