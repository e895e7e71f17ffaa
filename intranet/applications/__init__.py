from intranet.applications import lifecycle
from intranet.programmes.events import ProgrammePageShown


def includeme(config):
    config.add_subscriber(lifecycle.count_for_confirmation, ProgrammePageShown)
    config.add_route("applications", "/applications")
    config.add_route("application", "/applications/{id:\\d+}")
    config.add_route("application_status", "/applications/{id:\\d+}/status")
    config.add_route("application_action", "/applications/{id:\\d+}/action")
    config.add_route("bulk", "/bulk")
    config.add_route("bulk_selection", "/bulk/selection")
    config.add_route("export_applications", "/applications.csv")
    config.add_route("export_history", "/history.csv")
    config.add_route("export_applications_xlsx", "/applications.xlsx")
    config.add_route("export_history_xlsx", "/history.xlsx")
