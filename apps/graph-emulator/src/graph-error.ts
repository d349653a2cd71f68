/**
 * An error answered in Graph's own shape. Thrown anywhere below the router and rendered by it as
 * `{ error: { code, message, innerError: { date, request-id, client-request-id } } }`.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { details?: Array<Record<string, unknown>>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

export const notFound = (id: string): GraphError =>
  new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

export const badRequest = (message: string, code = 'Request_BadRequest'): GraphError => new GraphError(400, code, message);

export const conflict = (property: string): GraphError =>
  new GraphError(400, 'Request_BadRequest', `Another object with the same value for property ${property} already exists.`, {
    details: [{ code: 'ObjectConflict', target: property }],
  });

export const unsupportedFilter = (property: string, resource: string): GraphError =>
  new GraphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`);

export const insufficientPrivileges = (): GraphError =>
  new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

export const invalidToken = (message: string): GraphError =>
  new GraphError(401, 'InvalidAuthenticationToken', message, { headers: { 'WWW-Authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"' } });

/** Render the OData error body as Graph does (innerError date without fractional seconds). */
export function errorBody(err: GraphError, requestId: string, clientRequestId: string, now: number): Record<string, unknown> {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.extra.details) error.details = err.extra.details;
  error.innerError = {
    date: new Date(now).toISOString().slice(0, 19),
    'request-id': requestId,
    'client-request-id': clientRequestId,
  };
  return { error };
}
