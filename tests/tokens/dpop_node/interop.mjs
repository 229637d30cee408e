// A second DPoP implementation for gatepass's interop tests, driven over stdin/stdout as JSON.
//
// {"make": [{alg, htm, htu, nonce?, accessToken?}]}  -> proofs signed by panva's `dpop`, each
//     with the thumbprint `dpop.calculateThumbprint` computes for its key;
// {"verify": [{proof, htm, htu, now, maxAge, algorithms, accessToken?, nonce?}]}  -> each proof
//     checked with `jose` (jwtVerify + EmbeddedJWK: typ, alg allow-list, a public embedded key,
//     the signature, iat age), then htm, htu, ath and nonce compared here, RFC 9449 4.3.
import { createHash } from 'node:crypto'
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop'
import { EmbeddedJWK, base64url, calculateJwkThumbprint, jwtVerify } from 'jose'

async function make({ alg, htm, htu, nonce, accessToken }) {
  const keys = await generateKeyPair(alg)
  const proof = await generateProof(keys, htu, htm, nonce, accessToken)
  return { proof, jkt: await calculateThumbprint(keys.publicKey) }
}

async function verify({ proof, htm, htu, now, maxAge, algorithms, accessToken, nonce }) {
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms,
      currentDate: new Date(now * 1000),
      maxTokenAge: maxAge,
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
    })
    if (payload.htm !== htm) throw new Error('htm differs')
    if (payload.htu !== htu) throw new Error('htu differs')
    if (accessToken !== undefined) {
      const ath = base64url.encode(createHash('sha256').update(accessToken, 'ascii').digest())
      if (payload.ath !== ath) throw new Error('ath differs')
    }
    if (nonce !== undefined && payload.nonce !== nonce) throw new Error('nonce differs')
    const jkt = await calculateJwkThumbprint(protectedHeader.jwk, 'sha256')
    return { ok: true, jkt, jti: payload.jti, iat: payload.iat }
  } catch (error) {
    return { ok: false, error: `${error.code ?? error.name}: ${error.message}` }
  }
}

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const answer = { made: [], verified: [] }
for (const item of request.make ?? []) answer.made.push(await make(item))
for (const item of request.verify ?? []) answer.verified.push(await verify(item))
process.stdout.write(JSON.stringify(answer))
