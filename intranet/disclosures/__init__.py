"""Disclosure requests (保有個人情報の開示請求): everything held about one applicant."""


def includeme(config):
    config.add_route("disclosure", "/applications/{id:\\d+}/disclosure")
    config.add_route("disclosure_csv", "/applications/{id:\\d+}/disclosure.csv")
