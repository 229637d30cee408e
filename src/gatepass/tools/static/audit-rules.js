/* GENERATED from gatepass/cli/data/audit-rules.json by `make audit-rules`
 * (python -m gatepass.tools.rules_module): edit the JSON file, never this one.
 * The audit rules the command line and this page share; read by audit.js.
 */
"use strict";
window.GPAuditRules = Object.freeze({
 "about": [
  "The review rules of `gatepass audit`, the warnings of `gatepass decode` and the warnings of the tools page's Decode pane: one file, read by gatepass/cli/keyless.py and (through the generated tools/static/audit-rules.js) by the page's audit.js.",
  "Edit this file, then run `make audit-rules` to regenerate the page's copy; `make test` fails while the copy is stale, and tests/tools/test_audit_parity.py runs one table of tokens through the CLI and the page and compares every finding.",
  "Patterns use the syntax Python's re (ASCII mode) and JavaScript's RegExp share: no \\s, \\d, lookbehind, named groups or $ (the `values` patterns are matched against the whole value by both readers)."
 ],
 "severities": [
  "critical",
  "high",
  "medium",
  "low",
  "info"
 ],
 "limits": {
  "access_token_lifetime": 900,
  "long_lifetime_high": 86400,
  "size": 1024,
  "size_high": 8192,
  "clock_skew": 60,
  "kid_length": 128,
  "nesting": 6,
  "array_items": 100,
  "listed": 8,
  "quoted": 40
 },
 "kid_patterns": [
  {
   "label": "a file path (path traversal)",
   "pattern": "\\.\\.[/\\\\]|^[/\\\\]|^[A-Za-z]:\\\\|[/\\\\](etc|proc|dev|var|tmp|windows)[/\\\\]|%2e%2e|%00",
   "flags": "i"
  },
  {
   "label": "NUL or control characters",
   "pattern": "[\\x00-\\x1f\\x7f]",
   "flags": ""
  },
  {
   "label": "SQL syntax (SQL injection)",
   "pattern": "['\"`]|[ \\t\\r\\n]--|--[ \\t\\r\\n]|/\\*|\\bunion\\b.+\\bselect\\b|\\bor\\b[ \\t\\r\\n]+[^ \\t\\r\\n]+[ \\t\\r\\n]*=|;[ \\t\\r\\n]*\\w",
   "flags": "i"
  },
  {
   "label": "shell syntax (command injection)",
   "pattern": "\\$\\(|[|&;<>`]|\\$\\{",
   "flags": ""
  },
  {
   "label": "a URL (remote key fetching)",
   "pattern": "^[a-z][a-z0-9+.-]*://",
   "flags": "i"
  }
 ],
 "values": {
  "email": "[^@ \\t\\r\\n]{1,64}@[^@ \\t\\r\\n]+\\.[A-Za-z]{2,}",
  "phone": "\\+?[0-9 ().-]{7,20}",
  "phone_digits": [
   8,
   15
  ]
 },
 "credential_words": [
  "password",
  "passwd",
  "pwd",
  "pass",
  "passphrase",
  "secret",
  "pin",
  "otp",
  "totp",
  "credential",
  "credentials",
  "apikey",
  "privatekey",
  "accesskey",
  "clientsecret"
 ],
 "credential_pairs": [
  "api key",
  "private key",
  "access key",
  "client secret",
  "session id"
 ],
 "credential_names": [
  "token",
  "accesstoken",
  "refreshtoken",
  "idtoken",
  "sessionid",
  "sidraw"
 ],
 "personal_names": {
  "emailaddress": "an e-mail address",
  "phonenumber": "a phone number",
  "mobilenumber": "a phone number",
  "streetaddress": "a postal address",
  "postalcode": "a postal address",
  "zipcode": "a postal address",
  "dateofbirth": "a date of birth",
  "socialsecuritynumber": "a national identity number",
  "nationalid": "a national identity number",
  "taxid": "a tax number",
  "creditcard": "a card number",
  "cardnumber": "a card number",
  "name": "a person's name",
  "fullname": "a person's name",
  "givenname": "a person's name",
  "familyname": "a person's name",
  "firstname": "a person's name",
  "lastname": "a person's name",
  "middlename": "a person's name",
  "surname": "a person's name",
  "ipaddress": "an IP address"
 },
 "personal_words": {
  "email": "an e-mail address",
  "mail": "an e-mail address",
  "phone": "a phone number",
  "mobile": "a phone number",
  "tel": "a phone number",
  "telephone": "a phone number",
  "address": "a postal address",
  "street": "a postal address",
  "zip": "a postal address",
  "postcode": "a postal address",
  "postal": "a postal address",
  "birthdate": "a date of birth",
  "birthday": "a date of birth",
  "dob": "a date of birth",
  "ssn": "a national identity number",
  "passport": "a passport number",
  "iban": "a bank account",
  "gender": "gender",
  "location": "a location",
  "ip": "an IP address"
 },
 "refresh_markers": {
  "typ_contains": "refresh",
  "typ_ends_with": "id_token+jwt",
  "claims": [
   "token_use",
   "token_type"
  ]
 },
 "dpop": {
  "about": "A DPoP proof (RFC 9449) is recognised by its typ; it carries its own public key and no exp, so the rules for bearer tokens about jwk, exp, iss, aud, sub and jti give way to the proof's own rules. max_age and leeway are gatepass's verifier defaults (gatepass.tokens.dpop).",
  "typ": "dpop+jwt",
  "required_claims": [
   "jti",
   "htm",
   "htu",
   "iat"
  ],
  "private_members": [
   "d",
   "p",
   "q",
   "dp",
   "dq",
   "qi",
   "oth",
   "k"
  ],
  "max_age": 60,
  "leeway": 5
 },
 "findings": {
  "malformed": {
   "severity": {
    "header": "high",
    "no-header": "critical"
   },
   "title": "the token is not a well-formed JWS: {problems}",
   "why": "Strict verifiers reject it; lenient parsers that accept it disagree with strict ones, which is how forged tokens slip between layers.",
   "fix": "Issue compact JWS tokens: three base64url segments of JSON objects.",
   "detail_from_parser": true,
   "keyless": true
  },
  "not-canonical": {
   "severity": "high",
   "title": "gatepass's strict parser refuses the token: {problem}",
   "why": "Lenient libraries may accept what strict ones refuse (a parser differential): padding, junk characters, duplicate member names, deep nesting.",
   "fix": "Issue tokens with a standard-conforming library.",
   "detail_from_parser": true,
   "keyless": true
  },
  "size": {
   "severity": {
    "over": "medium",
    "over-header-limit": "high"
   },
   "title": "the token is {size} bytes (over {limit})",
   "why": "It travels with every request; large tokens slow every call, overflow header limits (often 8 KB) and usually mean data that belongs on the server.",
   "fix": "Keep claims minimal: ids, not profiles or permission lists.",
   "keyless": true
  },
  "alg-missing": {
   "severity": "critical",
   "title": "the header has no alg",
   "why": "Without an algorithm the token cannot be verified; libraries that default one have accepted forgeries.",
   "fix": "Sign tokens with a library that sets alg from the key.",
   "keyless": true
  },
  "alg-none": {
   "severity": "critical",
   "title": "alg is {alg}: the token is unsigned",
   "why": "Anyone can write any claims into an unsigned token. Libraries that trust the header's alg accepted such forgeries (node-jsonwebtoken CVE-2022-23540, Authlib until 2026).",
   "fix": "Reject alg none everywhere; verify with a key bound to one algorithm.",
   "keyless": true
  },
  "alg-unknown": {
   "severity": "high",
   "title": "alg {alg} is not a standard JWS signature algorithm",
   "why": "Unknown or weak algorithms are either rejected by sound verifiers or mishandled by lenient ones.",
   "fix": "Use ES256, EdDSA or RS256 (or HS256 with a strong secret for one service).",
   "keyless": true
  },
  "signature-empty": {
   "severity": "critical",
   "title": "the header says {alg} but the signature is empty",
   "why": "A signed token with no signature can only be valid to a verifier that skips the check.",
   "fix": "Reject it; find out what produced it.",
   "keyless": true
  },
  "hmac": {
   "severity": "low",
   "title": "{alg}: one shared secret both signs and verifies",
   "why": "Every service that can verify these tokens can also mint them, and the secret can be brute-forced offline from any token.",
   "fix": "Between services prefer ES256 or EdDSA with a published JWKS.",
   "keyless": true
  },
  "header-jku": {
   "severity": "high",
   "title": "the header names a key URL: jku = {value}{insecure}",
   "why": "A verifier that fetches keys from a URL inside the token lets the attacker choose the key, and can be used for server-side requests (PyJWT CVE-2026-48522).",
   "fix": "Configure the JWKS URL on the verifier; ignore key locations in tokens.",
   "insecure_note": " (not even https)",
   "keyless": true
  },
  "header-x5u": {
   "severity": "high",
   "title": "the header names a key URL: x5u = {value}{insecure}",
   "why": "A verifier that fetches keys from a URL inside the token lets the attacker choose the key, and can be used for server-side requests (SSRF and key substitution).",
   "fix": "Configure the JWKS URL on the verifier; ignore key locations in tokens.",
   "insecure_note": " (not even https)",
   "keyless": true
  },
  "header-jwk": {
   "severity": "high",
   "title": "the header embeds a key (jwk)",
   "why": "Verifying with a key carried by the token itself proves nothing: the attacker signs with their own key and embeds it (Authlib CVE-2026-27962).",
   "fix": "Verify only with keys configured on the server.",
   "keyless": true
  },
  "header-x5c": {
   "severity": "high",
   "title": "the header embeds a key (x5c)",
   "why": "Verifying with a key carried by the token itself proves nothing: the attacker signs with their own key and embeds it (Authlib CVE-2026-27962).",
   "fix": "Verify only with keys configured on the server.",
   "keyless": true
  },
  "dpop-private-key": {
   "severity": "critical",
   "title": "the DPoP proof's jwk holds private key material ({members})",
   "why": "A proof carries only the public key. With the private part in it, anyone who sees one proof (a log, a proxy, a script in the page) can sign proofs as this client, so every token bound to the key is theirs too. Verifiers refuse such a proof (RFC 9449 4.3).",
   "fix": "Treat the key as compromised: make a new key pair whose private key never leaves the client (WebCrypto with extractable: false in a browser), put only kty and the public members in jwk, and log out the sessions bound to the old key.",
   "keyless": true
  },
  "dpop-jwk-missing": {
   "severity": "high",
   "title": "the DPoP proof has no usable public key in jwk{problem}",
   "why": "A proof proves possession of the key in its jwk header, and a bound token names that key's thumbprint: without a public JWK there (kty and its public members) every verifier refuses the proof.",
   "fix": "Put the client's public key in the header's jwk, for example {\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": ..., \"y\": ...}.",
   "keyless": true
  },
  "kid-type": {
   "severity": "medium",
   "title": "kid is {type}, not a string",
   "why": "Verifiers that use kid as a lookup key may misbehave on other types (type confusion in key lookup).",
   "fix": "Use short opaque string key ids, such as the RFC 7638 thumbprint.",
   "keyless": true
  },
  "kid-injection": {
   "severity": "high",
   "title": "kid {kid} contains {reasons}",
   "why": "kid is attacker-controlled. Verifiers that build a file path, SQL query, shell command or URL from it have been tricked into signing-key choices such as /dev/null (an empty HMAC key) or a row the attacker controls.",
   "fix": "Select keys only by exact match in a fixed key set; reject any other kid.",
   "keyless": true
  },
  "kid-length": {
   "severity": "low",
   "title": "kid is {length} characters long",
   "why": "Unusually long key ids suggest data smuggled into the header.",
   "fix": "Use short opaque key ids.",
   "keyless": true
  },
  "crit": {
   "severity": {
    "valid": "medium",
    "malformed": "high"
   },
   "title": "the header marks extensions as critical: {crit}{malformed}",
   "why": "A verifier must reject the token unless it understands every listed extension (RFC 7515 4.1.11); several libraries ignored crit (PyJWT CVE-2026-32597, Authlib CVE-2025-59420).",
   "fix": "Avoid crit unless every verifier implements the extension.",
   "malformed_note": " (malformed: RFC 7515 requires a non-empty list of names present in the header)",
   "keyless": true
  },
  "header-zip": {
   "severity": "medium",
   "title": "the header asks for compression (zip)",
   "why": "Compression belongs to JWE and has caused decompression bombs; a JWS with zip is unusual.",
   "fix": "Do not compress tokens.",
   "keyless": true
  },
  "header-b64": {
   "severity": "low",
   "title": "unencoded payload (b64: false, RFC 7797)",
   "why": "Verifiers that do not implement RFC 7797 check a different signing input.",
   "fix": "Use the default base64url payload for JWTs.",
   "keyless": true
  },
  "typ-missing": {
   "severity": "low",
   "title": "the header has no typ",
   "why": "Explicit typing (RFC 8725 3.11) stops an ID token or refresh token from being accepted as an access token.",
   "fix": "Set typ (at+jwt for access tokens, RFC 9068) and check it when verifying.",
   "keyless": true
  },
  "typ-generic": {
   "severity": "info",
   "title": "typ is the generic JWT",
   "why": "A generic type cannot tell access, ID and refresh tokens apart (RFC 8725 3.11).",
   "fix": "Use a specific type such as at+jwt for access tokens.",
   "keyless": true
  },
  "exp-missing": {
   "severity": "high",
   "title": "no exp claim: the token never expires",
   "why": "A leaked token without expiry works forever unless every verifier checks a denylist; some libraries do not require exp.",
   "fix": "Always set exp; 15 minutes or less for access tokens.",
   "keyless": true
  },
  "exp-type": {
   "severity": "high",
   "title": "exp is {type}, not a NumericDate",
   "why": "Libraries disagree on a non-numeric exp; some skip the expiry check entirely.",
   "fix": "Set exp to integer seconds since the epoch.",
   "keyless": true
  },
  "expired": {
   "severity": "info",
   "title": "the token expired {ago} ago",
   "why": "Verifiers reject it (unless their clock or leeway is off).",
   "fix": "",
   "keyless": true
  },
  "long-lifetime": {
   "severity": {
    "over": "medium",
    "over-a-day": "high"
   },
   "title": "{measured} of {lifetime}, over {limit} for an access token",
   "why": "A stolen JWT stays valid until exp: revoking it needs a denylist, which costs the lookup JWTs were meant to avoid. Long sessions belong in a refresh token or a session cookie.",
   "fix": "Keep access tokens at 15 minutes or less; renew them with a rotating refresh token (gatepass RefreshTokens).",
   "measured": {
    "iat": "lifetime (exp - iat)",
    "now": "remaining lifetime"
   },
   "keyless": true
  },
  "iat-future": {
   "severity": "medium",
   "title": "iat is {ahead} in the future",
   "why": "Issued-in-the-future tokens point to a wrong clock on the issuer or forgery.",
   "fix": "Check the issuer's clock (NTP).",
   "keyless": true
  },
  "not-yet-valid": {
   "severity": "info",
   "title": "nbf is {ahead} in the future: not valid yet",
   "why": "Verifiers reject it until then.",
   "fix": "",
   "keyless": true
  },
  "iss-missing": {
   "severity": "low",
   "title": "no iss claim",
   "why": "Without an issuer a token minted for one service can be replayed at another that trusts the same key.",
   "fix": "Set iss and have every verifier check it exactly.",
   "keyless": true
  },
  "aud-missing": {
   "severity": "low",
   "title": "no aud claim",
   "why": "Without an audience a token minted for one service can be replayed at another that trusts the same key.",
   "fix": "Set aud and have every verifier check it exactly.",
   "keyless": true
  },
  "sub-missing": {
   "severity": "low",
   "title": "no sub claim",
   "why": "A login token that does not say whose it is leaves each API to guess the user from other claims.",
   "fix": "Put an opaque user id in sub.",
   "keyless": true
  },
  "jti-missing": {
   "severity": "info",
   "title": "no jti claim",
   "why": "Without a token id a single token cannot be revoked on a denylist.",
   "fix": "Add a random jti (gatepass AccessTokens does).",
   "keyless": true
  },
  "dpop-claims-missing": {
   "severity": "high",
   "title": "the DPoP proof lacks {claims}",
   "why": "RFC 9449 4.2 requires jti, htm, htu and iat: without them a proof is not tied to one request at one moment, and verifiers refuse it.",
   "fix": "Sign every proof with a fresh random jti, the request's method (htm) and URL (htu) and the current time (iat).",
   "keyless": true
  },
  "credential-in-claims": {
   "severity": "high",
   "title": "claims that look like credentials: {paths}",
   "why": "A JWT payload is only base64url-encoded, not encrypted: anyone who sees the token (browser storage, logs, proxies, the user) reads these values.",
   "fix": "Never put passwords, secrets, keys or other tokens in a JWT.",
   "keyless": true
  },
  "personal-data": {
   "severity": "medium",
   "title": "personal data in claims: {items}",
   "why": "The payload is readable by anyone holding the token and is copied into logs and caches on every request; personal data there is a privacy (GDPR) exposure.",
   "fix": "Keep only an opaque user id (sub) in the token; look the rest up on the server.",
   "keyless": true
  },
  "weak-secret": {
   "severity": "critical",
   "title": "the HMAC secret is {secret}, found in {source}",
   "why": "Anyone with the same public list can sign tokens that every verifier accepts: a full authentication bypass.",
   "fix": "Rotate now: `gatepass keygen {alg} --out new` (or an asymmetric key), re-issue tokens, and treat every token signed with the old secret as forged.",
   "short_note": " It is also shorter than the {need} bytes {alg} needs.",
   "keyless": false
  },
  "secret-not-found": {
   "severity": "info",
   "title": "the HMAC secret is not among {count} known secrets",
   "why": "Not proof of strength: only the lists tried were ruled out.",
   "fix": "Use a random secret of at least the hash length (`gatepass keygen {alg} --out new`).",
   "keyless": false
  },
  "secret-too-short": {
   "severity": "high",
   "title": "the secret is {size} bytes; {alg} needs at least {need}",
   "why": "RFC 7518 3.2 requires a key at least as long as the hash; short secrets fall to offline brute force from a single token.",
   "fix": "Replace it: `gatepass keygen {alg} --out new`.",
   "keyless": false
  },
  "key-mismatch": {
   "severity": "info",
   "title": "an HMAC secret was given but the token says alg {alg}; signature not checked",
   "why": "Verifying an asymmetric token with a secret is the algorithm-confusion attack.",
   "fix": "Give the public key with --key.",
   "keyless": false
  },
  "signature-valid": {
   "severity": "info",
   "title": "the signature verifies with {source}",
   "why": "The token was signed with this key or secret (claims are judged above).",
   "fix": "",
   "keyless": false
  },
  "signature-invalid": {
   "severity": "high",
   "title": "the signature does NOT verify with {source}",
   "why": "The token was altered, or signed with a different key or secret.",
   "fix": "Reject the token; check you have the right key.",
   "keyless": false
  },
  "signature-not-verified": {
   "severity": "high",
   "title": "the token cannot be verified with {source}: {code}",
   "why": "{detail}",
   "fix": "Check the key, its algorithm (--alg) and the token.",
   "keyless": false
  }
 }
});
