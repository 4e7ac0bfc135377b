// The traceability log (SPEC S10): one pino JSON record per job (who ran which image with which
// runtime and argv, how policy was negotiated, what the hooks did and how the wrapper left), plus
// one record per decision at CJW_LOG_LEVEL=debug. pino is loaded only when CJW_LOG is not `off`,
// and is used without transports (those need worker threads): it renders into memory and the
// lines go out with one append (file) or through logger(1) (syslog, so the system log stamps the
// real uid and a job can neither forge nor erase records).
// Never logged: environment values and file contents (a proxy or token path yes, its contents no).

import { appendFileSync, existsSync } from 'node:fs';
import type { Plan } from '../decide/plan';
import type { WrapperError } from '../errors';
import { getAttr, readClassAdFile } from '../facts/classad';
import type { Config } from '../facts/config/schema';
import type { AdValue, ClassAd, Facts } from '../facts/types';
import type { HookResult } from './hooks';

/** How the wrapper left: the exec it handed over, or the error it reported. */
export type ExitPath =
  | { readonly kind: 'exec'; readonly argv: readonly string[]; readonly contained: boolean }
  | { readonly kind: 'error'; readonly error: WrapperError };

/** The tag of syslog records, and the program that sends them. */
export const SYSLOG_TAG = 'condor-job-wrapper';
export const LOGGER_PATHS = ['/usr/bin/logger', '/bin/logger'];
/** Where logger(1) sends records by default (rsyslog, syslog-ng and journald all listen here). */
export const SYSLOG_SOCKET = '/dev/log';
/** logger(1) truncates at its --size; a record with a long argv must arrive whole. */
const SYSLOG_MAX_BYTES = 65536;

function adText(v: AdValue | undefined): string | number | boolean | undefined {
  if (v === undefined) return undefined;
  switch (v.type) {
    case 'string':
      return v.value;
    case 'integer':
    case 'real':
    case 'boolean':
      return v.value;
    case 'expression':
      return v.text;
    default:
      return undefined;
  }
}

/** The job ad the rules read, or (only for the log) the starter's one read quietly. */
function jobAdFor(facts: Facts | undefined, env: ReadonlyMap<string, string>): ClassAd | undefined {
  if (facts?.jobAd !== undefined) return facts.jobAd;
  const path = env.get('_CONDOR_JOB_AD');
  if (path === undefined || path === '') return undefined;
  try {
    return readClassAdFile(path, 'job');
  } catch {
    // A bad ad is reported by the rule that needs it; the log just lacks the ids.
    return undefined;
  }
}

export interface JobRecordInput {
  readonly env: ReadonlyMap<string, string>;
  readonly facts?: Facts;
  readonly plan?: Plan;
  readonly hooks: readonly HookResult[];
  readonly exit: ExitPath;
  readonly durationMs: number;
}

/** The one record per job (pure but for a quiet job-ad read when no rule read it): what --explain would show, in short. */
export function jobRecord(input: JobRecordInput, jobAd?: ClassAd): Record<string, unknown> {
  const { plan, facts } = input;
  const rt = facts?.runtime;
  const exit = input.exit.kind === 'exec'
    ? { kind: input.exit.contained ? 'exec-container' : 'exec-uncontained', program: input.exit.argv[0] ?? '' }
    : { kind: 'error', id: input.exit.error.id, code: input.exit.error.code, class: input.exit.error.errorClass, line: input.exit.error.line };
  const rec: Record<string, unknown> = {
    event: 'job',
    GlobalJobId: adText(getAttr(jobAd, 'GlobalJobId')),
    Owner: adText(getAttr(jobAd, 'Owner')),
    slot: input.env.get('_CONDOR_SLOT'),
    uid: process.getuid?.(),
    scratch: input.env.get('_CONDOR_SCRATCH_DIR'),
    dispatch: plan?.dispatch,
    mode: plan?.negotiation === undefined ? undefined : { site: plan.negotiation.site, vo: plan.negotiation.vo, request: plan.negotiation.request, effective: plan.negotiation.effective },
    contained: plan?.contained,
    image: plan?.invocation?.image,
    runtime: rt === undefined || !plan?.contained ? undefined : { path: rt.path, family: rt.family, version: rt.version },
    argv: input.exit.kind === 'exec' ? input.exit.argv : plan?.argv,
    binds: plan?.binds.map((b) => ({ src: b.src, dst: b.dst, opts: b.opts, origin: b.origin })),
    rules: plan === undefined ? undefined : [...new Set(plan.changes.map((c) => c.rule))],
    hooks: input.hooks.map((h) => ({ stage: h.stage, name: h.name, outcome: h.outcome, exitCode: h.exitCode, signal: h.signal, durationMs: h.durationMs })),
    insideHooks: plan?.launcher?.hooks.map((h) => h.name),
    launcher: plan?.launcher?.insidePath,
    warnings: plan?.warnings,
    exit,
    durationMs: input.durationMs,
  };
  // JSON drops undefined fields anyway; dropping them here keeps the record readable in tests.
  return Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== undefined));
}

/** Collects what happens to one job and writes its record at the end, when CJW_LOG asks for it. */
export class JobLog {
  private readonly hookResults: HookResult[] = [];
  private facts?: Facts;
  private plan?: Plan;
  // process.hrtime, not performance.now(): that global loads perf_hooks (13 internal modules) per job.
  private readonly started = Number(process.hrtime.bigint()) / 1e6;

  constructor(
    private readonly config: Pick<Config, 'log' | 'logLevel'>,
    private readonly env: ReadonlyMap<string, string>,
    private readonly warn: (line: string) => void,
    private readonly syslogSocket: string = SYSLOG_SOCKET,
  ) {}

  get enabled(): boolean {
    return this.config.log.kind !== 'off';
  }

  decided(plan: Plan, facts: Facts): void {
    this.plan = plan;
    this.facts = facts;
  }

  hook(r: HookResult): void {
    this.hookResults.push(r);
  }

  /** Writes the record; a log that cannot be written is a warning, never a reason to fail the job. */
  async finish(exit: ExitPath): Promise<void> {
    if (!this.enabled) return;
    try {
      const lines = await this.render(exit);
      this.send(lines);
    } catch (e) {
      this.warn(`condor-job-wrapper: warning: cannot write the job log (CJW_LOG): ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }

  private async render(exit: ExitPath): Promise<string[]> {
    const { pino } = await import('pino');
    const lines: string[] = [];
    // A synchronous in-memory destination: no worker thread, no sonic-boom, nothing left open.
    const sink = { write: (s: string): void => void lines.push(s) };
    const logger = pino({ level: this.config.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, sink);
    if (this.plan !== undefined) {
      for (const c of this.plan.changes) logger.debug({ event: 'decision', rule: c.rule, what: c.what, reason: c.reason }, 'decision');
    }
    const input: JobRecordInput = {
      env: this.env,
      hooks: this.hookResults,
      exit,
      durationMs: Math.round(Number(process.hrtime.bigint()) / 1e6 - this.started),
      ...(this.facts === undefined ? {} : { facts: this.facts }),
      ...(this.plan === undefined ? {} : { plan: this.plan }),
    };
    const rec = jobRecord(input, jobAdFor(this.facts, this.env));
    if (exit.kind === 'error') logger.warn(rec, 'job not started');
    else logger.info(rec, 'job handed over');
    return lines;
  }

  private send(lines: readonly string[]): void {
    const target = this.config.log;
    if (target.kind === 'file') {
      // One append: O_APPEND keeps concurrent jobs' records whole in a shared file.
      appendFileSync(target.path, lines.join(''), { mode: 0o640 });
      return;
    }
    if (target.kind !== 'syslog') return;
    // No syslog daemon on this node (a container, a minimal image): the records are dropped
    // quietly. A warning would land in every job's stderr, which belongs to the job's owner, for
    // a node setting only the admin can change; `--check` reports it to the admin instead.
    if (!existsSync(this.syslogSocket)) return;
    sendToSyslog(lines);
  }
}

/** Hands the lines to logger(1) on stdin, one record per line; synchronous, so it is done before the exec. */
function sendToSyslog(lines: readonly string[]): void {
  const logger = LOGGER_PATHS.find((p) => existsSync(p));
  if (logger === undefined) throw new Error(`logger(1) not found (${LOGGER_PATHS.join(', ')})`);
  // child_process only here: loading it costs every job start-up time otherwise.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(logger, ['--tag', SYSLOG_TAG, '--priority', 'user.info', '--size', String(SYSLOG_MAX_BYTES), '--socket-errors=on'], {
    input: lines.join(''),
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
    encoding: 'utf8',
    timeout: 10000,
  });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`logger exited ${String(r.status ?? r.signal)}: ${r.stderr.trim()}`);
}
