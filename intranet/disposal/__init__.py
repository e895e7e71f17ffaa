"""Disposal of a programme's personal data (four eyes) and the disposal records (廃棄記録)."""

from intranet.disposal import panel
from intranet.programmes.events import ProgrammePageShown


def includeme(config):
    config.add_subscriber(panel.add_to_page, ProgrammePageShown)
    config.add_route("disposals", "/disposals")
    config.add_route("disposal_request", "/programmes/{id:\\d+}/disposal")
    config.add_route("disposal", "/disposals/{id:\\d+}")
    config.add_route("disposal_json", "/disposals/{id:\\d+}.json")
    config.add_route("disposal_print", "/disposals/{id:\\d+}/print")
    config.add_route("disposal_decision", "/disposals/{id:\\d+}/decision")
