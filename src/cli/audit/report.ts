// What an audit found: one row per probe, the table it prints and the JSON `--json` prints.
import { formatTable } from '../format.js';

/** How a target was reached: HTTP routes, or an MCP server over stdio or Streamable HTTP. */
export type Door = 'http' | 'mcp-stdio' | 'mcp-http';

/**
 * A probe's verdict: `pass` (a complete refusal), `fail`, `warn` (a fail with --strict),
 * `free` (a route or tool marked --free, answering as it likes), `on-ramp` (a tool a
 * refusal names to get through: powgate's challenge, verify and status tools).
 */
export type Verdict = 'pass' | 'fail' | 'warn' | 'free' | 'on-ramp';

/** One probe of one target. */
export interface AuditRow {
  door: Door;
  /** `GET /search`, or a tool's name. */
  target: string;
  /** What was sent: `no body`, `{} body`, `Accept: text/html`, `bogus token`; `{}` or `minimal args` for a tool. */
  probe: string;
  /** The HTTP status, or for MCP `refused`, `answered`, `error`; `no answer` when nothing came back. */
  status: string;
  /** The refusal's machine-readable reason (`token_required`, `malformed`, ...), null when none was read. */
  reason: string | null;
  /** Whether the refusal's envelope is complete (a reason and every way through); null when there was no refusal to judge. */
  complete: boolean | null;
  verdict: Verdict;
  /** Why the verdict, in a few words (`answers without payment`); null for a plain pass. */
  note: string | null;
}

/** What `powgate audit --json` prints: a stable shape (`version` 1). */
export interface AuditReport {
  version: 1;
  /** Whether nothing failed (warnings count as failures with `strict`). */
  ok: boolean;
  strict: boolean;
  /** The discovery document looked for, when an HTTP server was audited. */
  discovery: { url: string; status: number | null; routes: number } | null;
  probes: AuditRow[];
  /** Each target that failed, once, with the first reason. */
  failures: { door: Door; target: string; note: string }[];
  counts: { probes: number; passed: number; failed: number; warned: number; free: number; onRamp: number };
}

/** Whether a row fails the audit. */
function fails(row: AuditRow, strict: boolean): boolean {
  return row.verdict === 'fail' || (strict && row.verdict === 'warn');
}

/** Control characters (C0, DEL, C1): a hostile server's tool name or error text must not drive the terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A server's text as it may be shown: control characters as `?`, at most 128 characters. */
function shown(text: string): string {
  const clean = text.replace(CONTROL, '?');
  return clean.length > 128 ? `${clean.slice(0, 125)}...` : clean;
}

/** The report of these rows; every text a server chose (tool names, reasons, notes) made safe to show. */
export function auditReport(input: readonly AuditRow[], strict: boolean, discovery: AuditReport['discovery']): AuditReport {
  const rows = input.map((r) => ({ ...r, target: shown(r.target), reason: r.reason === null ? null : shown(r.reason), note: r.note === null ? null : shown(r.note) }));
  const failures: AuditReport['failures'] = [];
  for (const row of rows) {
    if (fails(row, strict) && !failures.some((f) => f.door === row.door && f.target === row.target)) {
      failures.push({ door: row.door, target: row.target, note: row.note ?? row.verdict });
    }
  }
  const count = (verdict: Verdict) => rows.filter((r) => r.verdict === verdict).length;
  return {
    version: 1,
    ok: failures.length === 0,
    strict,
    discovery,
    probes: rows,
    failures,
    counts: { probes: rows.length, passed: count('pass'), failed: count('fail'), warned: count('warn'), free: count('free'), onRamp: count('on-ramp') },
  };
}

/** The report as lines: the table, then the failures, then one summary line. */
export function describeReport(report: AuditReport): string[] {
  const lines: string[] = [];
  if (report.discovery) {
    const d = report.discovery;
    lines.push(
      d.status === 200 ? `discovery: ${d.url} lists ${d.routes} route${d.routes === 1 ? '' : 's'}` : `discovery: ${d.url}: ${d.status === null ? 'no answer' : d.status} (none)`,
    );
  }
  const header = ['DOOR', 'ROUTE OR TOOL', 'PROBE', 'STATUS', 'REASON', 'ENVELOPE', 'VERDICT'];
  const cells = report.probes.map((r) => [
    r.door,
    r.target,
    r.probe,
    r.status,
    r.reason ?? '-',
    r.complete === null ? '-' : r.complete ? 'complete' : 'INCOMPLETE',
    `${r.verdict === 'fail' ? 'FAIL' : r.verdict === 'warn' ? 'WARN' : r.verdict}${r.note ? `: ${r.note}` : ''}`,
  ]);
  lines.push(...formatTable([header, ...cells]));
  const c = report.counts;
  const tally = `${c.probes} probes: ${c.passed} passed, ${c.failed} failed, ${c.warned} warned, ${c.free} free, ${c.onRamp} on-ramp`;
  if (report.ok) {
    lines.push('', `audit: OK, ${tally}`);
  } else {
    lines.push('', ...report.failures.map((f) => `FAIL ${f.door} ${f.target}: ${f.note}`));
    lines.push(`audit: FAILED, ${report.failures.length} target${report.failures.length === 1 ? '' : 's'} (${tally})`);
  }
  return lines;
}
