// Token auth. Writes need the token whenever one is configured (always when bound to a non-loopback
// address); reads need it only from non-loopback clients of a server bound to a non-loopback address.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { apiError } from './errors.ts';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isLoopback(h.slice(7));
  return false;
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface AuthPolicy {
  /** Token required for writes (and non-loopback reads); null = open (loopback without --token). */
  token: string | null;
  /** The server listens on a non-loopback address. */
  exposed: boolean;
}

export function authPolicy(host: string, token?: string): AuthPolicy {
  const exposed = !isLoopback(host);
  return { exposed, token: token ?? (exposed ? generateToken() : null) };
}

function presentedToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const header = req.headers['x-ssmb-token'];
  if (typeof header === 'string') return header;
  // EventSource and download links cannot set headers: accept ?token= too.
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof q === 'string' ? q : undefined;
}

function matches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function checkAuth(policy: AuthPolicy, req: FastifyRequest, write: boolean): void {
  if (policy.token === null) return;
  const needed = write || (policy.exposed && !isLoopback(req.socket.remoteAddress ?? req.ip));
  if (!needed) return;
  const given = presentedToken(req);
  if (given === undefined) throw apiError(write ? 'TOKEN_REQUIRED' : 'READ_AUTH');
  if (!matches(policy.token, given)) throw apiError('TOKEN_INVALID');
}
