// Sanity checks of the runtime flag tables (the cross-check against a real --help is in
// test/runtime/apptainer.test.ts, on the real Apptainer 1.4.5).
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

// The cross-check of a table against a real runtime's --help lives with the real runtime:
// Apptainer 1.4.5 in test/runtime/apptainer.test.ts. Singularity 3.4.2 and 2.6.1 are no longer
// installable; their tables keep the facts recorded in ../shared/runtimes/README.md (above).
