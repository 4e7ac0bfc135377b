// Apptainer 1.x flag table (family 'apptainer', style 'pflag').
//
// Derived from github.com/apptainer/apptainer source (stored versions of the main branch,
// 1.1.x-1.2 era; no release tag was attached to the stored copies):
//   cmd/internal/cli/action_flags.go @ 00e9b038b8aa9d0b3adc4a3c2c0fe6d705e0eb6d (has --cwd,
//     --dmtcp-*, --underlay, --unsquash, --ignore-*) and @ df5d92b54eee7333d258ff680375d8ce708e6a75
//     (the flag definitions and the init() registration lists: which flag goes to
//     "actions" = exec/shell/run/test and which to "actions_instance" = those + instance start)
//   cmd/internal/cli/apptainer.go @ 7a5a401231860bb23026ba8390c665da37015723 (root persistent
//     flags; --docker-*, --passphrase, --pem-path, --no-https/--nohttps definitions)
// Checked against the real 1.4.5 (Debian) `apptainer ACTION --help` by test/runtime/apptainer.test.ts,
// which added --netns-path, --no-pid, --runscript-timeout (run) and --pid-file (instance start).
// Later additions, not in the stored source but documented upstream:
//   --sharens (bool): apptainer PR #1760, released in 1.3.0 (issue #1906, APPTAINER_SHARENS=true)
//   --authfile (string): `apptainer exec` man page of apptainer 1.4.0 (manpages.ubuntu.com)
// takesValue: string / stringSlice / stringArray / stringToString / int flags take a value;
// bool flags do not (pflag also accepts `--bool=true|false`).
// Hidden/deprecated flags are included because pflag still accepts them.

import type { FamilyTable, FlagDef } from '../flagTable';

const help: FlagDef = { names: ['-h', '--help'], takesValue: false, meaning: 'other' };

// Registered for actionsInstanceCmd: exec, shell, run, test and instance start.
const actionsInstanceFlags: readonly FlagDef[] = [
  help,
  { names: ['--add-caps'], takesValue: true, meaning: 'other' },
  { names: ['--allow-setuid'], takesValue: false, meaning: 'other' },
  { names: ['--app'], takesValue: true, meaning: 'app' },
  { names: ['--apply-cgroups'], takesValue: true, meaning: 'other' },
  { names: ['-B', '--bind'], takesValue: true, meaning: 'bind' },
  { names: ['-e', '--cleanenv'], takesValue: false, meaning: 'cleanenv' },
  { names: ['--compat'], takesValue: false, meaning: 'other' },
  { names: ['-C', '--containall'], takesValue: false, meaning: 'containall' },
  { names: ['-c', '--contain'], takesValue: false, meaning: 'contain' },
  { names: ['--containlibs'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['--disable-cache'], takesValue: false, meaning: 'other' },
  { names: ['--dns'], takesValue: true, meaning: 'other' },
  { names: ['--drop-caps'], takesValue: true, meaning: 'other' },
  { names: ['-f', '--fakeroot'], takesValue: false, meaning: 'fakeroot' },
  { names: ['--fusemount'], takesValue: true, meaning: 'other' },
  { names: ['-H', '--home'], takesValue: true, meaning: 'home' },
  { names: ['--hostname'], takesValue: true, meaning: 'hostname' },
  { names: ['-i', '--ipc'], takesValue: false, meaning: 'ipc' },
  { names: ['--keep-privs'], takesValue: false, meaning: 'other' },
  { names: ['--mount'], takesValue: true, meaning: 'mount' },
  { names: ['-n', '--net'], takesValue: false, meaning: 'net' },
  // Only meaningful with --net; kept 'other' so "is there a network?" rules look at --net/--network.
  { names: ['--network-args'], takesValue: true, meaning: 'other' },
  { names: ['--network'], takesValue: true, meaning: 'network' },
  { names: ['--no-home'], takesValue: false, meaning: 'no-home' },
  { names: ['--no-mount'], takesValue: true, meaning: 'other' },
  { names: ['--no-init'], takesValue: false, meaning: 'no-init' },
  { names: ['--no-nv'], takesValue: false, meaning: 'other' }, // hidden
  { names: ['--no-rocm'], takesValue: false, meaning: 'other' }, // hidden
  { names: ['--no-privs'], takesValue: false, meaning: 'other' },
  { names: ['--nv'], takesValue: false, meaning: 'nv' },
  { names: ['--nvccli'], takesValue: false, meaning: 'other' },
  { names: ['--rocm'], takesValue: false, meaning: 'rocm' },
  { names: ['-o', '--overlay'], takesValue: true, meaning: 'overlay' },
  { names: ['--passphrase'], takesValue: false, meaning: 'other' },
  { names: ['--pem-path'], takesValue: true, meaning: 'other' },
  { names: ['-S', '--scratch'], takesValue: true, meaning: 'scratch' },
  { names: ['--security'], takesValue: true, meaning: 'security' },
  { names: ['--tmpdir'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['-u', '--userns'], takesValue: false, meaning: 'userns' },
  { names: ['--uts'], takesValue: false, meaning: 'other' },
  { names: ['-W', '--workdir'], takesValue: true, meaning: 'workdir' },
  { names: ['-w', '--writable'], takesValue: false, meaning: 'writable' },
  { names: ['--writable-tmpfs'], takesValue: false, meaning: 'writable-tmpfs' },
  { names: ['--no-https'], takesValue: false, meaning: 'other' },
  { names: ['--nohttps'], takesValue: false, meaning: 'other' }, // deprecated alias
  { names: ['--docker-login'], takesValue: false, meaning: 'other' },
  { names: ['--docker-host'], takesValue: true, meaning: 'other' },
  { names: ['--docker-password'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['--docker-username'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['--env'], takesValue: true, meaning: 'env' }, // stringToString
  { names: ['--env-file'], takesValue: true, meaning: 'env-file' },
  { names: ['--no-umask'], takesValue: false, meaning: 'other' },
  { names: ['--no-eval'], takesValue: false, meaning: 'no-eval' },
  { names: ['--blkio-weight'], takesValue: true, meaning: 'other' }, // int
  { names: ['--blkio-weight-device'], takesValue: true, meaning: 'other' },
  { names: ['--cpu-shares'], takesValue: true, meaning: 'other' }, // int
  { names: ['--cpus'], takesValue: true, meaning: 'other' },
  { names: ['--cpuset-cpus'], takesValue: true, meaning: 'other' },
  { names: ['--cpuset-mems'], takesValue: true, meaning: 'other' },
  { names: ['--memory'], takesValue: true, meaning: 'other' },
  { names: ['--memory-reservation'], takesValue: true, meaning: 'other' },
  { names: ['--memory-swap'], takesValue: true, meaning: 'other' },
  { names: ['--oom-kill-disable'], takesValue: false, meaning: 'other' },
  { names: ['--pids-limit'], takesValue: true, meaning: 'other' }, // int
  { names: ['--unsquash'], takesValue: false, meaning: 'other' },
  { names: ['--ignore-subuid'], takesValue: false, meaning: 'other' }, // hidden
  { names: ['--ignore-fakeroot-command'], takesValue: false, meaning: 'other' }, // hidden
  { names: ['--ignore-userns'], takesValue: false, meaning: 'other' }, // hidden
  { names: ['--underlay'], takesValue: false, meaning: 'other' },
  { names: ['--dmtcp-launch'], takesValue: true, meaning: 'other' },
  { names: ['--dmtcp-restart'], takesValue: true, meaning: 'other' },
  { names: ['--sharens'], takesValue: false, meaning: 'other' }, // 1.3+
  { names: ['--authfile'], takesValue: true, meaning: 'other' }, // 1.4 man page
  // Joins an existing network namespace (root, or where apptainer.conf allows it). 1.4.5 help.
  { names: ['--netns-path'], takesValue: true, meaning: 'other' },
];

// Registered for actionsCmd only: exec, shell, run, test (not instance start).
const actionsOnlyFlags: readonly FlagDef[] = [
  { names: ['-p', '--pid'], takesValue: false, meaning: 'pid' },
  // --cwd is the documented name; --pwd is its hidden synonym (same variable).
  { names: ['--cwd'], takesValue: true, meaning: 'pwd' },
  { names: ['--pwd'], takesValue: true, meaning: 'pwd' },
  { names: ['--vm'], takesValue: false, meaning: 'other' },
  { names: ['--vm-cpu'], takesValue: true, meaning: 'other' },
  { names: ['--vm-err'], takesValue: false, meaning: 'other' },
  { names: ['--vm-ip'], takesValue: true, meaning: 'other' },
  { names: ['--vm-ram'], takesValue: true, meaning: 'other' },
  // 1.4.5 help. Verified there: `-C --no-pid` still makes a new PID namespace, so a rule that
  // must avoid one has to replace -C (nested.ts), not add --no-pid.
  { names: ['--no-pid'], takesValue: false, meaning: 'other' },
];

// Registered for ShellCmd only. Note: -s here is --shell (a value), not the global --silent.
const shellOnlyFlags: readonly FlagDef[] = [
  { names: ['-s', '--shell'], takesValue: true, meaning: 'other' },
  { names: ['--syos'], takesValue: false, meaning: 'other' },
];

export const apptainerTable: FamilyTable = {
  family: 'apptainer',
  displayName: 'Apptainer 1.x',
  style: 'pflag',
  // apptainer.go root persistent flags, plus cobra's --help/--version on the root command.
  globalFlags: [
    help,
    { names: ['--version'], takesValue: false, meaning: 'other' },
    { names: ['-d', '--debug'], takesValue: false, meaning: 'other' },
    { names: ['--nocolor'], takesValue: false, meaning: 'other' },
    { names: ['-s', '--silent'], takesValue: false, meaning: 'other' },
    { names: ['-q', '--quiet'], takesValue: false, meaning: 'other' },
    { names: ['-v', '--verbose'], takesValue: false, meaning: 'other' },
    { names: ['-c', '--config'], takesValue: true, meaning: 'other' },
    { names: ['--build-config'], takesValue: false, meaning: 'other' },
  ],
  actions: {
    exec: [...actionsInstanceFlags, ...actionsOnlyFlags],
    // --runscript-timeout: run only (1.4.5 help).
    run: [...actionsInstanceFlags, ...actionsOnlyFlags, { names: ['--runscript-timeout'], takesValue: true, meaning: 'other' }],
    shell: [...actionsInstanceFlags, ...actionsOnlyFlags, ...shellOnlyFlags],
    test: [...actionsInstanceFlags, ...actionsOnlyFlags],
    // --boot is registered for instanceStartCmd (and instance run) only.
    'instance start': [...actionsInstanceFlags, { names: ['--boot'], takesValue: false, meaning: 'other' }, { names: ['--pid-file'], takesValue: true, meaning: 'other' }],
  },
};
