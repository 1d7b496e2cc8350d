/** Errors the controller raises that a caller acts on. */

export class AgentUnavailableError extends Error {
  override readonly name = 'AgentUnavailableError';
  constructor(
    readonly nodeId: string,
    readonly address: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot reach agent "${nodeId}" at ${address}: ${detail}; is the agent running (faultline lab status)?`, options);
  }
}

/** The agent answered, but refused or failed the request. */
export class AgentRequestError extends Error {
  override readonly name = 'AgentRequestError';
  constructor(
    readonly nodeId: string,
    readonly call: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Agent "${nodeId}" could not ${call}: ${detail}`, options);
  }
}

/** A precondition on the nodes that stops a run before it starts (missing DB binary, missing iptables, ...). */
export class NodePreconditionError extends Error {
  override readonly name = 'NodePreconditionError';
}

/** A certificate that cannot be made, read or trusted (a user's files or options): exit 254. */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
}
