/**
 * A refusal the client caused or can act on: the HTTP status and one line naming the problem, sent
 * as `{ error }`. Anything else that reaches the error handler is the server's fault (500).
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);
