import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The committed API report (api/*.api.md) is what each entry of dist/ exports: a change to the
// public API fails here until the report is regenerated, so it shows up in review.
describe('public API report', () => {
  it('matches what dist/ exports', () => {
    let output = '';
    try {
      execFileSync(process.execPath, ['scripts/api-report.mjs', '--check'], { stdio: 'pipe' });
    } catch (error) {
      output = String((error as { stderr?: Buffer }).stderr ?? error);
    }
    expect(output).toBe('');
  });
});
