/** A mistake by the user (bad flag, missing file): printed as one line, no stack trace. */
export class UserError extends Error {
  override name = 'UserError';
}
