"""The token layer: pure JWS/JWT with typed keys. No I/O of any kind.

``jws`` signs and verifies bytes, ``jwt`` adds claims; :class:`Key` and :class:`KeySet` carry the
algorithm, so the token can never choose it.
"""

from gatepass.tokens import jws, jwt
from gatepass.tokens.algorithms import ALGORITHMS
from gatepass.tokens.keys import Key, KeySet

__all__ = ["ALGORITHMS", "Key", "KeySet", "jws", "jwt"]
