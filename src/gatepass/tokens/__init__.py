"""The token layer: pure JWS/JWT with typed keys. No I/O of any kind.

``jws`` signs and verifies bytes, ``jwt`` adds claims; :class:`Key` and :class:`KeySet` carry the
algorithm, so the token can never choose it. ``dpop`` makes and verifies DPoP proofs (RFC 9449).
"""

from gatepass.tokens import dpop, jws, jwt
from gatepass.tokens.algorithms import ALGORITHMS
from gatepass.tokens.keys import Key, KeySet

__all__ = ["ALGORITHMS", "Key", "KeySet", "dpop", "jws", "jwt"]
