/** What every bench script shares: where things are, the run mode from the environment, and the built package. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkIdle, describeMachine, machineFacts } from './machine.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

/** Prints `bench: <message>` and exits with status 1. */
export function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

/** A non-negative integer from the environment, or `fallback` when unset; exits on anything else. */
function envInteger(env, name, fallback, min) {
  if (env[name] === undefined || env[name] === '') return fallback;
  const value = Number(env[name]);
  if (!Number.isInteger(value) || value < min) fail(`${name} must be an integer >= ${min}, got "${env[name]}"`);
  return value;
}

/**
 * Rounds and benchmark.js timing per case, from `BENCH_QUICK` and `BENCH_ROUNDS`.
 * Full mode: about 1 s per case per round. Quick mode: 2 rounds of about 0.25 s per case,
 * to check that a bench still works. `BENCH_WAIT_IDLE` (seconds, default 0) lets a bench
 * wait for other processes to stop using the CPU before it starts.
 */
export function benchSettings(env = process.env) {
  const quick = env.BENCH_QUICK === '1';
  const rounds = envInteger(env, 'BENCH_ROUNDS', quick ? 2 : 5, 1);
  const timing = quick ? { minTime: 0.05, maxTime: 0.25, minSamples: 3 } : { minTime: 0.1, maxTime: 1, minSamples: 5 };
  return { mode: quick ? 'quick' : 'full', quick, rounds, timing, waitIdleSeconds: envInteger(env, 'BENCH_WAIT_IDLE', 0, 0) };
}

/** The built package (`dist/index.js`); a clear hint instead of a stack trace when it is missing. */
export async function importPowgate() {
  const entry = path.join(REPO_ROOT, 'dist', 'index.js');
  if (!existsSync(entry)) fail(`${entry} is missing; run \`npm run build\` first.`);
  return import(pathToFileURL(entry).href);
}

/** The built client (`dist/client.js`, powgate/client); a clear hint instead of a stack trace when it is missing. */
export async function importPowgateClient() {
  const entry = path.join(REPO_ROOT, 'dist', 'client.js');
  if (!existsSync(entry)) fail(`${entry} is missing; run \`npm run build\` first.`);
  return import(pathToFileURL(entry).href);
}

/**
 * What every bench does first: settings, the built package, machine facts
 * (printed) and a check that the machine is idle.
 */
export async function startBench() {
  const startedAt = new Date().toISOString();
  const config = benchSettings();
  const powgate = await importPowgate();
  const info = powgate.backendInfo();
  const machine = machineFacts({ backendInfo: info, version: info.version });
  console.log(describeMachine(machine).join('\n'));
  const cpuLoadAtStart = await checkIdle(config.waitIdleSeconds);
  return { startedAt, config, powgate, info, machine, cpuLoadAtStart };
}
