// One list of refusal reasons, one table of their sentences: every reason a transport can
// give has a sentence for each subject, and the MCP schema's enum is the list itself.
import { describe, expect, it } from 'vitest';
import { CHALLENGE_REFUSALS } from '../src/gate/envelope.js';
import { explainRefusal } from '../src/gate/explain.js';
import { LIGHTNING_OUTAGES } from '../src/gate/lightning-door.js';
import { REASONS, challengeOutput } from '../src/mcp/schemas.js';
import { REFUSALS } from '../src/protocol/refusal.js';

describe('explainRefusal', () => {
  const explained = [...new Set(['token_required', ...REFUSALS, ...CHALLENGE_REFUSALS, ...LIGHTNING_OUTAGES] as const)];

  it('has a sentence for every reason, about a credential and about a challenge', () => {
    for (const reason of explained) {
      for (const subject of ['credential', 'challenge'] as const) {
        const sentence = explainRefusal(reason, subject);
        expect(sentence, `${reason} (${subject})`).toMatch(/^[a-z].{10,200}[^.]$/);
      }
    }
  });

  it('tells a refused challenge what to do with the challenge, and a refused credential what to do with it', () => {
    expect(explainRefusal('expired')).toBe('the token has expired');
    expect(explainRefusal('expired', 'challenge')).toBe('the challenge has expired: ask for a new one and solve it within its lifetime');
    expect(explainRefusal('malformed')).toBe('the token is not a powgate token');
    expect(explainRefusal('store_unavailable', 'challenge')).toBe(explainRefusal('store_unavailable'));
  });

  it("lists, as the MCP reason enum, every reason once: the gate's, the challenge requests', and the MCP layer's own", () => {
    expect(new Set(REASONS).size).toBe(REASONS.length);
    expect([...REASONS].sort()).toEqual([...new Set(['token_required', ...REFUSALS, ...CHALLENGE_REFUSALS, 'backend_unavailable'])].sort());
    expect(challengeOutput.shape.reason.unwrap().options).toEqual([...REASONS]);
    expect(challengeOutput.shape.l402_unavailable.unwrap().shape.reason.options).toEqual([...LIGHTNING_OUTAGES]);
  });
});
