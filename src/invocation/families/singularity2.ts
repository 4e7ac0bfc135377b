// Singularity 2.6.x flag table (family 'singularity2', style 'shell').
//
// Derived from the real installed 2.6.1 scripts (authoritative; upstream tag `2.6.1`,
// github.com/apptainer/singularity):
//   /opt/singularity-2.6.1/bin/singularity                               (global options loop)
//   /opt/singularity-2.6.1/libexec/singularity/cli/action_argparser.sh   (exec, run, shell)
//   /opt/singularity-2.6.1/libexec/singularity/cli/test.exec             (test: own loop)
//   /opt/singularity-2.6.1/libexec/singularity/cli/instance.start.exec   (instance start: own loop)
// and checked against `singularity <action> --help` of the installed 2.6.1.
//
// Notes for the parser author (all verified on the installed 2.6.1 binary):
//  * Parsing is a bash `case ${1:-}` loop over exact words. There is NO `--flag=value` form:
//    `exec --bind=/tmp IMG` fails with rc 1 `ERROR: Unknown option: --bind=/tmp`.
//  * There are NO short clusters: `exec -ci IMG` fails with `ERROR: Unknown option: -ci`.
//    The only multi-letter single-dash words are the global `-vv`, `-vvv`, `-vvvv`, which the
//    front end lists as separate case patterns; they are listed below as extra names.
//  * A value flag takes the next argv word verbatim, even if it starts with `-`.
//  * The first word not starting with `-` ends option parsing (it is the action, or the image).
//    Exception: exec/run/shell also accept the BARE WORD `app` as a spelling of `--app`
//    (`app|--app|-a)`), which cannot be expressed as a FlagDef name; the parser must special-case
//    it (or reject it). An image literally named `app` is therefore mis-parsed by 2.6 itself.
//  * Global options: there is no `--nocolor` in 2.6 (`ERROR: Unknown argument: --nocolor`, rc 1).
//  * `-s` is `--silent` before the action but `--shell <path>` (takes a value) inside
//    exec/run/shell.
//  * Spellings differ from 3.x: `--noinit` (not `--no-init`); extra aliases `--user`,
//    `--wdir`, `--workingdir`, `--scratchdir`, `--scratch-dir`, `--CONTAIN` (= --containall).
//  * 2.6 has none of --rocm, --env, --env-file, --no-eval, --keep-privs, --no-privs,
//    --add-caps, --drop-caps, --allow-setuid, --fakeroot, --hostname, --security, --mount.
//  * `shell --help` documents `-j|--join`, but action_argparser.sh does not accept it
//    (`ERROR: Unknown option: -j`), so it is not listed.
//  * `instance start`: its loop has `-n|--nv)` BEFORE `-n|--net)`, so `-n` means --nv there
//    (bash takes the first matching pattern), although its help text says `-n|--net`.
//  * `test` has its own loop accepting only -h/--help and -a/--app.

import type { FamilyTable, FlagDef } from '../flagTable';

const help: FlagDef = { names: ['-h', '--help'], takesValue: false, meaning: 'other' };

// action_argparser.sh, sourced by exec.exec, run.exec and shell.exec.
const actionFlags: readonly FlagDef[] = [
  help,
  { names: ['-o', '--overlay'], takesValue: true, meaning: 'overlay' },
  { names: ['-s', '--shell'], takesValue: true, meaning: 'other' },
  { names: ['-u', '--user', '--userns'], takesValue: false, meaning: 'userns' },
  { names: ['-w', '--writable'], takesValue: false, meaning: 'writable' },
  { names: ['-H', '--home'], takesValue: true, meaning: 'home' },
  { names: ['--no-home'], takesValue: false, meaning: 'no-home' },
  { names: ['-W', '--wdir', '--workdir', '--workingdir'], takesValue: true, meaning: 'workdir' },
  { names: ['-S', '--scratchdir', '--scratch-dir', '--scratch'], takesValue: true, meaning: 'scratch' },
  // Also the bare word `app` (see top comment).
  { names: ['--app', '-a'], takesValue: true, meaning: 'app' },
  { names: ['-B', '--bind'], takesValue: true, meaning: 'bind' },
  { names: ['-c', '--contain'], takesValue: false, meaning: 'contain' },
  // `--CONTAIN` is a real (case-sensitive) alias in the case statement.
  { names: ['-C', '--containall', '--CONTAIN'], takesValue: false, meaning: 'containall' },
  { names: ['-e', '--cleanenv'], takesValue: false, meaning: 'cleanenv' },
  { names: ['-p', '--pid'], takesValue: false, meaning: 'pid' },
  { names: ['--noinit'], takesValue: false, meaning: 'no-init' },
  { names: ['-i', '--ipc'], takesValue: false, meaning: 'ipc' },
  { names: ['-n', '--net'], takesValue: false, meaning: 'net' },
  { names: ['--pwd'], takesValue: true, meaning: 'pwd' },
  { names: ['--nv'], takesValue: false, meaning: 'nv' },
];

export const singularity2Table: FamilyTable = {
  family: 'singularity2',
  displayName: 'Singularity 2.6',
  style: 'shell',
  // bin/singularity argument loop. (It also accepts the bare word `help`, like -h.)
  globalFlags: [
    help,
    { names: ['-q', '--quiet'], takesValue: false, meaning: 'other' },
    { names: ['--version'], takesValue: false, meaning: 'other' },
    { names: ['-s', '--silent'], takesValue: false, meaning: 'other' },
    { names: ['-d', '--debug'], takesValue: false, meaning: 'other' },
    { names: ['-x', '--sh-debug'], takesValue: false, meaning: 'other' },
    // -vv/-vvv/-vvvv are separate exact case patterns, not clusters.
    { names: ['-v', '--verbose', '-vv', '-vvv', '-vvvv'], takesValue: false, meaning: 'other' },
  ],
  actions: {
    exec: actionFlags,
    run: actionFlags,
    shell: actionFlags,
    // test.exec has its own loop.
    test: [help, { names: ['-a', '--app'], takesValue: true, meaning: 'app' }],
    // instance.start.exec has its own loop; `-n` is --nv here (first matching case wins).
    'instance start': [
      help,
      { names: ['-w', '--writable'], takesValue: false, meaning: 'writable' },
      { names: ['-H', '--home'], takesValue: true, meaning: 'home' },
      { names: ['-W', '--wdir', '--workdir', '--workingdir'], takesValue: true, meaning: 'workdir' },
      { names: ['-S', '--scratchdir', '--scratch-dir', '--scratch'], takesValue: true, meaning: 'scratch' },
      { names: ['-B', '--bind'], takesValue: true, meaning: 'bind' },
      { names: ['-c', '--contain'], takesValue: false, meaning: 'contain' },
      { names: ['-e', '--cleanenv'], takesValue: false, meaning: 'cleanenv' },
      { names: ['-o', '--overlay'], takesValue: true, meaning: 'overlay' },
      { names: ['-n', '--nv'], takesValue: false, meaning: 'nv' },
      { names: ['--net'], takesValue: false, meaning: 'net' },
    ],
  },
};
