/**
 * HTTP Digest access authentication, client side (RFC 7616, which keeps RFC 2617's MD5
 * and adds SHA-256 and SHA-512/256). Some CalDAV servers accept nothing else: SabreDAV's
 * digest backends, Baïkal in its default configuration.
 *
 * Written here rather than taken from npm: the packages on offer quote `nc` and `qop`
 * (RFC 7616 §3.4 says they are unquoted), refuse challenges carrying RFC 7616's own
 * parameters (`charset`, `userhash`), or cannot tell apart several challenges in one
 * header; what remains is node:crypto hashing and a small header grammar.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** As the server named it (`MD5`, `SHA-256-sess`, …). */
  algorithm: string;
  qop?: 'auth' | 'auth-int';
  stale: boolean;
  userhash: boolean;
}

const HASHES: Record<string, string> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };
const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * The challenges of one or more WWW-Authenticate values (a fetch Headers object joins
 * repeated headers with ", "), after RFC 9110 §11.6.1: `scheme [token68 | #auth-param]`.
 * Unparseable remainders are dropped rather than thrown: the caller only looks for Digest.
 */
export function parseChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < header.length && chars.test(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < header.length && TOKEN.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  const quoted = (): string => {
    let out = '';
    i++; // opening quote
    while (i < header.length && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < header.length) i++;
      out += header[i++];
    }
    i++; // closing quote
    return out;
  };
  let current: AuthChallenge | undefined;
  while (i < header.length) {
    skip(/[\s,]/);
    if (i >= header.length) break;
    const start = i;
    const name = token();
    if (name === '') {
      i++; // a stray character: step over it
      continue;
    }
    skip(/[ \t]/);
    if (header[i] === '=' && current && !/^=*\s*(,|$)/.test(header.slice(i))) {
      i++;
      skip(/[ \t]/);
      current.params[name.toLowerCase()] = header[i] === '"' ? quoted() : token();
      continue;
    }
    if (header[i] === '=') {
      // token68 (`Negotiate abc==`) or a parameter with no challenge before it: not ours.
      skip(/=/);
      continue;
    }
    i = start + name.length;
    current = { scheme: name, params: {} };
    challenges.push(current);
  }
  return challenges;
}

function baseAlgorithm(algorithm: string): string {
  return algorithm.toUpperCase().replace(/-SESS$/, '');
}

/** The first Digest challenge offered whose algorithm and qop this client can answer (servers list their preference first). */
export function digestChallengeOf(header: string | null): DigestChallenge | undefined {
  if (!header) return undefined;
  for (const { scheme, params } of parseChallenges(header)) {
    if (scheme.toLowerCase() !== 'digest' || params.realm === undefined || !params.nonce) continue;
    const algorithm = params.algorithm ?? 'MD5';
    if (!HASHES[baseAlgorithm(algorithm)]) continue;
    const offered = (params.qop ?? '').split(',').map((q) => q.trim().toLowerCase()).filter(Boolean);
    // A qop list naming neither value this client knows cannot be answered.
    if (offered.length > 0 && !offered.includes('auth') && !offered.includes('auth-int')) continue;
    const qop = offered.includes('auth') ? 'auth' : offered.includes('auth-int') ? 'auth-int' : undefined;
    return {
      realm: params.realm,
      nonce: params.nonce,
      ...(params.opaque !== undefined ? { opaque: params.opaque } : {}),
      algorithm,
      ...(qop ? { qop } : {}),
      stale: params.stale?.toLowerCase() === 'true',
      userhash: params.userhash?.toLowerCase() === 'true',
    };
  }
  return undefined;
}

export interface DigestRequest {
  username: string;
  password: string;
  method: string;
  /** The request-target: path and query, as sent on the request line. */
  uri: string;
  /** What is sent as the body (for qop=auth-int). */
  body?: string;
  /** Requests answered under this nonce so far, this one included (1 for the first). */
  nonceCount: number;
  /** Random client nonce; tests pass the RFC's. */
  cnonce?: string;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The `Authorization` header value answering `challenge` for this request. */
export function digestAuthorization(challenge: DigestChallenge, request: DigestRequest): string {
  const hashName = HASHES[baseAlgorithm(challenge.algorithm)]!;
  const H = (text: string): string => createHash(hashName).update(text, 'utf8').digest('hex');
  const cnonce = request.cnonce ?? randomBytes(16).toString('hex');
  const nc = request.nonceCount.toString(16).padStart(8, '0');
  let ha1 = H(`${request.username}:${challenge.realm}:${request.password}`);
  if (/-sess$/i.test(challenge.algorithm)) ha1 = H(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = challenge.qop === 'auth-int' ? H(`${request.method}:${request.uri}:${H(request.body ?? '')}`) : H(`${request.method}:${request.uri}`);
  const response = challenge.qop ? H(`${ha1}:${challenge.nonce}:${nc}:${cnonce}:${challenge.qop}:${ha2}`) : H(`${ha1}:${challenge.nonce}:${ha2}`);
  const username = challenge.userhash ? H(`${request.username}:${challenge.realm}`) : request.username;
  // RFC 7616 §3.4.4: a name that cannot travel in a quoted-string goes as username*.
  const asciiName = /^[\x20-\x7e]*$/.test(username);
  const parts = [
    asciiName ? `username=${quote(username)}` : `username*=UTF-8''${encodeURIComponent(username)}`,
    `realm=${quote(challenge.realm)}`,
    `uri=${quote(request.uri)}`,
    `algorithm=${challenge.algorithm}`,
    `nonce=${quote(challenge.nonce)}`,
    ...(challenge.qop ? [`nc=${nc}`, `cnonce=${quote(cnonce)}`, `qop=${challenge.qop}`] : []),
    `response=${quote(response)}`,
    ...(challenge.opaque !== undefined ? [`opaque=${quote(challenge.opaque)}`] : []),
    ...(challenge.userhash ? ['userhash=true'] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}
