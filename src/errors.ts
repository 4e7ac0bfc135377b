// The failure contract (SPEC S7): one error type with a stable exit code and a class, raised
// where the fact is known and carried up as data. The catalogue below is also the source of
// docs/troubleshooting.md, so the documentation cannot drift from the code.

/** sysexits(3) codes the wrapper uses. */
export const Exit = {
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  SOFTWARE: 70,
  CONFIG: 78,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** `job`: the job owner must fix something; `node`: the site or node must. */
export type ErrorClass = 'job' | 'node';

export function classOf(code: ExitCode): ErrorClass {
  return code === Exit.USAGE || code === Exit.DATAERR || code === Exit.NOINPUT ? 'job' : 'node';
}

interface CatalogueEntry {
  readonly code: ExitCode;
  /** Example of the full line, for the documentation. */
  readonly example: string;
  /** What a site admin or job owner should do. */
  readonly fix: string;
}

/**
 * Every error the wrapper can raise. Keys are stable identifiers (used in logs and tests);
 * the class follows from the code (S7: 64/65/66 job, 69/70/78 node).
 */
export const catalogue = {
  'usage.unknown-option': {
    code: Exit.USAGE,
    example: 'unknown wrapper option --frobnicate: see condor-job-wrapper --help',
    fix: 'Wrapper options come before the command; check the spelling against --help.',
  },
  'usage.missing-command': {
    code: Exit.USAGE,
    example: 'no command to run: the wrapper was called without a job command line',
    fix: 'USER_JOB_WRAPPER is called by the starter with the job command line; when calling it by hand, give one.',
  },
  'usage.option-value': {
    code: Exit.USAGE,
    example: 'wrapper option --config: needs a value',
    fix: 'Give the option its value, e.g. --config /etc/condor-job-wrapper/test.env.',
  },
  'invocation.unknown-flag': {
    code: Exit.USAGE,
    example: 'runtime flag --bogus: not a flag of Apptainer 1.x before the image',
    fix: 'Site: remove the flag from SINGULARITY_EXTRA_ARGUMENTS or CJW_EXTRA_ARGS, or upgrade the wrapper if the runtime gained it.',
  },
  'invocation.malformed': {
    code: Exit.USAGE,
    example: 'runtime command line: flag --bind needs a value but the line ends',
    fix: 'The runtime command line is incomplete; check SINGULARITY_EXTRA_ARGUMENTS and the job image attribute.',
  },
  'invocation.not-utf8': {
    code: Exit.DATAERR,
    example: 'argument 3: not valid UTF-8, refusing to pass it on altered',
    fix: 'Job owner: use UTF-8 (or plain ASCII) in the job arguments and environment.',
  },
  'payload.missing': {
    code: Exit.NOINPUT,
    example: 'program myjob.sh: not found in the job\'s PATH or not executable',
    fix: 'Job owner: check the executable in the submit file (and transfer_executable).',
  },
  'jobad.unreadable': {
    code: Exit.DATAERR,
    example: 'job ad /srv/.job.ad: cannot read it: ENOENT',
    fix: 'The starter writes the job ad; if it is missing, the node is misconfigured or the job removed it.',
  },
  'jobad.malformed': {
    code: Exit.DATAERR,
    example: 'job ad /scratch/.job.ad line 12: expected "Name = value"',
    fix: 'Job owner: check the attributes you set with +Attr in the submit file.',
  },
  'jobad.bad-attribute': {
    code: Exit.DATAERR,
    example: 'job attribute SingularityImage: must be a string, got an integer',
    fix: 'Job owner: set the attribute as the documentation says (e.g. +SingularityImage = "/cvmfs/...").',
  },
  'machinead.bad': {
    code: Exit.UNAVAILABLE,
    example: 'machine ad /scratch/.machine.ad line 7: AssignedGPUs: unterminated string',
    fix: 'Site: the starter wrote a machine ad the wrapper cannot read (check STARTD_ATTRS values); the job is requeued elsewhere.',
  },
  'negotiation.fail': {
    code: Exit.UNAVAILABLE,
    example: 'container policy: site CJW_MODE=REQUIRED and request CJW_VO_MODE=DISABLE cannot both hold (negotiation table: FAIL)',
    fix: 'The job cannot run on this node: it will be requeued elsewhere. Match jobs to nodes with requirements on HasSingularity, or align CJW_VO_MODE of the pilot with the site\'s CJW_MODE.',
  },
  'runtime.unusable': {
    code: Exit.UNAVAILABLE,
    example: 'container runtime /usr/bin/apptainer: not found, and policy REQUIRED forbids running uncontained',
    fix: 'Site: install the runtime or fix CJW_RUNTIME; run condor-job-wrapper --check.',
  },
  'scratch.invalid': {
    code: Exit.UNAVAILABLE,
    example: 'scratch dir _CONDOR_SCRATCH_DIR=/var/lib/condor/execute/dir_7: not a directory (missing)',
    fix: 'The starter sets _CONDOR_SCRATCH_DIR to the job\'s sandbox; when calling the wrapper by hand set it to an existing absolute directory, or use --explain.',
  },
  'runtime.nested-setuid': {
    code: Exit.UNAVAILABLE,
    example: 'container runtime /opt/singularity-3.4.2/bin/singularity: setuid mode cannot start inside a container',
    fix: 'Site: inside a container only user-namespace runtimes work; add -u/--userns via CJW_EXTRA_ARGS or use an unprivileged runtime.',
  },
  'runtime.unsupported-flag': {
    code: Exit.CONFIG,
    example: 'runtime flag --rocm: Singularity 2.6 has no such flag (from CJW_GPU_FLAG)',
    fix: 'Site: choose a flag the installed runtime supports, or upgrade the runtime.',
  },
  'image.not-allowed': {
    code: Exit.DATAERR,
    example: 'image /home/me/evil.sif: not allowed by CJW_IMAGE_ALLOW',
    fix: 'Job owner: use an image from the allowed locations (ask the site which).',
  },
  'image.empty': {
    code: Exit.DATAERR,
    example: 'image "": the runtime line names an empty image',
    fix: 'Job owner: name the image (+SingularityImage or the image argument of the runtime line); an empty string is no image.',
  },
  'image.missing': {
    code: Exit.NOINPUT,
    example: 'image /cvmfs/singularity.opensciencegrid.org/x/y:latest: does not exist',
    fix: 'Job owner: check the image path in +SingularityImage.',
  },
  'image.repository-unreachable': {
    code: Exit.UNAVAILABLE,
    example: 'image /cvmfs/unpacked.cern.ch/x: repository /cvmfs/unpacked.cern.ch is not reachable on this node',
    fix: 'Site: the CVMFS repository is not mounted; check autofs/cvmfs on the node.',
  },
  'image.none': {
    code: Exit.DATAERR,
    example: 'image: the job asks for a container but names no image and the site has no CJW_DEFAULT_IMAGE',
    fix: 'Job owner: set +SingularityImage; site: set CJW_DEFAULT_IMAGE or CJW_IMAGES.',
  },
  'bind.not-allowed': {
    code: Exit.DATAERR,
    example: 'job bind /etc/shadow: not allowed by CJW_BIND_DENY glob /etc/**',
    fix: 'Job owner: request only binds the site allows (ask the site).',
  },
  'bind.missing-required': {
    code: Exit.NOINPUT,
    example: 'site bind /cvmfs: required source is missing',
    fix: 'Site: the required bind source is not there; check mounts or drop the trailing ! in CJW_BINDS.',
  },
  'bind.unexpressible': {
    code: Exit.CONFIG,
    example: 'site bind /data/a,b: a path with "," needs --mount, which Singularity 3.4 lacks',
    fix: 'Rename the path or upgrade to a runtime with --mount (Apptainer 1.x, SingularityCE 3.9+).',
  },
  'bind.job-unexpressible': {
    code: Exit.DATAERR,
    example: 'job bind /data/a,b: a path with "," needs --mount, which Singularity 3.4 lacks',
    fix: 'Job owner: avoid "," and ":" in bind paths on this site.',
  },
  'config.unreadable': {
    code: Exit.CONFIG,
    example: 'config /etc/condor-job-wrapper/wrapper.env: cannot read it: EACCES',
    fix: 'Site: make the file readable by job users (mode 0644, owned by root).',
  },
  'config.unknown-key': {
    code: Exit.CONFIG,
    example: 'config /etc/condor-job-wrapper/wrapper.env: unknown key CJW_BIND (did you mean CJW_BINDS?)',
    fix: 'Site: fix the key, or upgrade the wrapper before its config.',
  },
  'config.bad-value': {
    code: Exit.CONFIG,
    example: 'config /etc/condor-job-wrapper/wrapper.env: CJW_MODE=SOMETIMES is not one of NEVER, OPTIONAL, PREFERRED, REQUIRED',
    fix: 'Site: give the key a value of the form docs/configuration.md states.',
  },
  'hook.not-executable': {
    code: Exit.CONFIG,
    example: 'setup hook /etc/condor-job-wrapper/setup.d/10-check: not executable',
    fix: 'Site: chmod +x the hook, or rename it with a skipped suffix (~, .rpmsave, .dpkg-old).',
  },
  'hook.dir-unreadable': {
    code: Exit.CONFIG,
    example: 'setup hook directory /etc/condor-job-wrapper/setup.d (CJW_SETUP_DIR): cannot read it: ENOENT',
    fix: 'Site: create the directory (mode 0755, owned by root) or unset the key.',
  },
  'hook.failed': {
    code: Exit.UNAVAILABLE,
    example: 'test hook 10-cvmfs: exit 1: /cvmfs/cms.cern.ch not mounted',
    fix: 'Site: the node failed its own check; fix what the hook reports. The job is requeued elsewhere.',
  },
  'hook.timeout': {
    code: Exit.UNAVAILABLE,
    example: 'setup hook 20-proxy: killed after the 60 s timeout (CJW_HOOK_TIMEOUT)',
    fix: 'Site: the hook hangs; fix it or raise CJW_HOOK_TIMEOUT.',
  },
  'hook.killed': {
    code: Exit.UNAVAILABLE,
    example: 'setup hook 20-proxy: the wrapper was stopped by signal 15 (SIGTERM) while the hook ran; the hook and what it started were killed',
    fix: 'Something on the node (an admin, the OOM killer, a signal to the job\'s process group) stopped the wrapper during its hooks; the job is requeued elsewhere.',
  },
  'hook.bad-output': {
    code: Exit.CONFIG,
    example: 'setup hook 30-binds: CJW_HOOK_OUTPUT line 2: CJW_ADD_BIND needs src[:dst[:opts]]',
    fix: 'Site: fix what the hook writes to $CJW_HOOK_OUTPUT.',
  },
  'inside.failed': {
    code: Exit.UNAVAILABLE,
    example: 'inside hook 10-env: exit 3',
    fix: 'Site or VO: the check inside the container failed; see the hook\'s output in the job\'s stderr.',
  },
  'inside.unreachable': {
    code: Exit.CONFIG,
    example: 'inside hooks (CJW_INSIDE_DIR): the scratch dir /var/lib/condor/execute/dir_7 is not bound into the container, so the launcher cannot reach it',
    fix: 'Site: inside hooks run through a launcher in the scratch dir; the container must bind the scratch dir (HTCondor does unless configured otherwise).',
  },
  'inside.bad-path': {
    code: Exit.CONFIG,
    example: 'inside hook directory /etc/cjw/inside,d (CJW_INSIDE_DIR): a path with "," or ":" cannot be bound',
    fix: 'Site: rename the directory.',
  },
  'internal.bug': {
    code: Exit.SOFTWARE,
    example: 'internal error: TypeError: x is undefined (at src/decide/plan.ts:42); please report it',
    fix: 'A bug in condor-job-wrapper: report it with the message. The job was not run.',
  },
  'internal.exec': {
    code: Exit.SOFTWARE,
    example: 'exec /usr/bin/apptainer: the wrapper front did not receive a complete plan',
    fix: 'The wrapper could not hand over to the runtime; check Node at the path in the wrapper\'s first lines.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorId = keyof typeof catalogue;

/** A failure with its catalogue id, exit code and class; `what` names the thing, `why` the reason. */
export class WrapperError extends Error {
  readonly id: ErrorId;
  readonly code: ExitCode;
  readonly errorClass: ErrorClass;
  readonly what: string;
  readonly why: string;

  constructor(id: ErrorId, what: string, why: string, options?: { code?: ExitCode }) {
    const code = options?.code ?? catalogue[id].code;
    const cls = classOf(code);
    super(formatLine(cls, what, why));
    this.name = 'WrapperError';
    this.id = id;
    this.code = code;
    this.errorClass = cls;
    this.what = what;
    this.why = why;
  }

  /** The one line that reaches people (stderr, error file, hold reason). */
  get line(): string {
    return this.message;
  }
}

// Matching control characters is this regex's whole purpose.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** Newlines in job-controlled text must not split our one line (the starter turns them into "|"). */
function oneLine(s: string): string {
  // Other control characters (a terminal escape in a job attribute) become "?".
  return s.replace(/[\r\n]+/g, ' ').replace(CONTROL, '?');
}

export function formatLine(cls: ErrorClass, what: string, why: string): string {
  return `condor-job-wrapper: ${cls} error: ${oneLine(what)}: ${oneLine(why)}`;
}

/** Turns anything thrown into a WrapperError: unexpected exceptions become internal bugs (70). */
export function asWrapperError(e: unknown): WrapperError {
  if (e instanceof WrapperError) return e;
  if (e instanceof Error) {
    const frame = /\n\s+at (.*)/.exec(e.stack ?? '')?.[1] ?? 'unknown location';
    return new WrapperError('internal.bug', 'internal error', `${e.name}: ${e.message} (at ${frame}); please report it`);
  }
  return new WrapperError('internal.bug', 'internal error', `non-error thrown: ${String(e)}; please report it`);
}
