"""The audit record every domain writes through: the hash chain, its writer, signed
checkpoints, retention and the values kept beside it. No screens: the security officer's
are ``intranet.oversight``."""
