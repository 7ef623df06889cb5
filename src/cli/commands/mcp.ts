import type { Command } from '../command.js';

// Placeholder until the mcp command lands.
export const mcpCommand: Command = { name: 'mcp', summary: '(not yet built)', usage: 'Usage: powgate mcp', options: {}, maxPositionals: 0, async run() { return 1; } };
