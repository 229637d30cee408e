"""``gatepass audit``: a security review of one token, each finding with severity and why."""

from __future__ import annotations

import argparse
import time
from typing import Any

from gatepass.cli import rules
from gatepass.cli.args import add_at, add_json, add_key_options, add_token, new_command, secret_from
from gatepass.cli.inputs import (
    HMAC_HASH_BYTES,
    MAX_INPUT,
    CliError,
    Secret,
    parse_time,
    read_token,
    verification_key,
)
from gatepass.cli.output import Printer, emit_json, now_or
from gatepass.cli.rules import Finding
from gatepass.errors import BadSignature, InvalidToken
from gatepass.tokens import jws, jwt

_EPILOG = """\
examples:
  gatepass audit "$TOKEN"
  gatepass audit "$TOKEN" --wordlist jwt.secrets.list --wordlist more.txt
  gatepass audit "$TOKEN" --key signing.pub.pem          # also check the signature
  gatepass audit - --secret-env JWT_SECRET --json < token.txt
  gatepass audit "$TOKEN" --fail-on medium                # stricter CI gate

Checks: alg none and unknown algorithms; HMAC secrets found in gatepass's list of well-known
example and leaked secrets (and in --wordlist files); missing or non-numeric exp; access-token
lifetime over 15 minutes; size over 1 KB; personal data and credentials in claims; jku, x5u, jwk
and x5c headers; kid values that suggest path traversal, SQL, shell or URL injection; crit; typ;
missing iss/aud/jti; malformed encodings. With a key or secret, the signature is checked too.
Severities: critical, high, medium, low, info.
Exit codes: 0 no finding at or above --fail-on (default high), 1 such findings, 2 usage error.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "audit",
        summary="security review of a token",
        description="Review a token for known JWT weaknesses; every finding has a severity, the "
        "reason it matters and a fix. A key or secret is optional.",
        epilog=_EPILOG,
    )
    add_token(parser)
    add_key_options(parser, signing=False)
    parser.add_argument(
        "--wordlist",
        action="append",
        default=[],
        metavar="FILE",
        help="more candidate HMAC secrets, one per line (repeatable)",
    )
    parser.add_argument(
        "--no-crack", action="store_true", help="do not try known secrets on HMAC tokens"
    )
    parser.add_argument(
        "--fail-on",
        choices=(*rules.SEVERITIES, "never"),
        default="high",
        help="exit 1 when a finding is at least this severe (default high)",
    )
    add_at(parser, "judge expiry as of TIME")
    add_json(parser)
    return parser


def _shown(secret: bytes) -> str:
    text = secret[:64].decode("utf-8", "backslashreplace")
    return repr(text) + ("..." if len(secret) > 64 else "")


def crack_findings(
    parsed: rules.Parsed, alg: str, wordlists: list[str]
) -> tuple[list[Finding], dict[str, Any]]:
    sources = [("gatepass's built-in list", rules.builtin_wordlist())]
    sources += [(path, rules.load_wordlist(path)) for path in wordlists]
    started = time.perf_counter()
    total = 0
    for name, words in sources:
        found, tried = rules.crack_hmac(alg, parsed.signing_input, parsed.signature, words)
        total += tried
        if found is not None:
            short = len(found) < HMAC_HASH_BYTES[alg]
            stats = {"tried": total, "seconds": round(time.perf_counter() - started, 3)}
            return [
                Finding(
                    "weak-secret",
                    "critical",
                    f"the HMAC secret is {_shown(found)}, found in {name}",
                    "Anyone with the same public list can sign tokens that every verifier "
                    "accepts: a full authentication bypass."
                    + (
                        f" It is also shorter than the {HMAC_HASH_BYTES[alg]} bytes {alg} needs."
                        if short
                        else ""
                    ),
                    f"Rotate now: `gatepass keygen {alg} --out new` (or an asymmetric key), "
                    "re-issue tokens, and treat every token signed with the old secret as forged.",
                )
            ], stats
    stats = {"tried": total, "seconds": round(time.perf_counter() - started, 3)}
    return [
        Finding(
            "secret-not-found",
            "info",
            f"the HMAC secret is not among {total} known secrets",
            "Not proof of strength: only the lists tried were ruled out.",
            "Use a random secret of at least the hash length (gatepass keygen).",
        )
    ], stats


def secret_findings(parsed: rules.Parsed, alg: str, secret: Secret) -> list[Finding]:
    if alg not in rules.HMAC_DIGESTS:
        return [
            Finding(
                "key-mismatch",
                "info",
                f"an HMAC secret was given but the token says alg {alg}; signature not checked",
                "Verifying an asymmetric token with a secret is the algorithm-confusion attack.",
                "Give the public key with --key.",
            )
        ]
    findings: list[Finding] = []
    need = HMAC_HASH_BYTES[alg]
    if len(secret.value) < need:
        findings.append(
            Finding(
                "secret-too-short",
                "high",
                f"the secret is {len(secret.value)} bytes; {alg} needs at least {need}",
                "RFC 7518 3.2 requires a key at least as long as the hash; short secrets fall to "
                "offline brute force from a single token.",
                f"Replace it with `gatepass keygen {alg}`.",
            )
        )
    if rules.hmac_matches(alg, parsed.signing_input, parsed.signature, secret.value):
        findings.append(
            Finding(
                "signature-valid",
                "info",
                f"the signature verifies with the secret from {secret.source}",
                "The token was signed with this secret.",
            )
        )
    else:
        findings.append(
            Finding(
                "signature-invalid",
                "high",
                f"the signature does NOT verify with the secret from {secret.source}",
                "The token was altered, or signed with a different secret.",
                "Reject the token; check you have the right secret.",
            )
        )
    return findings


def key_findings(token: str, key_path: str, alg_opt: str | None) -> list[Finding]:
    key = verification_key(key_path, alg_opt)
    try:
        jws.verify(token, key, max_size=1 << 20)
    except BadSignature as exc:
        return [
            Finding(
                "signature-invalid",
                "high",
                f"the signature does NOT verify with {key_path}",
                f"{exc} [{exc.code}]: the token was altered or signed with another key.",
                "Reject the token.",
            )
        ]
    except InvalidToken as exc:
        return [
            Finding(
                "signature-not-verified",
                "high",
                f"the token cannot be verified with {key_path}: {exc.code}",
                str(exc),
                "Check the key, its algorithm (--alg) and the token.",
            )
        ]
    return [
        Finding(
            "signature-valid",
            "info",
            f"the signature verifies with {key_path}",
            "The token was signed with this key (claims are judged above).",
        )
    ]


def run(args: argparse.Namespace, printer: Printer) -> int:
    token = read_token(args.token)
    secret = secret_from(args)
    now = now_or(parse_time(args.at) if args.at else None)
    parsed = rules.parse_lenient(token)
    findings: list[Finding] = []
    if parsed.problems:
        findings.append(
            Finding(
                "malformed",
                "high" if parsed.header is not None else "critical",
                "the token is not a well-formed JWS: " + "; ".join(parsed.problems),
                "Strict verifiers reject it; lenient parsers that accept it disagree with strict "
                "ones, which is how forged tokens slip between layers.",
                "Issue compact JWS tokens: three base64url segments of JSON objects.",
            )
        )
    else:
        try:
            jwt.inspect(token, max_size=MAX_INPUT)
        except InvalidToken as exc:
            findings.append(
                Finding(
                    "not-canonical",
                    "high",
                    f"gatepass's strict parser rejects the token: {exc.code}",
                    f"{exc}. Lenient libraries may accept what strict ones reject (a parser "
                    "differential), e.g. padding, junk characters or duplicate members.",
                    "Issue tokens with a standard-conforming library.",
                )
            )
    findings.extend(rules.static_findings(token, parsed.header, parsed.claims, now))
    alg = str((parsed.header or {}).get("alg", ""))
    crack_stats: dict[str, Any] | None = None
    if alg in rules.HMAC_DIGESTS and parsed.signing_input:
        findings.append(
            Finding(
                "hmac",
                "low",
                f"{alg}: one shared secret both signs and verifies",
                "Every service that can verify these tokens can also mint them, and the secret "
                "can be brute-forced offline from any token.",
                "Between services prefer ES256 or EdDSA with a published JWKS.",
            )
        )
        if not args.no_crack:
            cracked, crack_stats = crack_findings(parsed, alg, args.wordlist)
            findings.extend(cracked)
    elif args.wordlist and not args.no_crack:
        printer.warn(f"--wordlist ignored: the token's alg {alg!r} is not HMAC")
    if secret is not None and parsed.signing_input:
        findings.extend(secret_findings(parsed, alg, secret))
    elif args.key:
        if not parsed.signing_input:
            raise CliError("cannot check the signature of a malformed token")
        findings.extend(key_findings(token, args.key, args.alg))

    findings = rules.sort_findings(findings)
    failing = args.fail_on != "never" and any(f.at_least(args.fail_on) for f in findings)
    counts = {s: sum(f.severity == s for f in findings) for s in rules.SEVERITIES}
    if args.json:
        emit_json(
            {
                "token": {
                    "alg": (parsed.header or {}).get("alg"),
                    "kid": (parsed.header or {}).get("kid"),
                    "size": len(token),
                },
                "findings": [f.as_dict() for f in findings],
                "summary": counts,
                "fail_on": args.fail_on,
                "failed": failing,
                "secrets_tried": crack_stats,
            }
        )
        return 1 if failing else 0
    printer.line(
        printer.paint(f"Audit of a {alg or 'unknown-alg'} token ({len(token)} bytes)", "bold")
    )
    for finding in findings:
        rules.print_finding(printer, finding)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
    printer.line()
    printer.line(summary)
    if crack_stats:
        printer.line(f"({crack_stats['tried']} known secrets tried in {crack_stats['seconds']} s)")
    return 1 if failing else 0
