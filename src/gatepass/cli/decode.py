"""``gatepass decode``: show a token's header and claims without verifying anything."""

from __future__ import annotations

import argparse
from typing import Any

from gatepass.cli import dpop_view, keyless
from gatepass.cli.args import add_at, add_json, add_token, new_command
from gatepass.cli.findings import print_finding
from gatepass.cli.inputs import MAX_INPUT, parse_time, read_token
from gatepass.cli.output import (
    Printer,
    emit_json,
    now_or,
    render_object,
    shortened,
    time_info,
)
from gatepass.errors import MalformedToken
from gatepass.tokens import jws, jwt
from gatepass.tokens._b64 import b64encode

NOT_VERIFIED = (
    "NOT VERIFIED: decoded only; the signature and claims were not checked. "
    "Check them with gatepass verify and your key before trusting anything shown here."
)

_EPILOG = """\
examples:
  gatepass decode eyJhbGciOiJFUzI1NiIs...
  pbpaste | gatepass decode -
  gatepass decode --json "$TOKEN" | jq .claims.sub
  gatepass decode --at 2026-01-31T12:00:00Z "$TOKEN"   # times relative to that moment
  gatepass decode "$DPOP_PROOF"   # a DPoP proof: its key's thumbprint, request, age, ath, nonce

Exit codes: 0 decoded, 1 not a well-formed token, 2 usage error.
Decoding proves nothing: anyone can write any claims into an unsigned or forged token.
"""


def register(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = new_command(
        sub,
        common,
        "decode",
        summary="show header and claims (NOT verified)",
        description="Decode a JWT and show its header and claims, times as dates and relative "
        "to now. Nothing is verified.",
        epilog=_EPILOG,
    )
    add_token(parser)
    add_json(parser)
    add_at(parser, "show times relative to TIME")
    return parser


def run(args: argparse.Namespace, printer: Printer) -> int:
    token = read_token(args.token)
    now = now_or(parse_time(args.at) if args.at else None)
    payload_text: str | None = None
    try:
        view = jwt.inspect(token, max_size=MAX_INPUT)
        header: dict[str, Any] = dict(view.header)
        claims: dict[str, Any] | None = dict(view.claims)
        signature = view.signature
    except MalformedToken:
        # A JWS whose payload is not a JSON object is still worth showing; junk is not.
        jview = jws.inspect(token, max_size=MAX_INPUT)
        header = dict(jview.header)
        claims = None
        payload_text = jview.payload.decode("utf-8", "replace")
        signature = jview.signature
    times = time_info(claims or {}, now)
    dpop = dpop_view.describe(header, claims, now)
    warnings = [f for f in keyless.findings(token, now) if f.serious]

    if args.json:
        emit_json(
            {
                "verified": False,
                "note": NOT_VERIFIED,
                "header": header,
                "claims": claims,
                "payload": payload_text,
                "signature": b64encode(signature),
                "signature_bytes": len(signature),
                "size": len(token),
                "times": times,
                "dpop": dpop,
                "warnings": [f.as_dict() for f in warnings],
            }
        )
        return 0

    printer.line(printer.paint(NOT_VERIFIED, "bold", "yellow"))
    printer.line()
    render_object(printer, "Header", header)
    if claims is not None:
        render_object(printer, "Claims", claims, times)
    else:
        printer.line(printer.paint("Payload (not a JSON object, shown as text)", "bold"))
        printer.line(f"  {shortened(repr(payload_text))}")
    if dpop is not None:
        dpop_view.render(printer, dpop)
    printer.line(printer.paint("Signature", "bold"))
    printer.line(f"  {len(signature)} bytes, token {len(token)} bytes")
    if warnings:
        printer.line()
        printer.line(printer.paint("Warnings (gatepass audit gives the full review)", "bold"))
        for finding in warnings:
            print_finding(printer, finding, brief=True)
    return 0
