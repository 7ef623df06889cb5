import type { Command } from '../command.js';
export const calibrateCommand: Command = { name: 'calibrate', summary: 'TODO', usage: 'TODO', options: {}, maxPositionals: 0, async run() { return 1; } };
