/**
 * The `system` clock strategy, for dedicated VMs only: shifts the node's real clock (CLOCK_REALTIME) with
 * `date`, with time synchronisation stopped while an offset is applied and restored afterwards. Every process on
 * the node sees the jump, so this is the strategy for Go programs (etcd) that libfaketime cannot reach. It is
 * never used in the lab, where all nodes share the host's clock: the agent refuses it unless it was started
 * with FAULTLINE_ALLOW_SYSTEM_CLOCK=1, and the CLI only asks for it with an explicit `--clock-strategy system`.
 */

/** Runs a command and resolves with its stdout; rejects when it fails or is missing. Injected so tests never touch a clock. */
export type CommandRunner = (cmd: string, args: string[]) => Promise<string>;

/** The time-sync services we know how to stop and restore, in the order we look for them. */
export const TIME_SYNC_UNITS = ['systemd-timesyncd', 'chrony', 'chronyd', 'ntp', 'ntpsec', 'openntpd'] as const;

/** What was running before we stopped it, so that restore starts exactly that again. */
export interface TimeSyncState {
  /** `timedatectl`'s NTP switch was on. */
  timedatectlNtp: boolean;
  /** systemd units that were active. */
  activeUnits: string[];
}

export const SYSTEM_CLOCK_ENV = 'FAULTLINE_ALLOW_SYSTEM_CLOCK';

/** Why the system strategy is refused on this agent, or undefined when it was explicitly allowed. */
export function systemClockRefusal(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env[SYSTEM_CLOCK_ENV] === '1') return undefined;
  return (
    'the system clock strategy changes the whole machine\'s clock and is for dedicated VMs only; ' +
    `start the agent with ${SYSTEM_CLOCK_ENV}=1 on a VM that runs nothing else`
  );
}

/** Shifts and restores the node's clock through injected commands. Keeps no state of its own: the journal does. */
export class SystemClock {
  constructor(private readonly run: CommandRunner) {}

  /** Stops every time-sync service that is running and reports what it stopped. */
  async stopTimeSync(): Promise<TimeSyncState> {
    const state: TimeSyncState = { timedatectlNtp: false, activeUnits: [] };
    try {
      state.timedatectlNtp = (await this.run('timedatectl', ['show', '--property=NTP', '--value'])).trim() === 'yes';
    } catch {
      // no timedatectl (no systemd): the units below are all we can find
    }
    if (state.timedatectlNtp) await this.run('timedatectl', ['set-ntp', 'false']);
    for (const unit of TIME_SYNC_UNITS) {
      let active = false;
      try {
        active = (await this.run('systemctl', ['is-active', unit])).trim() === 'active';
      } catch {
        // `systemctl is-active` exits non-zero for inactive or unknown units
      }
      if (active) {
        await this.run('systemctl', ['stop', unit]);
        state.activeUnits.push(unit);
      }
    }
    return state;
  }

  /** Moves the clock by `deltaMs` relative to what it reads now. */
  async shift(deltaMs: number): Promise<void> {
    if (!Number.isFinite(deltaMs)) throw new RangeError(`Cannot shift the clock by ${String(deltaMs)} ms`);
    if (deltaMs === 0) return;
    const now = Number((await this.run('date', ['+%s.%N'])).trim());
    if (!Number.isFinite(now)) throw new Error('Cannot read the system clock with "date +%s.%N"');
    await this.run('date', ['-s', `@${(now + deltaMs / 1000).toFixed(6)}`]);
  }

  /** Shifts the clock back by `appliedOffsetMs` and starts again whatever `stopTimeSync` stopped. */
  async restore(appliedOffsetMs: number, state: TimeSyncState): Promise<void> {
    await this.shift(-appliedOffsetMs);
    for (const unit of state.activeUnits) await this.run('systemctl', ['start', unit]);
    if (state.timedatectlNtp) await this.run('timedatectl', ['set-ntp', 'true']);
  }
}
