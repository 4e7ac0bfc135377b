// Resolving the program to exec without a shell, the way execvp(3) would, but with the PATH the
// program will actually get (not the wrapper's own).

import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { WrapperError } from '../errors';

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `program`: with a "/" relative to cwd, else searched in `pathVar`. */
export function resolveProgram(program: string, pathVar: string | undefined, cwd: string): string {
  if (program.includes('/')) {
    const file = isAbsolute(program) ? program : resolve(cwd, program);
    // A clear job error instead of the shell-style 126/127 the exec would otherwise end in.
    if (!isExecutableFile(file)) throw new WrapperError('payload.missing', `program ${program}`, existsSync(file) ? 'is not an executable file' : 'does not exist');
    return file;
  }
  for (const dir of (pathVar ?? DEFAULT_PATH).split(':')) {
    const candidate = join(dir === '' ? cwd : resolve(cwd, dir), program);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new WrapperError('payload.missing', `program ${program}`, 'not found in the job\'s PATH or not executable');
}
