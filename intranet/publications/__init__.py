def includeme(config):
    config.add_route("publications", "/publications")
    config.add_route("publication_decision", "/publications/{id:\\d+}/decision")
    config.add_route("publication_changes", "/publications/{id:\\d+}/changes")
    config.add_route("publication_changes_csv", "/publications/{id:\\d+}/changes.csv")
