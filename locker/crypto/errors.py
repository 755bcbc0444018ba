"""Exceptions of the crypto layer. Their messages never contain secrets."""


class CryptoError(Exception):
    """Base class of every crypto-layer error."""


class DecryptionError(CryptoError):
    """A ciphertext did not authenticate: wrong key, wrong context or tampering."""


class FormatError(CryptoError):
    """An encoded value is not in a format (or version) this code understands."""
