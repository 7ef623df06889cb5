// The sample Grafana dashboard (docs/grafana) reads only metrics powgate exports: every name in
// every expression is one of HttpMetrics' (a histogram's _bucket, _sum and _count included).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HttpMetrics } from '../src/http/metrics.js';

describe('docs/grafana/powgate-dashboard.json', () => {
  it('is a dashboard whose every expression names exported metrics', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../docs/grafana/powgate-dashboard.json', import.meta.url), 'utf8'));
    const metrics = new HttpMetrics({ defaultMetrics: false });
    const names = new Set<string>();
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      names.add(m.name);
      if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m.name + suffix);
    }
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    for (const expr of exprs) {
      const used = expr.match(/powgate_[a-z_]+/g) ?? [];
      expect(used.length).toBeGreaterThan(0);
      for (const name of used) expect(names, `${name} in ${expr}`).toContain(name);
    }
    expect(new Set(dashboard.panels.map((p: { id: number }) => p.id)).size).toBe(dashboard.panels.length);
  });
});
