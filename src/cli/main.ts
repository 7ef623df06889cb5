#!/usr/bin/env node
const controller = new AbortController();
// The first Ctrl-C cancels cleanly (threads stop, exit 130); a second one does not wait.
// Installed before the commands load, so that an early Ctrl-C is never the default kill.
const stop = (code: number) => () => (controller.signal.aborted ? process.exit(code) : controller.abort());
process.on('SIGINT', stop(130));
process.on('SIGTERM', stop(143));

const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal: controller.signal };
// Solver threads and workers are pooled for reuse; a command line is done when its command is.
void import('./run.js').then(({ run }) => run(process.argv.slice(2), io)).then((code) => process.exit(code));
