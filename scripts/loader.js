// condor-job-wrapper loader (scripts/loader.js, inlined by scripts/build.mjs after the bash front).
// The wrapper's code follows in a block comment, which V8 only scans. The loader compiles it with
// vm.Script and, when `--check` (as root) has left one, V8's code cache for this exact build and
// Node version: that skips most parsing and compiling, the largest part of our start-up.
// The cache is trusted only when the file and its directory are root-owned and writable by root
// alone; anything else (absent, forged, stale, other Node) means a normal compile.
'use strict';
(function cjwLoad() {
  const fs = require('node:fs');
  const vm = require('node:vm');
  const BUILD = '@@CJW_BUILD_ID@@';
  const DIR = '/var/cache/condor-job-wrapper';
  const file = `${DIR}/code-${BUILD}-${process.version}-${process.arch}.bin`;
  const open = `\n/${'*'}CJW-MAIN\n`;
  const close = `\n${'*'}/`;
  // The build wrote where the code lies, counted from the end of the file (an install that changes
  // the front, such as its shell or its Node, moves nothing after it): read just that range (and
  // the markers around it, checked), one copy into one string. A copy edited after the loader
  // takes the slow path: the whole file, searched.
  const TAIL = Number('@@CJW_MAIN_START@@');
  const LENGTH = Number('@@CJW_MAIN_END__@@');
  // The source's read buffer is reused for the code cache once the source is a string: each
  // fresh page costs a page fault, and a job start touches little else this big.
  let spare;
  const readRange = () => {
    const fd = fs.openSync(__filename, 'r');
    try {
      const START = fs.fstatSync(fd).size - TAIL;
      const want = LENGTH + open.length + close.length;
      if (START < open.length) return undefined;
      // Room for the cache too (it is about the code's size; untouched pages cost nothing).
      spare = Buffer.allocUnsafeSlow(Math.max(want, 2 * want));
      const buf = spare.subarray(0, want);
      let got = 0;
      while (got < want) {
        const n = fs.readSync(fd, buf, got, want - got, START - open.length + got);
        if (n === 0) return undefined;
        got += n;
      }
      if (buf.toString('latin1', 0, open.length) !== open || buf.toString('latin1', want - close.length) !== close) return undefined;
      return buf.toString('latin1', open.length, want - close.length);
    } finally {
      fs.closeSync(fd);
    }
  };
  const readSearched = () => {
    const text = fs.readFileSync(__filename, 'latin1');
    const start = text.indexOf(open);
    const end = text.lastIndexOf(close);
    if (start < 0 || end <= start) throw new Error(`${__filename}: the wrapper's code is missing (a damaged copy?)`);
    return text.slice(start + open.length, end);
  };
  // The build stored the code already wrapped as a CommonJS function.
  let read = 'by its byte range';
  let source = readRange();
  if (source === undefined) {
    source = readSearched();
    read = 'whole file searched (the file changed after its loader)';
  }
  const rootOnly = (st) => st.uid === 0 && (st.mode & 0o022) === 0;
  let cachedData;
  let state = 'absent';
  try {
    if (rootOnly(fs.statSync(DIR))) {
      const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const st = fs.fstatSync(fd);
        if (st.isFile() && rootOnly(st) && st.size < 16 * 1024 * 1024) {
          cachedData = spare !== undefined && spare.length >= st.size ? spare.subarray(0, st.size) : Buffer.allocUnsafeSlow(st.size);
          let got = 0;
          for (let n = 1; n > 0 && got < st.size; got += n) n = fs.readSync(fd, cachedData, got, st.size - got, got);
          if (got !== st.size) cachedData = undefined;
        }
        else state = 'ignored (not a root-only file)';
      } finally {
        fs.closeSync(fd);
      }
    } else state = 'ignored (directory not root-only)';
  } catch {
    // absent or unreadable: compile normally
  }
  const script = new vm.Script(source, { filename: __filename, ...(cachedData === undefined ? {} : { cachedData }) });
  if (cachedData !== undefined) state = script.cachedDataRejected === true ? 'rejected by V8 (stale)' : 'used';
  // For --version (which reports it) and --check (which writes it); not visible to the job.
  globalThis.__cjwCodeCache = { file, state, build: BUILD, script, read };
  script.runInThisContext()(module.exports, require, module, __filename, __dirname);
})();
