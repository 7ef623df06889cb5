import type { Command } from '../command.js';

// Placeholder until the serve command lands.
export const serveCommand: Command = { name: 'serve', summary: '(not yet built)', usage: 'Usage: powgate serve', options: {}, maxPositionals: 0, async run() { return 1; } };
