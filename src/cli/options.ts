// The wrapper's own options (SPEC S2, S9). They come only before the command; the starter's
// argv[1] is always an absolute path, so they never collide with a job.

import minimist from 'minimist';
import { WrapperError } from '../errors';

export interface OwnOptions {
  readonly help: boolean;
  readonly version: boolean;
  readonly explain: boolean;
  readonly json: boolean;
  readonly check: boolean;
  readonly classad: boolean;
  /** Internal, started by --check: decide on its line as a job would, run nothing, store V8's code cache. */
  readonly warmCodeCache: boolean;
  readonly config?: string;
  readonly jobAd?: string;
  readonly machineAd?: string;
  /** The job's command line (what the starter passed after the wrapper's own options). */
  readonly command: readonly string[];
}

const STRINGS = ['config', 'job-ad', 'machine-ad'] as const;
const BOOLEANS = ['help', 'version', 'explain', 'json', 'check', 'classad', 'warm-code-cache'] as const;
const KNOWN = new Set<string>([...STRINGS, ...BOOLEANS, 'h']);

export function parseOwnOptions(argv: readonly string[]): OwnOptions {
  if (argv.length === 0 || !(argv[0] ?? '').startsWith('-')) return { ...NONE, command: argv };
  // Split at the first non-option or "--": minimist must never see the job's own flags.
  const own: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-')) break;
    own.push(a);
    const name = a.replace(/^--?/, '').split('=')[0] ?? '';
    if ((STRINGS as readonly string[]).includes(name) && !a.includes('=')) {
      const v = argv[i + 1];
      if (v === undefined) throw new WrapperError('usage.option-value', `wrapper option ${a}`, 'needs a value');
      own.push(v);
      i++;
    }
  }
  const parsed = minimist(own, {
    string: [...STRINGS],
    boolean: [...BOOLEANS],
    alias: { h: 'help' },
    unknown: (arg) => {
      throw new WrapperError('usage.unknown-option', `unknown wrapper option ${arg.split('=')[0] ?? arg}`, 'see condor-job-wrapper --help');
    },
  });
  for (const k of Object.keys(parsed)) {
    if (k !== '_' && !KNOWN.has(k)) throw new WrapperError('usage.unknown-option', `unknown wrapper option --${k}`, 'see condor-job-wrapper --help');
  }
  const str = (k: string): string | undefined => {
    const v: unknown = parsed[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new WrapperError('usage.option-value', `wrapper option --${k}`, 'needs one non-empty value');
    return v;
  };
  const bool = (k: string): boolean => parsed[k] === true;
  const config = str('config');
  const jobAd = str('job-ad');
  const machineAd = str('machine-ad');
  return {
    help: bool('help'),
    version: bool('version'),
    explain: bool('explain'),
    json: bool('json'),
    check: bool('check'),
    classad: bool('classad'),
    warmCodeCache: bool('warm-code-cache'),
    ...(config === undefined ? {} : { config }),
    ...(jobAd === undefined ? {} : { jobAd }),
    ...(machineAd === undefined ? {} : { machineAd }),
    command: argv.slice(i),
  };
}

const NONE = { help: false, version: false, explain: false, json: false, check: false, classad: false, warmCodeCache: false } as const;

export const HELP = `usage: condor-job-wrapper [--config FILE] COMMAND [ARGS...]
       condor-job-wrapper --explain [--json] [--job-ad F] [--machine-ad F] [--config FILE] [--] COMMAND...
       condor-job-wrapper --check [--classad] [--config FILE]
       condor-job-wrapper --version | --help

HTCondor's USER_JOB_WRAPPER: the starter runs it with the job's command line, which is either a
container runtime line (apptainer/singularity ...), the sshd of condor_ssh_to_job (passed through
untouched) or the job's own executable. The wrapper applies the site policy, runs the site's
hooks and execs; after the exec nothing of it is left.

  --explain     print the decision (final argv, environment changes, binds, hooks, reasons)
                without running anything; --json for machine-readable output. Works on a line
                copied from a StarterLog ("Arguments updated for executing with singularity").
  --check       validate the config and the host as a job user will meet them (runtime and
                version, images, binds, hooks, file permissions, CJW_LOG); as root also refresh
                the runtime version cache and the code cache. Exit 0 healthy, 78 config, 69 node.
                --classad prints ClassAd attributes for the STARTD_CRON health check.
  --check --config NEW
                lint a candidate config before pushing it to the nodes: every problem at once.
  --config FILE read FILE after the system config (tests, or a USER_JOB_WRAPPER shim)
  --            end of wrapper options

Config: /etc/condor-job-wrapper/wrapper.env, then wrapper.env.d/*.env (byte order), then
--config FILE; KEY=VALUE lines, a later file replaces a key. The environment is never read as
policy. Main keys: CJW_MODE (NEVER|OPTIONAL|PREFERRED|REQUIRED), CJW_RUNTIME, CJW_DEFAULT_IMAGE,
CJW_IMAGE_ALLOW, CJW_BINDS, CJW_SETUP_DIR/CJW_TEST_DIR/CJW_INSIDE_DIR, CJW_LOG (off|syslog|file:P).

Errors: one line "condor-job-wrapper: job|node error: WHAT: WHY" on stderr and in the starter's
error file. Exit codes: 64 usage, 65 bad job request, 66 missing image/bind (job errors: the job
is held); 69 unavailable (runtime, hook, policy), 70 internal error, 78 site config (node errors:
the job is requeued elsewhere). Rollback: comment out USER_JOB_WRAPPER, condor_reconfig.

More: man 8 condor-job-wrapper, and /usr/share/doc/condor-job-wrapper/ (both installed with the
packages: deployment, configuration keys, every error with its fix).
`;
