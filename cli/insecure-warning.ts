/** The warning every plaintext start prints: --insecure turns off authentication of the controller-agent channel. */
export function insecureWarning(who: string): void {
  process.stderr.write(
    `${who}: WARNING: --insecure: plaintext gRPC, no authentication; anyone who can reach the agent can kill, pause and partition this node. Use only on a trusted network.\n`,
  );
}
