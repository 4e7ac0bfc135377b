// The one configuration schema (SPEC S8): it validates, types and documents every key.
// docs/configuration.md is generated from this table (npm run docs); a test fails when stale.

export type PolicyMode = 'NEVER' | 'OPTIONAL' | 'PREFERRED' | 'REQUIRED';
export type RequestMode = PolicyMode | 'DISABLE';
export type NestedSetting = 'auto' | 'yes' | 'no';
export type LogTarget = { kind: 'off' } | { kind: 'syslog' } | { kind: 'file'; path: string };
export type LogLevel = 'info' | 'debug';

/**
 * How a key's text is read. Lists: entries separated by commas or newlines, `\,` = literal comma,
 * `\\` = literal backslash; entries trimmed, empty entries dropped.
 */
export type KeyType =
  // ignoreCase: the policy modes are spelled upper-case in glideinWMS but sites write them any way.
  | { kind: 'enum'; values: readonly string[]; aliases?: Readonly<Record<string, string>>; ignoreCase?: boolean }
  | { kind: 'path' } // absolute path
  | { kind: 'path-or-empty' }
  | { kind: 'string' }
  | { kind: 'list' } // list of strings
  | { kind: 'path-list' } // list of absolute paths / globs
  | { kind: 'map-list' } // list of KEY=VALUE
  | { kind: 'bind-list' } // list of src[:dst[:opts]][!], `\:` = literal colon
  | { kind: 'seconds' } // positive number
  | { kind: 'log' }; // off | syslog | file:/abs/path

export interface KeySpec {
  readonly key: string;
  readonly type: KeyType;
  /** The default as it would be written in wrapper.env ('' = unset/empty). */
  readonly default: string;
  readonly description: string;
  readonly example: string;
}

const MODES = ['NEVER', 'OPTIONAL', 'PREFERRED', 'REQUIRED'] as const;

export const SCHEMA = [
  {
    key: 'CJW_MODE',
    type: { kind: 'enum', values: MODES, aliases: { REQUIRED_GWMS: 'REQUIRED' }, ignoreCase: true },
    default: 'OPTIONAL',
    description: 'The site\'s container policy (the column of the negotiation table, docs/policy.md). REQUIRED: no job ever runs outside a container. `REQUIRED_GWMS` is accepted as REQUIRED.',
    example: 'REQUIRED',
  },
  {
    key: 'CJW_VO_MODE',
    type: { kind: 'enum', values: [...MODES, 'DISABLE'], aliases: { REQUIRED_GWMS: 'REQUIRED', DISABLE_GWMS: 'DISABLE' }, ignoreCase: true },
    default: 'OPTIONAL',
    description: 'The request mode of the VO, set by its pilot/glidein configuration (the row of the negotiation table, docs/policy.md). Only the site\'s files (or the glidein_config they name) set it: neither the job\'s environment nor a job-ad attribute can, so a user cannot lower it. The one thing the job can do is raise it: a job ad that names an image (`SingularityImage`/`ContainerImage`) raises NEVER and OPTIONAL to PREFERRED. `DISABLE_GWMS` is accepted as DISABLE, `REQUIRED_GWMS` as REQUIRED.',
    example: 'PREFERRED',
  },
  {
    key: 'CJW_NESTED',
    type: { kind: 'enum', values: ['auto', 'yes', 'no'] },
    default: 'auto',
    description: 'Whether the wrapper runs inside a container. `auto` trusts only `/.singularity.d` and a non-identity `/proc/self/uid_map`, never the job-controlled `APPTAINER_CONTAINER`/`SINGULARITY_CONTAINER`. When nested, `-C` becomes `--contain --ipc --cleanenv` and `--pid` is dropped, except for an unprivileged Apptainer (no setuid helper, user namespaces), which makes its PID namespace nested too: there the line keeps `-C` (measured on Apptainer 1.4.5).',
    example: 'yes',
  },
  {
    key: 'CJW_GPU_FLAG',
    type: { kind: 'enum', values: ['--nv', '--rocm', '--nvccli'] },
    default: '--nv',
    description: 'The flag added exactly once when the slot was assigned GPUs (machine ad `AssignedGPUs`). Never added when none is assigned, never when the runtime family lacks it.',
    example: '--rocm',
  },
  {
    key: 'CJW_RUNTIME',
    type: { kind: 'path-or-empty' },
    default: '',
    description: 'The runtime used in wrapper-built mode (when HTCondor did not containerize the job). Empty: the first of /usr/bin/apptainer, /usr/local/bin/apptainer, /usr/bin/singularity, /usr/local/bin/singularity that exists.',
    example: '/cvmfs/oasis.opensciencegrid.org/mis/apptainer/current/bin/apptainer',
  },
  {
    key: 'CJW_RUNTIME_NAMES',
    type: { kind: 'list' },
    default: '',
    description: 'More argv[1] values that mean "the starter built a runtime line", besides the basenames apptainer, singularity and run-singularity. An entry with "/" matches argv[1] exactly, one without matches its basename.',
    example: 'apptainer-suid,/opt/sing/bin/singularity-wrapped',
  },
  {
    key: 'CJW_PASSTHROUGH',
    type: { kind: 'list' },
    default: '',
    description: 'More programs the starter runs through the wrapper that must pass untouched (besides sshd): exec unchanged, no hooks. Same matching as CJW_RUNTIME_NAMES.',
    example: 'condor_pid_ns_init',
  },
  {
    key: 'CJW_DEFAULT_IMAGE',
    type: { kind: 'path-or-empty' },
    default: '',
    description: 'The image for wrapper-built container runs when the job names none and its REQUIRED_OS has no CJW_IMAGES entry.',
    example: '/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest',
  },
  {
    key: 'CJW_IMAGES',
    type: { kind: 'map-list' },
    default: '',
    description: 'OS name → image (`os=image` entries), used with the job\'s `REQUIRED_OS` (or `DesiredOS`) in wrapper-built mode; the first OS of a comma list in the ad that has an entry wins.',
    example: 'rhel8=/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el8:latest,rhel9=/cvmfs/singularity.opensciencegrid.org/opensciencegrid/osgvo-el9:latest',
  },
  {
    key: 'CJW_IMAGE_ALLOW',
    type: { kind: 'list' },
    default: '',
    description: 'Globs of allowed images (`*` does not cross "/", `**` does). Empty: any existing local path, no URIs. URIs such as `docker://…` are allowed only when listed. Every entry is an absolute path (or glob) or a URI: a relative one is a config error (78).',
    example: '/cvmfs/singularity.opensciencegrid.org/**,/cvmfs/unpacked.cern.ch/**',
  },
  {
    key: 'CJW_BINDS',
    type: { kind: 'bind-list' },
    default: '',
    description: 'Site binds `src[:dst[:opts]]` added to every container. A missing source is skipped with a warning unless the entry ends with `!` (then the job stops with exit 66). Write a literal ":" in a path as `\\:`.',
    example: '/cvmfs,/etc/grid-security!,/data/my\\:dir:/data:ro',
  },
  {
    key: 'CJW_BIND_ALLOW',
    type: { kind: 'path-list' },
    default: '',
    description: 'Globs a job-requested bind source must match (empty: any). Job-requested binds are those from the job ad\'s `SingularityBind`.',
    example: '/cvmfs/**,/data/**',
  },
  {
    key: 'CJW_BIND_DENY',
    type: { kind: 'path-list' },
    default: '',
    description: 'Globs no job-requested bind source (after realpath) may match.',
    example: '/etc/**,/root/**,/var/lib/condor/**',
  },
  {
    key: 'CJW_TARGET_DIR',
    type: { kind: 'path' },
    default: '/srv',
    description: 'Where the scratch dir appears inside when the wrapper must bind it itself (wrapper-built mode, and the repair for a scratch under /tmp that `-C` would hide).',
    example: '/srv',
  },
  {
    key: 'CJW_ENV_DROP',
    type: { kind: 'list' },
    default: 'LD_LIBRARY_PATH,LD_PRELOAD,LD_AUDIT,PYTHONPATH,PYTHONHOME,PERL5LIB',
    description: 'Variables never passed into the container (their APPTAINERENV_/SINGULARITYENV_ copies are removed). The runtime\'s own behaviour variables inherited from the job (APPTAINER_BINDPATH, SINGULARITY_BINDPATH, *_CONTAINALL, ...) are always removed from the runtime\'s environment in addition. A trailing `*` matches a prefix.',
    example: 'LD_LIBRARY_PATH,LD_PRELOAD,PYTHONPATH,MY_PILOT_*',
  },
  {
    key: 'CJW_ENV_SET',
    type: { kind: 'map-list' },
    default: '',
    description: '`KEY=VALUE` set inside the container, applied last.',
    example: 'OSG_SITE_NAME=MySite,XRD_RUNFORKHANDLER=1',
  },
  {
    key: 'CJW_EXTRA_ARGS',
    type: { kind: 'list' },
    default: '',
    description: 'Extra runtime arguments, one argv entry per list entry (no shell splitting), placed before the image.',
    example: '--ipc,--env,OSG=1',
  },
  {
    key: 'CJW_SETUP_DIR',
    type: { kind: 'path-or-empty' },
    default: '',
    description: 'Directory of setup hooks run on the host before the container (docs/hooks.md). A failure is a node error (69): the job is requeued.',
    example: '/etc/condor-job-wrapper/setup.d',
  },
  {
    key: 'CJW_TEST_DIR',
    type: { kind: 'path-or-empty' },
    default: '',
    description: 'Directory of test hooks run on the host before the container. A failure means the node is unhealthy (69).',
    example: '/etc/condor-job-wrapper/test.d',
  },
  {
    key: 'CJW_INSIDE_DIR',
    type: { kind: 'path-or-empty' },
    default: '',
    description: 'Directory of hooks run inside the container before the payload, through a generated launcher; bound read-only into the container.',
    example: '/etc/condor-job-wrapper/inside.d',
  },
  {
    key: 'CJW_HOOK_TIMEOUT',
    type: { kind: 'seconds' },
    default: '60',
    description: 'Seconds each hook may run before it is killed with its process group.',
    example: '30',
  },
  {
    key: 'CJW_LOG',
    type: { kind: 'log' },
    default: 'off',
    description: '`off`, `syslog` (through logger(1): the system log stamps the real uid, jobs cannot forge or erase records) or `file:/abs/path` (writable by every job user, hence forgeable). A node without `/dev/log` drops the records of `syslog` quietly (a job\'s stderr is its owner\'s, not the admin\'s); `--check` reports that, a forgeable log file and one jobs cannot write.',
    example: 'syslog',
  },
  {
    key: 'CJW_LOG_LEVEL',
    type: { kind: 'enum', values: ['info', 'debug'] },
    default: 'info',
    description: '`info`: one traceability record per job; `debug`: also one record per decision.',
    example: 'debug',
  },
  {
    key: 'CJW_GLIDEIN_CONFIG',
    type: { kind: 'path-or-empty' },
    default: '',
    description: 'A glideinWMS `glidein_config` whose GLIDEIN_SINGULARITY_REQUIRE, GLIDEIN_Singularity_Use, SINGULARITY_IMAGES_DICT, GLIDEIN_SINGULARITY_BINDPATH, GLIDEIN_SINGULARITY_OPTS and GLIDEIN_REQUIRED_OS map onto the keys above; keys set in our own files win.',
    example: '/var/lib/glidein/glidein_config',
  },
] as const satisfies readonly KeySpec[];

export type ConfigKey = (typeof SCHEMA)[number]['key'];

/** A bind as configured: `src[:dst[:opts]]` with an optional trailing `!` (required). */
export interface BindSpec {
  readonly src: string;
  readonly dst: string;
  readonly opts: string;
  readonly required: boolean;
  /** The entry as written, for messages. */
  readonly text: string;
}

/** The typed configuration every stage receives; built only by facts/config/load.ts. */
export interface Config {
  readonly mode: PolicyMode;
  readonly voMode: RequestMode;
  readonly nested: NestedSetting;
  readonly gpuFlag: string;
  readonly runtime: string;
  readonly runtimeNames: readonly string[];
  readonly passthrough: readonly string[];
  readonly defaultImage: string;
  readonly images: ReadonlyMap<string, string>;
  readonly imageAllow: readonly string[];
  readonly binds: readonly BindSpec[];
  readonly bindAllow: readonly string[];
  readonly bindDeny: readonly string[];
  readonly targetDir: string;
  readonly envDrop: readonly string[];
  readonly envSet: ReadonlyMap<string, string>;
  readonly extraArgs: readonly string[];
  readonly setupDir: string;
  readonly testDir: string;
  readonly insideDir: string;
  readonly hookTimeoutSeconds: number;
  readonly log: LogTarget;
  readonly logLevel: LogLevel;
  readonly glideinConfig: string;
  /** Which file set each key (for --explain and --check). Keys at their default are absent. */
  readonly origins: ReadonlyMap<ConfigKey, string>;
}
