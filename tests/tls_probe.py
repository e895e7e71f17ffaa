"""What a TLS server really negotiates, asked the way a scanner asks: one handshake per
protocol version and per TLS 1.2 cipher suite, each offered alone (OpenSSL through Python's
``ssl``, with the client's own security level lowered so that every refusal is the server's).

Standard library only: the booted-hosts test runs it as a script on a terminal of the lab
(``python3 tests/tls_probe.py ADDRESS PORT [SERVER_NAME]`` prints the survey as JSON).
"""

import json
import socket
import ssl
import sys
import warnings

# Each probe: the protocol version offered and the client's cipher string (TLS 1.2 and below).
# "kRSA": every suite whose key exchange is static RSA (no forward secrecy); the CBC probe
# offers every suite that is neither AEAD nor without authentication (OpenSSL has no "CBC"
# keyword: what is left once GCM, CCM and ChaCha20-Poly1305 are taken out is CBC).
PROBES = {
    "TLSv1": ("TLSv1", "ALL"),
    "TLSv1.1": ("TLSv1_1", "ALL"),
    "TLSv1.2 static RSA": ("TLSv1_2", "kRSA"),
    "TLSv1.2 CBC": ("TLSv1_2", "ALL:!AESGCM:!AESCCM:!CHACHA20:!ARIAGCM:!aNULL:!eNULL"),
    "TLSv1.2 ECDHE AES-GCM": ("TLSv1_2", "ECDHE+AESGCM"),
    "TLSv1.2 ECDHE CHACHA20": ("TLSv1_2", "ECDHE+CHACHA20"),
    "TLSv1.3": ("TLSv1_3", None),
}


def handshake(address: str, port: int, server_name: str | None, version: str,
              ciphers: str | None = None, timeout: float = 10) -> tuple[str, str] | None:
    """(protocol, cipher) the server chose when offered only ``version`` and ``ciphers``, or
    None when it refused the handshake. A server that cannot be reached at all raises."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():          # TLS 1.0 and 1.1 are deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion[version]
    # Security level 0: this client offers what it is told to, so a refusal is the server's.
    context.set_ciphers(f"{ciphers or 'ALL'}:@SECLEVEL=0")
    with socket.create_connection((address, port), timeout=timeout) as raw:
        try:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                return tls.version() or "", tls.cipher()[0]
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return None


def tls12_suites() -> list[str]:
    """Every TLS 1.2 (and older) cipher suite this OpenSSL can offer, by OpenSSL's names."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return sorted({c["name"] for c in context.get_ciphers() if c["protocol"] != "TLSv1.3"})


def survey(address: str, port: int, server_name: str | None) -> dict:
    """Each probe's outcome, and every TLS 1.2 suite the server accepts when offered alone."""
    probes = {}
    for name, (version, ciphers) in PROBES.items():
        outcome = handshake(address, port, server_name, version, ciphers)
        probes[name] = list(outcome) if outcome else None
    accepted = [suite for suite in tls12_suites()
                if handshake(address, port, server_name, "TLSv1_2", suite)]
    return {"probes": probes, "tls12_accepted": accepted}


if __name__ == "__main__":
    address, port = sys.argv[1], int(sys.argv[2])
    print(json.dumps(survey(address, port, sys.argv[3] if len(sys.argv) > 3 else None)))
