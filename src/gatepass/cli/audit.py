"""``gatepass audit``: a security review of one token, each finding with severity and why."""

from __future__ import annotations

import argparse
import time
from typing import Any

from gatepass.cli import keyless, weak_secrets
from gatepass.cli.args import add_at, add_json, add_key_options, add_token, new_command, secret_from
from gatepass.cli.audit_rules import quote, rules
from gatepass.cli.findings import SEVERITIES, Finding, print_finding, sort_findings
from gatepass.cli.inputs import (
    HMAC_HASH_BYTES,
    CliError,
    Secret,
    parse_time,
    read_token,
    verification_key,
)
from gatepass.cli.lenient import Parsed, parse_lenient
from gatepass.cli.output import Printer, emit_json, now_or, plural
from gatepass.errors import BadSignature, InvalidToken
from gatepass.tokens import jws
from gatepass.tokens.algorithms import ALGORITHM_SPECS

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
        choices=(*SEVERITIES, "never"),
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
    parsed: Parsed, alg: str, wordlists: list[str]
) -> tuple[list[Finding], dict[str, Any]]:
    r = rules()
    sources = [("gatepass's built-in list", weak_secrets.builtin_wordlist())]
    sources += [(path, weak_secrets.load_wordlist(path)) for path in wordlists]
    started = time.perf_counter()
    total = 0
    for name, words in sources:
        found, tried = weak_secrets.crack_hmac(alg, parsed.signing_input, parsed.signature, words)
        total += tried
        if found is not None:
            stats = {"tried": total, "seconds": round(time.perf_counter() - started, 3)}
            need = HMAC_HASH_BYTES[alg]
            weak = r.make("weak-secret", secret=_shown(found), source=name, alg=alg)
            if len(found) < need:
                short = r.note("weak-secret", "short_note", need=need, alg=alg)
                weak = Finding(weak.id, weak.severity, weak.title, weak.why + short, weak.fix)
            return [weak], stats
    stats = {"tried": total, "seconds": round(time.perf_counter() - started, 3)}
    return [r.make("secret-not-found", count=total, alg=alg)], stats


def secret_findings(parsed: Parsed, alg: str, secret: Secret) -> list[Finding]:
    r = rules()
    if alg not in weak_secrets.HMAC_DIGESTS:
        return [r.make("key-mismatch", alg=alg)]
    found: list[Finding] = []
    need = HMAC_HASH_BYTES[alg]
    if len(secret.value) < need:
        found.append(r.make("secret-too-short", size=len(secret.value), alg=alg, need=need))
    source = f"the secret from {secret.source}"
    if weak_secrets.hmac_matches(alg, parsed.signing_input, parsed.signature, secret.value):
        found.append(r.make("signature-valid", source=source))
    else:
        found.append(r.make("signature-invalid", source=source))
    return found


def key_findings(token: str, key_path: str, alg_opt: str | None, token_alg: str) -> list[Finding]:
    r = rules()
    key = verification_key(key_path, alg_opt, token_alg=token_alg or None)
    try:
        jws.verify(token, key, max_size=1 << 20)
    except BadSignature:
        return [r.make("signature-invalid", source=key_path)]
    except InvalidToken as exc:
        return [r.make("signature-not-verified", source=key_path, code=exc.code, detail=str(exc))]
    return [r.make("signature-valid", source=key_path)]


def _described(alg: str) -> str:
    """``an HS256 token``, ``a PS256 token``, ``a token without alg``: said as it is read."""
    if not alg:
        return "a token without alg"
    if alg not in ALGORITHM_SPECS:
        return f"a token with alg {quote(alg, 20)}"
    article = "an" if alg[0] in "AEFHILMNORSX" else "a"  # letters read with a vowel sound
    return f"{article} {alg} token"


def run(args: argparse.Namespace, printer: Printer) -> int:
    token = read_token(args.token)
    secret = secret_from(args)
    now = now_or(parse_time(args.at) if args.at else None)
    parsed = parse_lenient(token)
    findings = keyless.findings(token, now)
    alg = str((parsed.header or {}).get("alg", ""))
    crack_stats: dict[str, Any] | None = None
    if alg in weak_secrets.HMAC_DIGESTS and parsed.signing_input:
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
        findings.extend(key_findings(token, args.key, args.alg, alg))

    findings = sort_findings(findings)
    failing = args.fail_on != "never" and any(f.at_least(args.fail_on) for f in findings)
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
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
    printer.line(printer.paint(f"Audit of {_described(alg)} ({len(token)} bytes)", "bold"))
    for finding in findings:
        print_finding(printer, finding)
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no findings"
    printer.line()
    printer.line(summary)
    if crack_stats:
        tried = plural(crack_stats["tried"], "known secret")
        printer.line(f"({tried} tried in {crack_stats['seconds']} s)")
    return 1 if failing else 0
