import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsMember } from '../nats-cluster';

/** Where faultline keeps lab state, agent data and logs. */
export function faultlineHome(): string {
  return process.env['FAULTLINE_HOME'] ?? '/var/lib/faultline';
}

export function labDir(prefix: string): string {
  return join(faultlineHome(), 'labs', prefix);
}

export interface LabAgentState {
  name: string;
  namespace: string;
  address: string;
  agentAddress: string;
  pid: number;
}

export interface LabState {
  prefix: string;
  /** `cluster`: the members of a JetStream cluster the lab started (`url` then lists them all). */
  nats: { url: string; pid?: number; external: boolean; cluster?: NatsMember[] };
  agents: LabAgentState[];
}

export function readLabState(prefix: string): LabState | undefined {
  const path = join(labDir(prefix), 'state.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LabState;
  } catch {
    return undefined; // torn by a crash: `lab up` rebuilds it, `lab down` discovers by name
  }
}

export function writeLabState(state: LabState): void {
  const dir = labDir(state.prefix);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, 'state.json.tmp');
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, join(dir, 'state.json'));
}
