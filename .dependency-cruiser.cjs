/**
 * The architecture, checked on every test run (scripts/test.sh -> npm run lint): imports point one way,
 * cli -> controller -> core <- agent, with the event contract in events/ shared by agent and controller; only the
 * rpc edges touch the generated protobuf code; no import cycles.
 */
/** Files allowed to import proto/gen: the gRPC edges of controller and agent, the event codec, and tests. */
const RPC_EDGE = '^(controller/rpc/|agent/agent-service[.]ts$|agent/agent[.]ts$|agent/rpc-guard[.]ts$|agent/fault-verify[.]ts$|events/|test/|proto/gen/)';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles make modules impossible to read or test alone.', from: {}, to: { circular: true } },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'core/ is the pure domain (Jepsen vocabulary): it imports nothing of controller, agent, cli, events or proto.',
      from: { path: '^core/' },
      to: { path: '^(controller|agent|cli|events|proto)/' },
    },
    {
      name: 'controller-not-cli-or-agent',
      severity: 'error',
      comment: 'The controller drives agents over gRPC; it never imports the agent or the CLI.',
      from: { path: '^controller/' },
      to: { path: '^(cli|agent)/' },
    },
    {
      name: 'agent-not-controller-or-cli',
      severity: 'error',
      comment: 'The agent is small and knows nothing of the controller or the CLI.',
      from: { path: '^agent/' },
      to: { path: '^(controller|cli)/' },
    },
    {
      name: 'events-only-contract',
      severity: 'error',
      comment: 'events/ is the contract: it imports only the generated event message.',
      from: { path: '^events/' },
      to: { path: '^(controller|agent|cli|core)/' },
    },
    {
      name: 'generated-code-at-the-edge',
      severity: 'error',
      comment: 'Generated protobuf types stay at the rpc edges (controller/rpc, the agent service, the event codec).',
      from: { pathNot: RPC_EDGE },
      to: { path: '^proto/gen/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
