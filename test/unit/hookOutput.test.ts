// What a setup hook may write to $CJW_HOOK_OUTPUT (SPEC S6): binds and inside environment,
// strictly parsed; anything else (including hostile output) is a config error (78) naming the line.

import { WrapperError } from '../../src/errors';
import { parseHookOutput } from '../../src/facts/hookOutput';

function error(text: string): WrapperError {
  try {
    parseHookOutput('30-binds', text);
  } catch (e) {
    if (e instanceof WrapperError) return e;
    throw e;
  }
  throw new Error('expected a WrapperError');
}

describe('parseHookOutput', () => {
  it('reads binds (repeated and comma lists) and environment, comments and blank lines allowed', () => {
    const c = parseHookOutput('30-binds', [
      '# added by the site',
      'CJW_ADD_BIND=/cvmfs/cms.cern.ch',
      '',
      'CJW_ADD_BIND=/etc/grid-security:/etc/grid-security:ro, /data:/mnt/data:rw',
      'export X509_CERT_DIR=/etc/grid-security/certificates',
      "QUOTED='a b $HOME'",
      'DOUBLE="x\\ny"',
      'EMPTY=',
      'X509_CERT_DIR=/override',
    ].join('\n'));
    expect(c.hook).toBe('30-binds');
    expect(c.binds).toEqual(['/cvmfs/cms.cern.ch', '/etc/grid-security:/etc/grid-security:ro', '/data:/mnt/data:rw']);
    expect([...c.env]).toEqual([['X509_CERT_DIR', '/override'], ['QUOTED', 'a b $HOME'], ['DOUBLE', 'x\ny'], ['EMPTY', '']]);
  });

  it('accepts CRLF line ends and an empty file', () => {
    expect(parseHookOutput('h', 'A=1\r\nB=2\r\n').env).toEqual(new Map([['A', '1'], ['B', '2']]));
    expect(parseHookOutput('h', '')).toEqual({ hook: 'h', binds: [], env: new Map() });
  });

  it.each([
    ['not KEY=VALUE', 'just some text', 1, 'expected KEY=VALUE with KEY a variable name'],
    ['a key that is not a variable name', 'A-B=1', 1, 'expected KEY=VALUE with KEY a variable name'],
    ['a misspelt reserved key', 'OK=1\nCJW_ADD_BINDS=/x', 2, 'CJW_ADD_BINDS is not something a hook can set'],
    ['a policy key', 'CJW_MODE=NEVER', 1, 'CJW_MODE is not something a hook can set'],
    ['a relative bind source', 'CJW_ADD_BIND=data:/data', 1, 'needs an absolute source path'],
    ['a relative destination', 'CJW_ADD_BIND=/data:data', 1, 'needs an absolute destination path'],
    ['unknown bind options', 'CJW_ADD_BIND=/data:/data:nosuid', 1, 'has options "nosuid", not ro or rw'],
    ['a path with a colon', 'CJW_ADD_BIND=/a:/b:ro:x', 1, 'is not src[:dst[:opts]]'],
    ['a NUL byte', 'A=x\0y', 1, 'contains a NUL byte'],
    ['shell code', '$(touch /tmp/pwned)', 1, 'expected KEY=VALUE'],
  ])('%s is a config error naming the hook and the line', (_n, text, line, why) => {
    const e = error(text);
    expect(e.code).toBe(78);
    expect(e.id).toBe('hook.bad-output');
    expect(e.line).toContain(`setup hook 30-binds: CJW_HOOK_OUTPUT line ${line}: `);
    expect(e.why).toContain(why);
  });

  it('keeps a hostile value as data (the env policy decides on it later)', () => {
    const c = parseHookOutput('h', "LD_PRELOAD=/tmp/evil.so\nPS1='$(id)'");
    expect(c.env.get('LD_PRELOAD')).toBe('/tmp/evil.so');
    expect(c.env.get('PS1')).toBe('$(id)');
  });

  it('reads a 1 MB output without trouble', () => {
    const text = Array.from({ length: 20000 }, (_, i) => `V${i}=${'x'.repeat(40)}`).join('\n');
    expect(parseHookOutput('h', text).env.size).toBe(20000);
  });
});
