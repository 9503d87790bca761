/**
 * CSRF for cookie-authenticated requests: the browser sends the session cookie with any request to the
 * monitor, so a write must also prove it comes from the console's own page, which alone can read the
 * session's CSRF token (from the sign-in answer or GET /api/v1/session) and send it back in the
 * `X-CSRF-Token` header (the synchronizer-token pattern, OWASP CSRF cheat sheet). Another site cannot set
 * that header without a CORS preflight the monitor never grants. SameSite=Strict on the cookie is the
 * second line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Writes need the token; reads do not (they must not change anything). */
export function needsCsrf(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

export interface CsrfProblem {
  readonly error: 'csrf';
  readonly message: string;
}

/** undefined when `sent` is the session's token; otherwise the 403 body saying what is wrong. */
export function csrfProblem(sent: string | undefined, expected: string): CsrfProblem | undefined {
  if (sent === undefined || sent === '')
    return {
      error: 'csrf',
      message:
        "Permintaan ditolak: token CSRF tidak ada. / Refused: send the session's CSRF token in the X-CSRF-Token header (from the sign-in answer or GET /api/v1/session).",
    };
  // Hash both sides: equal lengths for the constant-time compare, whatever was sent.
  const a = createHash('sha256').update(sent).digest();
  const b = createHash('sha256').update(expected).digest();
  if (!timingSafeEqual(a, b))
    return {
      error: 'csrf',
      message:
        'Permintaan ditolak: token CSRF salah. / Refused: the X-CSRF-Token does not match this session (sign in again if the page is old).',
    };
  return undefined;
}
