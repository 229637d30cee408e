"""The public import path of gatepass's key types: :class:`Key` and :class:`KeySet`.

Each job lives in its own module (``key``: a key bound to one algorithm; ``keyset``: selecting a
key per token and JWKS documents; ``jwk``, ``pem``: the two key formats; ``primitives``: the
signature primitive per family; ``roca``: one weak-key check). Other layers and applications
import the two types from here, so the split stays an internal matter.
"""

from gatepass.tokens.key import Key
from gatepass.tokens.keyset import KeySet

__all__ = ["Key", "KeySet"]
