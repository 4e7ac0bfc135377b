// Singularity 3.x / SingularityCE 3.x-4.x flag table (family 'singularity3', style 'pflag').
//
// A UNION of the flags accepted across these releases, so that any line one of them accepts
// parses; which flags a given installed version really has is decided elsewhere (e.g. --rocm is
// SingularityCE 3.5+, so 3.4.2 rejects it with `unknown flag: --rocm`).
// Derived from:
//   * the installed Singularity 3.4.2 binary (`/opt/singularity-3.4.2/bin/singularity --help`,
//     `exec|run|shell|test|instance start --help`): flags marked [3.4.2] below are listed there
//     (hidden flags are not printed by --help, so e.g. --containlibs is from source only).
//     3.4.2 has NO global -c/--config (`unknown shorthand flag: 'c' in -c`).
//   * github.com/apptainer/singularity cmd/internal/cli/action_flags.go (3.1-3.3 era, with
//     --nonet, --passphrase, --pem-path)
//   * github.com/sylabs/singularity cmd/internal/cli/action_flags.go @ 022c88ab6ef3e07f7d91046deb70f4c8d9f817df
//     (SingularityCE 3.8-era: --rocm, --compat, --no-mount, --env, --env-file, --no-umask,
//     --fusemount) and the SingularityCE 4.x version (module github.com/sylabs/singularity/v4,
//     copyright 2018-2024: --data, --mount, --cwd, --no-pid, --netns-path, --no-setgroups,
//     --no-compat, --nvccli, --no-eval, cgroup limit flags, --sif-fuse, --proot, --device,
//     --cdi-dirs; registers commonOCIFlag, commonNoOCIFlag, commonKeepLayersFlag,
//     actionTmpSandbox, actionNoTmpSandbox, commonAuthFileFlag, dockerHostFlag)
//   * github.com/sylabs/singularity cmd/internal/cli/singularity.go @ 5c3dcbb5ec69923d532660984a9099a73bdb1921
//     (root persistent flags incl. -c/--config; --no-https, deprecated --nohttps, --docker-*,
//     --passphrase, --pem-path)
//   * SingularityCE 4.0.0-rc.2 / 4.1.0 release notes for --no-tmp-sandbox and `--authfile <path>`
//     (their definitions were not in the stored source; --oci/--no-oci/--keep-layers/
//     --tmp-sandbox/--no-tmp-sandbox are used as booleans in the SingularityCE 4 docs).
// takesValue: string / strings / int flags take a value; bool flags do not.

import type { FamilyTable, FlagDef } from '../flagTable';

const help: FlagDef = { names: ['-h', '--help'], takesValue: false, meaning: 'other' }; // [3.4.2]

// Flags of the "actions_instance" group: exec, shell, run, test and instance start.
const actionsInstanceFlags: readonly FlagDef[] = [
  help,
  { names: ['--add-caps'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['--allow-setuid'], takesValue: false, meaning: 'other' }, // [3.4.2]
  // --app: actions only in 3.4.2/3.8, actions_instance in 4.x.
  { names: ['--app'], takesValue: true, meaning: 'app' }, // [3.4.2]
  { names: ['--apply-cgroups'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['-B', '--bind'], takesValue: true, meaning: 'bind' }, // [3.4.2]
  // SingularityCE 4.x data-container bind (src:dest); not a plain host bind, so 'other'.
  { names: ['--data'], takesValue: true, meaning: 'other' },
  { names: ['-e', '--cleanenv'], takesValue: false, meaning: 'cleanenv' }, // [3.4.2]
  { names: ['--compat'], takesValue: false, meaning: 'other' },
  { names: ['--no-compat'], takesValue: false, meaning: 'other' },
  { names: ['-C', '--containall'], takesValue: false, meaning: 'containall' }, // [3.4.2]
  { names: ['-c', '--contain'], takesValue: false, meaning: 'contain' }, // [3.4.2]
  { names: ['--containlibs'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['--disable-cache'], takesValue: false, meaning: 'other' }, // [3.4.2]
  { names: ['--dns'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['--drop-caps'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['-f', '--fakeroot'], takesValue: false, meaning: 'fakeroot' }, // [3.4.2]
  { names: ['--no-setgroups'], takesValue: false, meaning: 'other' },
  { names: ['--fusemount'], takesValue: true, meaning: 'other' },
  { names: ['-H', '--home'], takesValue: true, meaning: 'home' }, // [3.4.2]
  { names: ['--hostname'], takesValue: true, meaning: 'hostname' }, // [3.4.2]
  // --ipc: actions only in 3.8, actions_instance in 4.x.
  { names: ['-i', '--ipc'], takesValue: false, meaning: 'ipc' }, // [3.4.2]
  { names: ['--keep-privs'], takesValue: false, meaning: 'other' }, // [3.4.2]
  { names: ['--mount'], takesValue: true, meaning: 'mount' },
  { names: ['-n', '--net'], takesValue: false, meaning: 'net' }, // [3.4.2]
  { names: ['--netns-path'], takesValue: true, meaning: 'other' },
  { names: ['--network-args'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['--network'], takesValue: true, meaning: 'network' }, // [3.4.2]
  { names: ['--no-home'], takesValue: false, meaning: 'no-home' }, // [3.4.2]
  { names: ['--no-mount'], takesValue: true, meaning: 'other' },
  { names: ['--no-init'], takesValue: false, meaning: 'no-init' }, // [3.4.2]
  { names: ['--no-nv'], takesValue: false, meaning: 'other' }, // [3.4.2] hidden in CE
  { names: ['--no-rocm'], takesValue: false, meaning: 'other' }, // hidden
  { names: ['--no-privs'], takesValue: false, meaning: 'other' }, // [3.4.2]
  { names: ['--nv'], takesValue: false, meaning: 'nv' }, // [3.4.2]
  { names: ['--nvccli'], takesValue: false, meaning: 'other' },
  { names: ['--rocm'], takesValue: false, meaning: 'rocm' }, // SingularityCE 3.5+
  { names: ['-o', '--overlay'], takesValue: true, meaning: 'overlay' }, // [3.4.2]
  { names: ['--passphrase'], takesValue: false, meaning: 'other' }, // [3.4.2]
  // --pid: actions only in the 3.8/4.x source, but 3.4.2 `instance start --help` lists -p/--pid.
  { names: ['-p', '--pid'], takesValue: false, meaning: 'pid' }, // [3.4.2]
  { names: ['--pem-path'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['-S', '--scratch'], takesValue: true, meaning: 'scratch' }, // [3.4.2]
  { names: ['--security'], takesValue: true, meaning: 'security' }, // [3.4.2]
  { names: ['--tmpdir'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['-u', '--userns'], takesValue: false, meaning: 'userns' }, // [3.4.2]
  { names: ['--uts'], takesValue: false, meaning: 'other' }, // [3.4.2]
  { names: ['-W', '--workdir'], takesValue: true, meaning: 'workdir' }, // [3.4.2]
  { names: ['-w', '--writable'], takesValue: false, meaning: 'writable' }, // [3.4.2]
  { names: ['--writable-tmpfs'], takesValue: false, meaning: 'writable-tmpfs' }, // [3.4.2]
  { names: ['--no-https'], takesValue: false, meaning: 'other' },
  // [3.4.2] spells it --nohttps; later deprecated in favour of --no-https but still accepted.
  { names: ['--nohttps'], takesValue: false, meaning: 'other' },
  { names: ['--docker-login'], takesValue: false, meaning: 'other' }, // [3.4.2]
  { names: ['--docker-host'], takesValue: true, meaning: 'other' },
  { names: ['--docker-password'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['--docker-username'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['--env'], takesValue: true, meaning: 'env' },
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
  { names: ['--oci'], takesValue: false, meaning: 'other' },
  { names: ['--no-oci'], takesValue: false, meaning: 'other' },
  { names: ['--keep-layers'], takesValue: false, meaning: 'other' },
  { names: ['--tmp-sandbox'], takesValue: false, meaning: 'other' },
  { names: ['--no-tmp-sandbox'], takesValue: false, meaning: 'other' },
  { names: ['--authfile'], takesValue: true, meaning: 'other' },
];

// Flags of the "actions" group only: exec, shell, run, test (not instance start).
const actionsOnlyFlags: readonly FlagDef[] = [
  { names: ['--no-pid'], takesValue: false, meaning: 'other' },
  // 4.x: --cwd documented, --pwd its hidden synonym. [3.4.2] has --pwd only.
  { names: ['--cwd'], takesValue: true, meaning: 'pwd' },
  { names: ['--pwd'], takesValue: true, meaning: 'pwd' }, // [3.4.2]
  // VM flags existed in 3.x (removed in 4.x).
  { names: ['--vm'], takesValue: false, meaning: 'other' }, // [3.4.2]
  { names: ['--vm-cpu'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['--vm-err'], takesValue: false, meaning: 'other' }, // [3.4.2]
  { names: ['--vm-ip'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['--vm-ram'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['--nonet'], takesValue: false, meaning: 'other' }, // [3.4.2] VM network, 3.x only
  { names: ['--sif-fuse'], takesValue: false, meaning: 'other' }, // deprecated in 4.x
  { names: ['--proot'], takesValue: true, meaning: 'other' }, // hidden
  { names: ['--device'], takesValue: true, meaning: 'other' },
  { names: ['--cdi-dirs'], takesValue: true, meaning: 'other' },
];

// ShellCmd only. -s here is --shell (takes a value), not the global --silent.
const shellOnlyFlags: readonly FlagDef[] = [
  { names: ['-s', '--shell'], takesValue: true, meaning: 'other' }, // [3.4.2]
  { names: ['--syos'], takesValue: false, meaning: 'other' }, // [3.4.2]
];

export const singularity3Table: FamilyTable = {
  family: 'singularity3',
  displayName: 'Singularity 3.x / SingularityCE 3.x-4.x',
  style: 'pflag',
  globalFlags: [
    help,
    { names: ['--version'], takesValue: false, meaning: 'other' }, // [3.4.2]
    { names: ['-d', '--debug'], takesValue: false, meaning: 'other' }, // [3.4.2]
    { names: ['--nocolor'], takesValue: false, meaning: 'other' }, // [3.4.2]
    { names: ['-s', '--silent'], takesValue: false, meaning: 'other' }, // [3.4.2]
    { names: ['-q', '--quiet'], takesValue: false, meaning: 'other' }, // [3.4.2]
    { names: ['-v', '--verbose'], takesValue: false, meaning: 'other' }, // [3.4.2]
    // Not in 3.4.2; present in SingularityCE 3.8+ singularity.go.
    { names: ['-c', '--config'], takesValue: true, meaning: 'other' },
  ],
  actions: {
    exec: [...actionsInstanceFlags, ...actionsOnlyFlags],
    run: [...actionsInstanceFlags, ...actionsOnlyFlags],
    shell: [...actionsInstanceFlags, ...actionsOnlyFlags, ...shellOnlyFlags],
    test: [...actionsInstanceFlags, ...actionsOnlyFlags],
    'instance start': [
      ...actionsInstanceFlags,
      { names: ['--boot'], takesValue: false, meaning: 'other' }, // [3.4.2]
    ],
  },
};
