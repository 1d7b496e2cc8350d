import type { DatabaseSpec } from './database-spec';

/** A stand-in database for clock-fault tests: a tiny Node server under libfaketime that tells its own clock. */
export const clockprobeSpec: DatabaseSpec = {
  name: 'clockprobe',
  description: 'test stand-in: a Node TCP server under libfaketime that answers with its clock (no workload)',
  packages: ['faketime'],
  options: {},
  abilities: ['kill', 'pause', 'clock-faketime'],
  workloads: [],
};
