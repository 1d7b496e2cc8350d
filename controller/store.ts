import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/**
 * One run's folder: `<store>/<test>/<start-time>/` with plan.json, history.jsonl, results.json and node logs,
 * and `<store>/latest` pointing at it.
 */
export class RunStore {
  readonly dir: string;

  constructor(storeRoot: string, testName: string, startedAt: Date) {
    const stamp = startedAt.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
    this.dir = resolve(storeRoot, testName, stamp);
    mkdirSync(this.dir, { recursive: true });
    const latest = resolve(storeRoot, 'latest');
    rmSync(latest, { force: true });
    symlinkSync(relative(resolve(storeRoot), this.dir), latest);
  }

  /** An existing run folder (a run being finished or resumed), as it is: no new folder, `latest` left alone. */
  static open(dir: string): RunStore {
    const store = Object.create(RunStore.prototype) as { dir: string };
    store.dir = resolve(dir);
    return store as RunStore;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  writeJson(name: string, value: unknown): void {
    writeFileSync(this.path(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  writeNodeFile(node: string, name: string, data: Uint8Array | string): void {
    const dir = join(this.dir, 'nodes', node);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), data);
  }
}
