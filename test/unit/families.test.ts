// Sanity checks of the runtime flag tables, plus (when the real runtimes are installed) a
// cross-check against the flags the installed Singularity 2.6.1 and 3.4.2 print in --help.
import * as fs from 'fs';
import { execFileSync } from 'child_process';
import type { FamilyTable, FlagDef, FlagMeaning } from '../../src/invocation/flagTable';
import { apptainerTable } from '../../src/invocation/families/apptainer';
import { singularity3Table } from '../../src/invocation/families/singularity3';
import { singularity2Table } from '../../src/invocation/families/singularity2';

const tables: readonly FamilyTable[] = [apptainerTable, singularity3Table, singularity2Table];

// Singularity 2.6's front end lists -vv/-vvv/-vvvv as exact case patterns (not clusters).
const shellMultiLetterShort = new Set(['-vv', '-vvv', '-vvvv']);

function flagSets(t: FamilyTable): Array<[string, readonly FlagDef[]]> {
  return [['<global>', t.globalFlags], ...Object.entries(t.actions)];
}

function find(flags: readonly FlagDef[], name: string): FlagDef | undefined {
  return flags.find((f) => f.names.includes(name));
}

function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m|\x1b\(B/g, '');
}

/** Runs a binary and returns stdout+stderr, also when it exits non-zero. */
function run(bin: string, args: readonly string[]): string {
  try {
    return stripAnsi(execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    const err = e as { stdout?: string | Buffer; stderr?: string | Buffer };
    return stripAnsi(String(err.stdout ?? '') + String(err.stderr ?? ''));
  }
}

describe.each(tables.map((t) => [t.family, t] as const))('flag table %s', (_name, table) => {
  it('has no duplicate names within a flag set', () => {
    for (const [set, flags] of flagSets(table)) {
      const seen = new Map<string, number>();
      for (const f of flags) for (const n of f.names) seen.set(n, (seen.get(n) ?? 0) + 1);
      const dups = [...seen].filter(([, c]) => c > 1).map(([n]) => `${set}:${n}`);
      expect(dups).toEqual([]);
    }
  });

  it('spells every name as --long or -x', () => {
    for (const [set, flags] of flagSets(table)) {
      for (const f of flags) {
        expect(f.names.length).toBeGreaterThan(0);
        for (const n of f.names) {
          const ok =
            /^--[A-Za-z0-9][A-Za-z0-9-]*$/.test(n) ||
            /^-[A-Za-z0-9]$/.test(n) ||
            (table.style === 'shell' && shellMultiLetterShort.has(n));
          if (!ok) throw new Error(`${table.family} ${set}: bad flag name ${JSON.stringify(n)}`);
        }
      }
    }
  });

  it('has the core actions', () => {
    for (const a of ['exec', 'run', 'shell', 'test', 'instance start']) {
      expect(table.actions[a]).toBeDefined();
    }
  });

  it('gives key flags the right takesValue and meaning', () => {
    const exec = table.actions['exec'] ?? [];
    const expectFlag = (name: string, takesValue: boolean, meaning: FlagMeaning): void => {
      const f = find(exec, name);
      if (!f) throw new Error(`${table.family} exec: missing ${name}`);
      expect({ name, takesValue: f.takesValue, meaning: f.meaning }).toEqual({ name, takesValue, meaning });
    };
    expectFlag('--bind', true, 'bind');
    expectFlag('-B', true, 'bind');
    expectFlag('--scratch', true, 'scratch');
    expectFlag('-S', true, 'scratch');
    expectFlag('--workdir', true, 'workdir');
    expectFlag('-W', true, 'workdir');
    expectFlag('--pwd', true, 'pwd');
    expectFlag('--home', true, 'home');
    expectFlag('-H', true, 'home');
    expectFlag('--overlay', true, 'overlay');
    expectFlag('--app', true, 'app');
    expectFlag('--contain', false, 'contain');
    expectFlag('-c', false, 'contain');
    expectFlag('--containall', false, 'containall');
    expectFlag('-C', false, 'containall');
    expectFlag('--cleanenv', false, 'cleanenv');
    expectFlag('-e', false, 'cleanenv');
    expectFlag('--ipc', false, 'ipc');
    expectFlag('-i', false, 'ipc');
    expectFlag('--pid', false, 'pid');
    expectFlag('-p', false, 'pid');
    expectFlag('--userns', false, 'userns');
    expectFlag('-u', false, 'userns');
    expectFlag('--nv', false, 'nv');
    expectFlag('--no-home', false, 'no-home');
    expectFlag('--writable', false, 'writable');
    expectFlag('--net', false, 'net');
    if (table.family === 'singularity2') {
      expectFlag('--noinit', false, 'no-init');
    } else {
      expectFlag('--no-init', false, 'no-init');
      expectFlag('--rocm', false, 'rocm');
      expectFlag('--env', true, 'env');
      expectFlag('--env-file', true, 'env-file');
      expectFlag('--no-eval', false, 'no-eval');
      expectFlag('--writable-tmpfs', false, 'writable-tmpfs');
      expectFlag('--network', true, 'network');
      expectFlag('--fakeroot', false, 'fakeroot');
      expectFlag('--security', true, 'security');
      expectFlag('--hostname', true, 'hostname');
      expectFlag('--mount', true, 'mount');
    }
  });

  it('global flags: -s is silent, -d debug, -q quiet (all boolean)', () => {
    for (const n of ['-s', '--silent', '-d', '--debug', '-q', '--quiet', '-v', '--verbose']) {
      const f = find(table.globalFlags, n);
      expect(f?.takesValue).toBe(false);
    }
  });

  it('shell: -s is --shell and takes a value', () => {
    const f = find(table.actions['shell'] ?? [], '-s');
    expect(f?.names).toContain('--shell');
    expect(f?.takesValue).toBe(true);
  });
});

describe('family-specific facts', () => {
  it('singularity2 lacks 3.x-only flags', () => {
    const exec = singularity2Table.actions['exec'] ?? [];
    for (const n of ['--rocm', '--no-init', '--env', '--env-file', '--no-eval', '--fakeroot', '--keep-privs', '--bind=']) {
      expect(find(exec, n)).toBeUndefined();
    }
    expect(find(singularity2Table.globalFlags, '--nocolor')).toBeUndefined();
    expect(singularity2Table.style).toBe('shell');
  });

  it('singularity2 instance start: -n is --nv (first matching case), --net separate', () => {
    const inst = singularity2Table.actions['instance start'] ?? [];
    expect(find(inst, '-n')?.meaning).toBe('nv');
    expect(find(inst, '--net')?.meaning).toBe('net');
  });

  it('singularity2 test only takes --app', () => {
    const test = singularity2Table.actions['test'] ?? [];
    expect(find(test, '-a')?.takesValue).toBe(true);
    expect(find(test, '--bind')).toBeUndefined();
  });

  it('pflag families: global -c/--config takes a value', () => {
    expect(find(apptainerTable.globalFlags, '-c')?.takesValue).toBe(true);
    expect(find(singularity3Table.globalFlags, '--config')?.takesValue).toBe(true);
  });

  it('instance start: apptainer registers --pid for actions only; Singularity 3.4.2 accepts it', () => {
    expect(find(apptainerTable.actions['instance start'] ?? [], '--pid')).toBeUndefined();
    expect(find(singularity3Table.actions['instance start'] ?? [], '--pid')).toBeDefined();
    expect(find(apptainerTable.actions['instance start'] ?? [], '--boot')).toBeDefined();
  });
});

// ---- cross-checks against the installed runtimes ----

const SING34 = '/opt/singularity-3.4.2/bin/singularity';
const SING26 = '/opt/singularity-2.6.1/bin/singularity';

interface HelpFlag {
  readonly names: readonly string[];
  readonly takesValue: boolean;
}

/** Parses pflag help lines such as `  -B, --bind strings   a user-bind ...` (bools have no type). */
function parsePflagHelp(text: string): HelpFlag[] {
  const out: HelpFlag[] = [];
  const start = text.indexOf('Options:');
  const body = start >= 0 ? text.slice(start) : text;
  for (const line of body.split('\n')) {
    if (/^(Examples|Available Commands):/.test(line)) break;
    const m = /^\s+(?:-([A-Za-z0-9]), )?--([A-Za-z0-9-]+)( [A-Za-z]+)?(?:\s{2,}|$)/.exec(line);
    if (!m) continue;
    const names = [`--${m[2]}`];
    if (m[1]) names.unshift(`-${m[1]}`);
    out.push({ names, takesValue: m[3] !== undefined });
  }
  return out;
}

/** Parses 2.6 help lines such as `    -B|--bind <spec>    A user-bind ...` and `    --nv   ...`. */
function parseShellHelp(text: string): HelpFlag[] {
  const out: HelpFlag[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s{2,8}(-[^\s]+)( <[^>]+>)?/.exec(line);
    if (!m || !m[1]) continue;
    out.push({ names: m[1].split('|'), takesValue: m[2] !== undefined });
  }
  return out;
}

const has34 = fs.existsSync(SING34);
const has26 = fs.existsSync(SING26);
if (!has34) console.log(`skipping 3.4.2 --help cross-check: ${SING34} not installed`);
if (!has26) console.log(`skipping 2.6.1 --help cross-check: ${SING26} not installed`);
const maybe34 = has34 ? it : it.skip;
const maybe26 = has26 ? it : it.skip;

describe('singularity3Table vs installed Singularity 3.4.2 --help', () => {
  const cases: Array<[string, readonly string[]]> = [
    ['exec', ['exec']],
    ['run', ['run']],
    ['shell', ['shell']],
    ['test', ['test']],
    ['instance start', ['instance', 'start']],
  ];
  for (const [action, argv] of cases) {
    maybe34(`${action}: every listed flag is in the table with the right takesValue`, () => {
      const listed = parsePflagHelp(run(SING34, [...argv, '--help']));
      expect(listed.length).toBeGreaterThan(10);
      const flags = singularity3Table.actions[action] ?? [];
      for (const h of listed) {
        for (const n of h.names) {
          const f = find(flags, n);
          if (!f) throw new Error(`3.4.2 ${action} lists ${n}, missing from singularity3Table`);
          expect({ n, takesValue: f.takesValue }).toEqual({ n, takesValue: h.takesValue });
        }
      }
    });
  }

  maybe34('global options are in globalFlags', () => {
    const listed = parsePflagHelp(run(SING34, ['--help']));
    expect(listed.length).toBeGreaterThan(5);
    for (const h of listed) {
      for (const n of h.names) {
        const f = find(singularity3Table.globalFlags, n);
        if (!f) throw new Error(`3.4.2 lists global ${n}, missing from singularity3Table`);
        expect({ n, takesValue: f.takesValue }).toEqual({ n, takesValue: h.takesValue });
      }
    }
  });
});

describe('singularity2Table vs installed Singularity 2.6.1 --help', () => {
  // `shell --help` documents -j|--join, which action_argparser.sh rejects (Unknown option).
  const documentedButUnparsed = new Set(['-j', '--join']);
  for (const action of ['exec', 'run', 'shell']) {
    maybe26(`${action}: every listed option is in the table`, () => {
      const listed = parseShellHelp(run(SING26, [action, '--help']));
      expect(listed.length).toBeGreaterThan(10);
      const flags = singularity2Table.actions[action] ?? [];
      for (const h of listed) {
        for (const n of h.names) {
          if (documentedButUnparsed.has(n)) continue;
          const f = find(flags, n);
          if (!f) throw new Error(`2.6.1 ${action} lists ${n}, missing from singularity2Table`);
          // 2.6 help marks only some value flags (`<spec>`, `<path>`); check those.
          if (h.takesValue) expect({ n, takesValue: f.takesValue }).toEqual({ n, takesValue: true });
        }
      }
    });
  }

  maybe26('global options are in globalFlags', () => {
    const listed = parseShellHelp(run(SING26, ['--help']));
    expect(listed.length).toBeGreaterThan(5);
    for (const h of listed) {
      for (const n of h.names) {
        expect({ n, found: find(singularity2Table.globalFlags, n) !== undefined }).toEqual({ n, found: true });
      }
    }
  });

  maybe26('rejects --flag=value and clusters (why the table is style shell)', () => {
    expect(run(SING26, ['exec', '--bind=/tmp', '/nonexistent', 'true'])).toContain('Unknown option: --bind=/tmp');
    expect(run(SING26, ['exec', '-ci', '/nonexistent', 'true'])).toContain('Unknown option: -ci');
  });
});
