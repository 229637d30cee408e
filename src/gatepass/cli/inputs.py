"""What the command reads: tokens, times, durations, claims, key files and HMAC secrets.

Every problem becomes a :class:`CliError` that names the problem and the fix; the entry point
turns it into one line on stderr and exit code 2. Secrets are never echoed, not even in errors.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gatepass.errors import InvalidKey
from gatepass.tokens.algorithms import ALGORITHM_SPECS
from gatepass.tokens.jwk import load_key_document
from gatepass.tokens.keys import Key, KeySet

# Read at most this much from stdin or a key file: far above any real token or key.
MAX_INPUT = 4 * 1024 * 1024

# One source of truth: the token core's algorithm table.
ALGORITHMS = tuple(ALGORITHM_SPECS)
HMAC_ALGS = tuple(name for name, spec in ALGORITHM_SPECS.items() if spec.family == "HMAC")
HMAC_HASH_BYTES = {name: ALGORITHM_SPECS[name].hash_size for name in HMAC_ALGS}
RSA_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")


class CliError(Exception):
    """A usage, input or key problem: printed as one line, exit code 2 (unless told otherwise)."""

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- tokens ----------------------------------------------------------------------------------


def read_token(arg: str) -> str:
    """The token from the argument, or from stdin for ``-``; whitespace and ``Bearer `` removed."""
    if arg == "-":
        if sys.stdin is None or sys.stdin.closed:
            raise CliError("no token: stdin is closed; pass the token as an argument")
        text = sys.stdin.read(MAX_INPUT + 1)
        if len(text) > MAX_INPUT:
            raise CliError(f"the input on stdin is larger than {MAX_INPUT} bytes; not a token")
    else:
        text = arg
    text = text.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    if not text:
        raise CliError("no token: the input is empty; pass TOKEN or pipe it into `-`")
    return text


# --- times and durations ------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, option: str = "--expires-in") -> int:
    """``90``, ``90s``, ``15m``, ``12h``, ``30d`` -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise CliError(
            f"{option} {text!r} is not a duration; use a number with an optional unit "
            "s, m, h or d (e.g. 15m)"
        )
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    return int(seconds)


def parse_time(text: str, option: str = "--at") -> float:
    """ISO 8601 (``2026-01-31T12:00:00Z``; naive means UTC) or unix seconds -> unix seconds."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # float() also reads nan, inf and 1e999, which no clock shows (and int() of which
        # was an internal error further down).
        if not math.isfinite(seconds):
            raise CliError(f"{option} {text!r} is not a moment; e.g. 2026-01-31T12:00:00Z")
        return seconds
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(
            f"{option} {text!r} is neither ISO 8601 nor unix seconds; "
            "e.g. 2026-01-31T12:00:00Z or 1769860800"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# --- claims and headers ----------------------------------------------------------------------

# RFC 7519 defines these as StringOrURI: `sub=42` must stay the string "42".
_STRING_CLAIMS = frozenset({"iss", "sub", "jti", "kid", "typ", "cty"})


def parse_value(key: str, raw: str) -> Any:
    """JSON when it parses (numbers, true, arrays, objects), else the plain string."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    except RecursionError:
        raise CliError(f"{key}=...: the JSON value is nested too deeply") from None
    if key in _STRING_CLAIMS and not isinstance(value, str | list | dict):
        return raw
    return value


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise CliError(f"{what} {pair!r} is not key=value; e.g. sub=42 or scope='\"read\"'")
        result[key] = parse_value(key, raw)
    return result


def read_json_object(path: str, what: str) -> dict[str, Any]:
    """A JSON object from a file (or stdin for ``-``)."""
    if path == "-":
        text = sys.stdin.read(MAX_INPUT + 1)
    else:
        text = read_file(path).decode("utf-8", "replace")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliError(f"{what} {path}: not valid JSON ({exc}); fix the file") from None
    except RecursionError:
        raise CliError(f"{what} {path}: JSON nested too deeply; fix the file") from None
    if not isinstance(value, dict):
        raise CliError(
            f"{what} {path}: must hold a JSON object {{...}}, not {type(value).__name__}"
        )
    return value


def read_file(path: str) -> bytes:
    if "\x00" in path:  # open() raises ValueError, not OSError: no file can have this name
        raise CliError(f"{path!r} is not a file name (it holds a NUL character)")
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{path} is a directory; pass a file")
    with p.open("rb") as handle:
        data = handle.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        raise CliError(f"{path} is larger than {MAX_INPUT} bytes; not a key file")
    return data


# --- keys ------------------------------------------------------------------------------------


@dataclass
class Secret:
    """Raw HMAC secret bytes and where they came from (never the value itself in messages)."""

    value: bytes = field(repr=False)  # a traceback or debug print must not show it
    source: str


def pem_kind(data: bytes) -> str | None:
    """``RSA``, ``EC-P-256``/``EC-P-384``/``EC-P-521``, ``Ed25519``, ... of a PEM key, if known."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa  # noqa: PLC0415

    loaded: object
    try:
        if b"PRIVATE KEY" in data:
            loaded = serialization.load_pem_private_key(data, password=None)
        else:
            loaded = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        return None
    if isinstance(loaded, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(loaded, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"EC {loaded.curve.name}"
    if isinstance(loaded, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(loaded, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "Ed448"
    return None


def _file_format(data: bytes) -> str:
    head = data.lstrip()[:64]
    if head.startswith(b"-----BEGIN"):
        return "pem"
    if head.startswith(b"{"):
        return "json"
    return "unknown"


def key_from_pem(
    data: bytes, path: str, alg: str | None, kid: str | None = None, token_alg: str | None = None
) -> Key:
    if b"ENCRYPTED" in data[:200]:
        raise CliError(
            f"{path}: the PEM key is encrypted; decrypt it first "
            "(openssl pkey -in FILE -out plain.pem) or use an unencrypted key"
        )
    if alg is None and pem_kind(data) == "RSA":
        served = f"{', '.join(RSA_ALGS[:-1])} and {RSA_ALGS[-1]}"
        if token_alg in RSA_ALGS:
            fix = f"the token says {token_alg}: add --alg {token_alg}"
        elif token_alg is not None:
            fix = (
                f"the token says {token_alg[:16]!r}, which no RSA key verifies; say which "
                "algorithm you expect with --alg (e.g. --alg RS256)"
            )
        else:
            fix = "say which with --alg (e.g. --alg RS256)"
        raise CliError(f"{path}: an RSA key serves {served}; {fix}")
    try:
        return Key.from_pem(data, alg, kid=kid)
    except InvalidKey as exc:
        raise CliError(f"{path}: {exc} [{exc.code}]; check the file and --alg") from None


def parse_jwk_document(data: bytes, path: str) -> dict[str, Any]:
    """A JWK or JWKS file, parsed as strictly as a token (duplicate members are refused)."""
    try:
        return load_key_document(data, "the JWK or JWKS")
    except InvalidKey as exc:
        raise CliError(f"{path}: {exc}; expected a JWK or a JWKS") from None


def keys_from_file(
    path: str, alg: str | None, *, fill_only: bool = False, token_alg: str | None = None
) -> tuple[list[Key], bool]:
    """Every key in a PEM, JWK or JWKS file (detected from the content), and "was it a JWKS".

    ``alg`` binds every key (and skips JWKS members made for another algorithm); with
    ``fill_only`` it is used only for keys that cannot decide it themselves (RSA, oct).
    """
    data = read_file(path)
    fmt = _file_format(data)
    if fmt == "pem":
        if fill_only and pem_kind(data) != "RSA":
            alg = None
        return [key_from_pem(data, path, alg, token_alg=token_alg)], False
    if fmt != "json":
        raise CliError(
            f"{path}: neither PEM nor a JSON JWK/JWKS; for an HMAC secret use "
            "--secret-file or --secret-env"
        )
    doc = parse_jwk_document(data, path)
    is_set = isinstance(doc.get("keys"), list)
    if is_set:
        members = doc["keys"]
    elif "kty" in doc:
        members = [doc]
    else:
        raise CliError(f'{path}: a JSON object with neither "kty" (JWK) nor "keys" (JWKS)')
    keys: list[Key] = []
    problems: list[str] = []
    for index, member in enumerate(members):
        if not isinstance(member, dict):
            problems.append(f"key {index} is not an object")
            continue
        member_alg = member.get("alg")
        if fill_only:
            use_alg = alg if member_alg is None and member.get("kty") in ("RSA", "oct") else None
        elif alg is not None and member_alg is not None and member_alg != alg:
            problems.append(f"key {index} is for {member_alg}")
            continue
        else:
            use_alg = None if member_alg else alg
        try:
            keys.append(Key.from_jwk(member, use_alg))
        except InvalidKey as exc:
            problems.append(f"key {index}: {exc}")
    if not keys:
        detail = "; ".join(problems) or "no keys"
        fix = 'pass --alg for keys without "alg"' if alg is None else "check --alg"
        raise CliError(f"{path}: no usable key ({detail}); {fix}")
    for problem in problems:
        print(f"warning: {path}: skipped {problem}", file=sys.stderr)
    return keys, is_set


def verification_key(path: str, alg: str | None, *, token_alg: str | None = None) -> Key | KeySet:
    """One key for PEM or JWK; a key set (selected by the token's kid and alg) for a JWKS.

    ``token_alg`` (what the token's header claims) only makes a hint more precise.
    """
    keys, is_set = keys_from_file(path, alg, token_alg=token_alg)
    if is_set:
        try:
            return KeySet(keys)
        except InvalidKey as exc:
            raise CliError(f"{path}: {exc} [{exc.code}]; fix the key set") from None
    return keys[0]


def read_secret(
    *,
    env: str | None,
    file: str | None,
    value: str | None,
    insecure_arg: bool,
) -> Secret | None:
    """The HMAC secret from exactly one of --secret-env, --secret-file, --secret (forced)."""
    given = [name for name, v in (("--secret-env", env), ("--secret-file", file)) if v]
    if value is not None:
        given.append("--secret")
    if len(given) > 1:
        raise CliError(f"give the HMAC secret once, not with {' and '.join(given)}")
    if env:
        raw = os.environ.get(env)
        if raw is None:
            raise CliError(f"--secret-env {env}: the environment variable {env} is not set")
        if not raw:
            raise CliError(f"--secret-env {env}: the environment variable {env} is empty")
        return Secret(raw.encode("utf-8"), f"environment variable {env}")
    if file:
        data = read_file(file)
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        fmt = _file_format(data)
        if fmt == "pem":
            raise CliError(
                f"--secret-file {file}: this is a PEM key, not an HMAC secret; use --key {file}"
            )
        if fmt == "json" and b'"kty"' in data:
            raise CliError(
                f"--secret-file {file}: this is a JWK, not a raw secret; use --key {file}"
            )
        if not data:
            raise CliError(f"--secret-file {file}: the file is empty")
        return Secret(data, f"file {file}")
    if value is not None:
        if not insecure_arg:
            raise CliError(
                "--secret puts the secret in shell history and the process list; use "
                "--secret-env VAR or --secret-file FILE (or, to insist, add --insecure-secret-arg)"
            )
        print(
            "warning: a secret on the command line is visible in shell history and to other "
            "users via the process list; prefer --secret-env or --secret-file",
            file=sys.stderr,
        )
        if not value:
            raise CliError("--secret: the secret is empty")
        return Secret(value.encode("utf-8"), "the command line")
    return None


def hmac_key(secret: Secret, alg: str | None, kid: str | None = None) -> Key:
    """A gatepass HMAC key; refuses secrets shorter than the hash (RFC 7518 3.2)."""
    alg = alg or "HS256"
    if alg not in HMAC_ALGS:
        raise CliError(f"--alg {alg} is not an HMAC algorithm; a secret works with HS256/384/512")
    need = HMAC_HASH_BYTES[alg]
    if len(secret.value) < need:
        raise CliError(
            f"the secret from {secret.source} is {len(secret.value)} bytes; {alg} needs at least "
            f"{need} (RFC 7518 3.2): a shorter one can be brute-forced offline from any token it "
            f"signed. Make a new one with `gatepass keygen {alg} --out new` (gatepass audit "
            "checks tokens signed with the old one)"
        )
    try:
        return Key.from_secret(secret.value, alg, kid=kid)
    except InvalidKey as exc:
        raise CliError(f"the secret from {secret.source}: {exc} [{exc.code}]") from None


def describe_key(key: Key | KeySet) -> Mapping[str, Any]:
    if isinstance(key, KeySet):
        return {"keys": len(key)}
    return {"alg": key.alg, "kid": key.kid, "kty": key.kty}
