"""The review rules behind ``gatepass audit`` (and the warnings of ``decode``).

Pure functions: a token's parts in, :class:`Finding` objects out. The parser here is deliberately
lenient (unlike the token core) because an audit must describe hostile and broken tokens rather
than just reject them. The HMAC check uses :mod:`hmac` directly, not ``Key.from_secret``: gatepass
refuses to *sign* with a short secret, but an audit must still find one that someone else used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeGuard

from gatepass.cli.output import Printer, span
from gatepass.tokens.algorithms import ALGORITHM_SPECS

SEVERITIES = ("critical", "high", "medium", "low", "info")
_RANK = {name: index for index, name in enumerate(SEVERITIES)}
_STYLE = {
    "critical": ("bold", "red"),
    "high": ("red",),
    "medium": ("yellow",),
    "low": ("cyan",),
    "info": ("dim",),
}

ACCESS_TOKEN_MAX_LIFETIME = 15 * 60
SIZE_LIMIT = 1024
KNOWN_ALGS = frozenset(ALGORITHM_SPECS)
HMAC_DIGESTS = {
    name: spec.hash_name
    for name, spec in ALGORITHM_SPECS.items()
    if spec.family == "HMAC" and spec.hash_name is not None
}


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    title: str
    why: str
    fix: str = ""

    @property
    def serious(self) -> bool:
        return _RANK[self.severity] <= _RANK["high"]

    def at_least(self, severity: str) -> bool:
        return _RANK[self.severity] <= _RANK[severity]

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "why": self.why,
            "fix": self.fix,
        }


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: _RANK[f.severity])


def print_finding(printer: Printer, finding: Finding, *, brief: bool = False) -> None:
    label = printer.paint(f"[{finding.severity.upper()}]", *_STYLE[finding.severity])
    printer.line(f"  {label} {finding.id}: {finding.title}")
    if not brief:
        printer.line(f"      why: {finding.why}")
        if finding.fix:
            printer.line(f"      fix: {finding.fix}")


# --- lenient parsing -----------------------------------------------------------------------------


def b64url_decode_lenient(segment: str) -> bytes | None:
    text = segment.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Parsed:
    """What could be read from a token, however broken it is."""

    token: str
    header: dict[str, Any] | None = None
    claims: dict[str, Any] | None = None
    signature: bytes = b""
    signing_input: bytes = b""
    problems: list[str] = field(default_factory=list)


def _json_object(raw: bytes | None, what: str, problems: list[str]) -> dict[str, Any] | None:
    if raw is None:
        problems.append(f"the {what} is not base64url")
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        problems.append(f"the {what} is not JSON")
        return None
    if not isinstance(value, dict):
        problems.append(f"the {what} is not a JSON object")
        return None
    return value


def parse_lenient(token: str) -> Parsed:
    parsed = Parsed(token)
    parts = token.split(".")
    if len(parts) == 5:
        parsed.problems.append("five segments: this is a JWE (encrypted), not a JWS")
        parsed.header = _json_object(b64url_decode_lenient(parts[0]), "header", [])
        return parsed
    if len(parts) != 3:
        parsed.problems.append(f"{len(parts)} segment(s) instead of 3")
        if parts:
            parsed.header = _json_object(b64url_decode_lenient(parts[0]), "header", [])
        return parsed
    parsed.header = _json_object(b64url_decode_lenient(parts[0]), "header", parsed.problems)
    parsed.claims = _json_object(b64url_decode_lenient(parts[1]), "payload", parsed.problems)
    signature = b64url_decode_lenient(parts[2])
    if signature is None:
        parsed.problems.append("the signature is not base64url")
    parsed.signature = signature or b""
    parsed.signing_input = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    return parsed


# --- rules that need no key ----------------------------------------------------------------------

_PASSWORD_NAMES = re.compile(
    r"pass(word|wd|phrase)?$|^pwd$|secret|api_?key|private_?key|access_?key|credential|"
    r"^pin$|^otp$|^totp|^(refresh_|id_)?token$|session_?id|^sid_?raw$",
    re.IGNORECASE,
)
_PERSONAL_NAMES = {
    "email": "an e-mail address",
    "mail": "an e-mail address",
    "emailaddress": "an e-mail address",
    "phone": "a phone number",
    "phonenumber": "a phone number",
    "mobile": "a phone number",
    "tel": "a phone number",
    "telephone": "a phone number",
    "address": "a postal address",
    "streetaddress": "a postal address",
    "street": "a postal address",
    "postalcode": "a postal address",
    "birthdate": "a date of birth",
    "birthday": "a date of birth",
    "dob": "a date of birth",
    "dateofbirth": "a date of birth",
    "ssn": "a national identity number",
    "socialsecuritynumber": "a national identity number",
    "nationalid": "a national identity number",
    "passport": "a passport number",
    "taxid": "a tax number",
    "iban": "a bank account",
    "creditcard": "a card number",
    "cardnumber": "a card number",
    "name": "a person's name",
    "fullname": "a person's name",
    "givenname": "a person's name",
    "familyname": "a person's name",
    "firstname": "a person's name",
    "lastname": "a person's name",
    "middlename": "a person's name",
    "gender": "gender",
    "ip": "an IP address",
    "ipaddress": "an IP address",
    "location": "a location",
}
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")


def _walk(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str, Any]]:
    """(dotted path, last name, value) of every member of nested objects and arrays."""
    if depth > 6:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            yield sub, str(key), item
            yield from _walk(item, sub, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value[:100]):
            yield from _walk(item, f"{path}[{index}]", depth + 1)


def _looks_like_phone(value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    separated = value.startswith("+") or any(ch in value for ch in " -()")
    return bool(_PHONE.match(value)) and 8 <= digits <= 15 and separated


def personal_data_findings(claims: Mapping[str, Any]) -> list[Finding]:
    secrets: list[str] = []
    personal: list[str] = []
    for path, name, value in _walk(claims, ""):
        normal = name.lower().replace("_", "").replace("-", "")
        if _PASSWORD_NAMES.search(name) and not isinstance(value, bool):
            secrets.append(path)
        elif normal in _PERSONAL_NAMES and value not in (None, "", [], {}):
            personal.append(f"{path} ({_PERSONAL_NAMES[normal]})")
        elif isinstance(value, str) and _EMAIL.match(value):
            personal.append(f"{path} (an e-mail address)")
        elif isinstance(value, str) and _looks_like_phone(value):
            personal.append(f"{path} (a phone number)")
    findings = []
    if secrets:
        findings.append(
            Finding(
                "credential-in-claims",
                "high",
                f"claims that look like credentials: {', '.join(secrets[:8])}",
                "A JWT payload is only base64url-encoded, not encrypted: anyone who sees the "
                "token (browser storage, logs, proxies, the user) reads these values.",
                "Never put passwords, secrets, keys or other tokens in a JWT.",
            )
        )
    if personal:
        findings.append(
            Finding(
                "personal-data",
                "medium",
                f"personal data in claims: {', '.join(personal[:8])}",
                "The payload is readable by anyone holding the token and is copied into logs and "
                "caches on every request; personal data there is a privacy (GDPR) exposure.",
                "Keep only an opaque user id (sub) in the token; look the rest up on the server.",
            )
        )
    return findings


_KID_CHECKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\.\.[/\\]|^[/\\]|^[A-Za-z]:\\|/dev/|/etc/|/proc/"),
        "a file path (path traversal)",
    ),
    (re.compile(r"[\x00-\x1f\x7f]"), "NUL or control characters"),
    (
        re.compile(
            r"['\"`]|\s--|--\s|/\*|\bunion\b.+\bselect\b|\bor\b\s+\S+\s*=|;\s*\w", re.IGNORECASE
        ),
        "SQL syntax (SQL injection)",
    ),
    (re.compile(r"\$\(|[|&;<>`]|\$\{"), "shell syntax (command injection)"),
    (re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE), "a URL (remote key fetching)"),
)


def kid_findings(kid: Any) -> list[Finding]:
    if kid is None:
        return []
    if not isinstance(kid, str):
        return [
            Finding(
                "kid-type",
                "medium",
                f"kid is a {type(kid).__name__}, not a string",
                "Verifiers that use kid as a lookup key may misbehave on other types "
                "(type confusion in key lookup).",
                "Use short opaque string key ids, such as the RFC 7638 thumbprint.",
            )
        ]
    reasons = [label for pattern, label in _KID_CHECKS if pattern.search(kid)]
    if reasons:
        shown = kid[:40].encode("unicode_escape").decode("ascii")
        return [
            Finding(
                "kid-injection",
                "high",
                f"kid {shown!r} contains {', '.join(reasons)}",
                "kid is attacker-controlled. Verifiers that build a file path, SQL query, shell "
                "command or URL from it have been tricked into signing-key choices such as "
                "/dev/null (an empty HMAC key) or a row the attacker controls.",
                "Select keys only by exact match in a fixed key set; reject any other kid.",
            )
        ]
    if len(kid) > 128:
        return [
            Finding(
                "kid-length",
                "low",
                f"kid is {len(kid)} characters long",
                "Unusually long key ids suggest data smuggled into the header.",
                "Use short opaque key ids.",
            )
        ]
    return []


def header_findings(header: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        findings.append(
            Finding(
                "alg-missing",
                "critical",
                "the header has no alg",
                "Without an algorithm the token cannot be verified; libraries that default one "
                "have accepted forgeries.",
                "Sign tokens with a library that sets alg from the key.",
            )
        )
    elif alg.lower() == "none":
        findings.append(
            Finding(
                "alg-none",
                "critical",
                f"alg is {alg!r}: the token is unsigned",
                "Anyone can write any claims into an unsigned token. Libraries that trust the "
                "header's alg accepted such forgeries (node-jsonwebtoken CVE-2022-23540, Authlib "
                "until 2026).",
                "Reject alg none everywhere; verify with a key bound to one algorithm.",
            )
        )
    elif alg not in KNOWN_ALGS:
        findings.append(
            Finding(
                "alg-unknown",
                "high",
                f"alg {alg[:20]!r} is not a standard JWS signature algorithm",
                "Unknown or weak algorithms are either rejected by sound verifiers or "
                "mishandled by lenient ones.",
                "Use ES256, EdDSA or RS256 (or HS256 with a strong secret for one service).",
            )
        )
    for name, cve in (("jku", "PyJWT CVE-2026-48522"), ("x5u", "SSRF and key substitution")):
        if name in header:
            value = str(header[name])[:60]
            insecure = "" if value.lower().startswith("https://") else " (not even https)"
            findings.append(
                Finding(
                    f"header-{name}",
                    "high",
                    f"the header names a key URL: {name} = {value!r}{insecure}",
                    "A verifier that fetches keys from a URL inside the token lets the attacker "
                    f"choose the key, and can be used for server-side requests ({cve}).",
                    "Configure the JWKS URL on the verifier; ignore key locations in tokens.",
                )
            )
    for name in ("jwk", "x5c"):
        if name in header:
            findings.append(
                Finding(
                    f"header-{name}",
                    "high",
                    f"the header embeds a key ({name})",
                    "Verifying with a key carried by the token itself proves nothing: the "
                    "attacker signs with their own key and embeds it (Authlib CVE-2026-27962).",
                    "Verify only with keys configured on the server.",
                )
            )
    findings.extend(kid_findings(header.get("kid")))
    if "crit" in header:
        crit = header["crit"]
        valid = (
            isinstance(crit, list)
            and crit
            and all(isinstance(c, str) and c in header for c in crit)
        )
        findings.append(
            Finding(
                "crit",
                "medium" if valid else "high",
                f"the header marks extensions as critical: {json.dumps(crit)[:60]}"
                + (
                    ""
                    if valid
                    else " (malformed: RFC 7515 requires a non-empty list of names "
                    "present in the header)"
                ),
                "A verifier must reject the token unless it understands every listed extension "
                "(RFC 7515 4.1.11); several libraries ignored crit (PyJWT CVE-2026-32597, "
                "Authlib CVE-2025-59420).",
                "Avoid crit unless every verifier implements the extension.",
            )
        )
    if "zip" in header:
        findings.append(
            Finding(
                "header-zip",
                "medium",
                "the header asks for compression (zip)",
                "Compression belongs to JWE and has caused decompression bombs; a JWS with zip "
                "is unusual.",
                "Do not compress tokens.",
            )
        )
    if header.get("b64") is False:
        findings.append(
            Finding(
                "header-b64",
                "low",
                "unencoded payload (b64: false, RFC 7797)",
                "Verifiers that do not implement RFC 7797 check a different signing input.",
                "Use the default base64url payload for JWTs.",
            )
        )
    typ = header.get("typ")
    if typ is None:
        findings.append(
            Finding(
                "typ-missing",
                "low",
                "the header has no typ",
                "Explicit typing (RFC 8725 3.11) stops an ID token or refresh token from being "
                "accepted as an access token.",
                "Set typ (at+jwt for access tokens, RFC 9068) and check it when verifying.",
            )
        )
    elif isinstance(typ, str) and typ.upper() == "JWT":
        findings.append(
            Finding(
                "typ-generic",
                "info",
                "typ is the generic JWT",
                "A generic type cannot tell access, ID and refresh tokens apart (RFC 8725 3.11).",
                "Use a specific type such as at+jwt for access tokens.",
            )
        )
    return findings


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _looks_like_refresh(header: Mapping[str, Any], claims: Mapping[str, Any]) -> bool:
    typ = str(header.get("typ", "")).lower()
    use = str(claims.get("token_use", claims.get("token_type", ""))).lower()
    return "refresh" in typ or "refresh" in use or typ.endswith("id_token+jwt")


def claim_findings(
    header: Mapping[str, Any], claims: Mapping[str, Any], now: float
) -> list[Finding]:
    findings: list[Finding] = []
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if exp is None:
        findings.append(
            Finding(
                "exp-missing",
                "high",
                "no exp claim: the token never expires",
                "A leaked token without expiry works forever unless every verifier checks a "
                "denylist; some libraries do not require exp.",
                "Always set exp; 15 minutes or less for access tokens.",
            )
        )
    elif not _is_number(exp):
        findings.append(
            Finding(
                "exp-type",
                "high",
                f"exp is a {type(exp).__name__}, not a NumericDate",
                "Libraries disagree on a non-numeric exp; some skip the expiry check entirely.",
                "Set exp to integer seconds since the epoch.",
            )
        )
    else:
        if exp <= now:
            findings.append(
                Finding(
                    "expired",
                    "info",
                    f"the token expired {span(now - exp)} ago",
                    "Verifiers reject it (unless their clock or leeway is off).",
                )
            )
        if not _looks_like_refresh(header, claims):
            start = iat if _is_number(iat) else now
            lifetime = exp - start
            if lifetime > ACCESS_TOKEN_MAX_LIFETIME:
                measured = "lifetime (exp - iat)" if _is_number(iat) else "remaining lifetime"
                findings.append(
                    Finding(
                        "long-lifetime",
                        "high" if lifetime > 86400 else "medium",
                        f"{measured} of {span(lifetime)}, over 15 min for an access token",
                        "A stolen JWT stays valid until exp: revoking it needs a denylist, "
                        "which costs the lookup JWTs were meant to avoid. Long sessions belong "
                        "in a refresh token or a session cookie.",
                        "Keep access tokens at 15 minutes or less; renew them with a rotating "
                        "refresh token (gatepass RefreshTokens).",
                    )
                )
    if _is_number(iat) and iat > now + 60:
        findings.append(
            Finding(
                "iat-future",
                "medium",
                f"iat is {span(iat - now)} in the future",
                "Issued-in-the-future tokens point to a wrong clock on the issuer or forgery.",
                "Check the issuer's clock (NTP).",
            )
        )
    if _is_number(nbf) and nbf > now:
        findings.append(
            Finding(
                "not-yet-valid",
                "info",
                f"nbf is {span(nbf - now)} in the future: not valid yet",
                "Verifiers reject it until then.",
            )
        )
    for name, what in (("iss", "issuer"), ("aud", "audience")):
        if name not in claims:
            findings.append(
                Finding(
                    f"{name}-missing",
                    "low",
                    f"no {name} claim",
                    f"Without an {what} a token minted for one service can be replayed at "
                    "another that trusts the same key.",
                    f"Set {name} and have every verifier check it exactly.",
                )
            )
    if "jti" not in claims:
        findings.append(
            Finding(
                "jti-missing",
                "info",
                "no jti claim",
                "Without a token id a single token cannot be revoked on a denylist.",
                "Add a random jti (gatepass AccessTokens does).",
            )
        )
    findings.extend(personal_data_findings(claims))
    return findings


def static_findings(
    token: str,
    header: Mapping[str, Any] | None,
    claims: Mapping[str, Any] | None,
    now: float,
) -> list[Finding]:
    """Every rule that needs neither a key nor a word list."""
    findings: list[Finding] = []
    if len(token) > SIZE_LIMIT:
        findings.append(
            Finding(
                "size",
                "high" if len(token) > 8192 else "medium",
                f"the token is {len(token)} bytes (over {SIZE_LIMIT})",
                "It travels with every request; large tokens slow every call, overflow header "
                "limits (often 8 KB) and usually mean data that belongs on the server.",
                "Keep claims minimal: ids, not profiles or permission lists.",
            )
        )
    if header is not None:
        findings.extend(header_findings(header))
    if claims is not None:
        findings.extend(claim_findings(header or {}, claims, now))
    return sort_findings(findings)


# --- HMAC secrets ----------------------------------------------------------------------------


def builtin_wordlist() -> list[bytes]:
    """The small list of well-known example and leaked secrets shipped with gatepass."""
    text = resources.files("gatepass.cli").joinpath("data/weak-secrets.txt").read_bytes()
    return _lines(text)


def load_wordlist(path: str) -> list[bytes]:
    return _lines(Path(path).read_bytes())


def _lines(data: bytes) -> list[bytes]:
    words = []
    for line in data.split(b"\n"):
        word = line[:-1] if line.endswith(b"\r") else line
        if word and not word.startswith(b"#"):
            words.append(word)
    return words


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def crack_hmac(
    alg: str, signing_input: bytes, signature: bytes, candidates: Iterable[bytes]
) -> tuple[bytes | None, int]:
    """The candidate that produces ``signature``, and how many candidates were tried.

    RFC 2104 HMAC written out with ``bytes.translate`` for the pads: about 2.5x faster per
    candidate than ``hmac.digest`` with a digest name, which matters for 100,000-entry lists.
    A hit is confirmed with the standard library's :mod:`hmac` before it is reported.
    """
    name = HMAC_DIGESTS[alg]
    hash_fn = getattr(hashlib, name)
    block = hash_fn().block_size
    tried = 0
    seen: set[bytes] = set()
    for candidate in candidates:
        if candidate in seen:
            continue
        seen.add(candidate)
        tried += 1
        key = candidate if len(candidate) <= block else hash_fn(candidate).digest()
        key = key.ljust(block, b"\0")
        inner = hash_fn(key.translate(_IPAD) + signing_input).digest()
        if hash_fn(key.translate(_OPAD) + inner).digest() == signature and hmac_matches(
            alg, signing_input, signature, candidate
        ):
            return candidate, tried
    return None, tried


def hmac_matches(alg: str, signing_input: bytes, signature: bytes, secret: bytes) -> bool:
    return hmac.compare_digest(hmac.digest(secret, signing_input, HMAC_DIGESTS[alg]), signature)


def digest_length(alg: str) -> int:
    return hashlib.new(HMAC_DIGESTS[alg]).digest_size
