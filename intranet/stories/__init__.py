"""An application's story (経緯): every change with who, when and from where, the
publication that first carried it and when each public host received it.

It reads the application, its history, the audit records about it and the publications, so
it sits above all of them, beside the disclosures: one page for staff and the desk (from
the application's page) and for the security officer (from the audit search by receipt
number), who alone sees the audit facts (terminal, record numbers, views).
"""


def includeme(config):
    config.add_route("story", "/applications/{id:\\d+}/story")
