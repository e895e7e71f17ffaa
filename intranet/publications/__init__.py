def includeme(config):
    # Imported here, not above: ``shinsei-transfer`` (this package's cli) verifies on a host
    # without SQLAlchemy, and importing the package must not load the database's models.
    from intranet.applications.events import ApplicationPageShown
    from intranet.publications import shown

    config.add_subscriber(shown.add_to_page, ApplicationPageShown)
    config.add_route("publications", "/publications")
    config.add_route("publication_decision", "/publications/{id:\\d+}/decision")
    config.add_route("publication_changes", "/publications/{id:\\d+}/changes")
    config.add_route("publication_changes_csv", "/publications/{id:\\d+}/changes.csv")
