// Types for the per-family flag tables. The tables are data: the parser and the renderer
// are generic over them, so supporting a new runtime release means editing one table.

/** Runtime families whose command lines we understand. */
export type FamilyId = 'apptainer' | 'singularity3' | 'singularity2';

/**
 * The canonical meaning of a flag, shared across families so that rewrite rules can ask
 * "is there a bind?" without knowing whether it was spelled `-B`, `--bind` or `--bind=`.
 * Flags that no rule cares about use 'other'.
 */
export type FlagMeaning =
  | 'bind' | 'mount' | 'scratch' | 'workdir' | 'pwd' | 'home' | 'no-home'
  | 'contain' | 'containall' | 'cleanenv' | 'ipc' | 'pid' | 'userns' | 'no-init'
  | 'nv' | 'rocm' | 'writable-tmpfs' | 'writable' | 'env' | 'env-file' | 'no-eval'
  | 'net' | 'network' | 'overlay' | 'app' | 'fakeroot' | 'security' | 'hostname' | 'other';

export interface FlagDef {
  /** Every spelling: long names with `--`, short names with `-` (one letter). */
  readonly names: readonly string[];
  /** True when the flag consumes a value (`--flag value`, `--flag=value`, `-Fvalue`). */
  readonly takesValue: boolean;
  readonly meaning: FlagMeaning;
}

export interface FamilyTable {
  readonly family: FamilyId;
  /** Human name used in error messages, e.g. "Apptainer 1.x / SingularityCE 3.x-4.x". */
  readonly displayName: string;
  /**
   * How options are parsed:
   *  - 'pflag': Go cobra/pflag (Apptainer, SingularityCE, Singularity 3.x): `--f=v`, `--f v`,
   *    `-fv`, `-f=v`, `-f v`, boolean clusters `-ci`, booleans may take `=true|false`.
   *  - 'shell': Singularity 2.6's bash argument loop: only `--f v`, `-f v` and the exact
   *    spellings listed in its case statements (no clusters unless listed as a name).
   */
  readonly style: 'pflag' | 'shell';
  /** Flags accepted before the action (e.g. `-s`, `-d`, `--nocolor`). */
  readonly globalFlags: readonly FlagDef[];
  /** Action name → its flags. Only actions HTCondor or sites use need full tables. */
  readonly actions: Readonly<Record<string, readonly FlagDef[]>>;
}
