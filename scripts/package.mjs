// npm run package (SPEC S12): the EL9 RPM and the Debian package of the committed bundle, in dist/.
//   node scripts/package.mjs [--only deb|rpm] [--out DIR] [--version V]
// Both carry the same staged tree (the layout is src/cli/checkInstall.ts's LAYOUT): the bundle as
// two fronts (/bin/bash and /bin/bash-static on the first line) behind the alternative
// /usr/libexec/condor-job-wrapper, the example config and the HTCondor snippets as config files
// (inactive until the site sets USER_JOB_WRAPPER), the docs and condor-job-wrapper(8), generated
// from the code's own --help, schema and error catalogue (src/docs/man.ts).
// Reproducible: every timestamp is SOURCE_DATE_EPOCH (default: the last commit's), every owner
// root, every mode fixed, the build host a fixed name; test/package checks two builds are equal.
import { buildSync } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const only = arg('--only');
if (only !== undefined && only !== 'deb' && only !== 'rpm') throw new Error('--only takes deb or rpm');
const out = resolve(arg('--out') ?? join(root, 'dist'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version = arg('--version') ?? pkg.version;
if (!/^[0-9][0-9A-Za-z.+~]*$/.test(version)) throw new Error(`version "${version}": not a valid Debian and RPM version`);
const epochText = process.env.SOURCE_DATE_EPOCH ?? gitEpoch();
if (!/^[0-9]+$/.test(epochText ?? '')) throw new Error('no SOURCE_DATE_EPOCH and no git history to take it from');
const epoch = Number(epochText);
const when = new Date(epoch * 1000);
const MAINTAINER = 'condor-job-wrapper maintainers <condor-job-wrapper@example.org>';

function gitEpoch() {
  const r = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
function need(tool) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is missing (Debian: apt-get install ${tool === 'rpmbuild' ? 'rpm' : 'dpkg-dev'})`);
}

// The generators are TypeScript: bundle them once to a temporary CommonJS file.
const tmp = mkdtempSync(join(tmpdir(), 'cjw-package-'));
try {
  const gen = join(tmp, 'gen.cjs');
  buildSync({
    stdin: { contents: "export { renderManPage } from './src/docs/man'; export { LAYOUT } from './src/cli/checkInstall';", resolveDir: root, loader: 'ts' },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: gen, logLevel: 'error',
  });
  const { renderManPage, LAYOUT } = createRequire(import.meta.url)(gen);
  const stage = join(tmp, 'stage');
  stageTree(stage, renderManPage, LAYOUT);
  mkdirSync(out, { recursive: true });
  if (only !== 'rpm') buildDeb(stage, join(tmp, 'deb'));
  if (only !== 'deb') buildRpm(stage, join(tmp, 'rpm'));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

function put(path, text, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/** worker-node.conf as installed: every setting inside `if defined USER_JOB_WRAPPER`, that line commented. */
function inactiveWorkerSnippet(text, wrapper) {
  const on = `USER_JOB_WRAPPER = ${wrapper}`;
  const lines = text.split('\n');
  const at = lines.indexOf(on);
  if (at < 0 || lines.indexOf(on, at + 1) >= 0) throw new Error(`condor-config/worker-node.conf: expected one line "${on}"`);
  lines.splice(at, 1,
    '# Installed by the condor-job-wrapper package, INACTIVE: nothing below applies until',
    '# USER_JOB_WRAPPER is set. To turn the wrapper on, uncomment the next line (or set',
    '# USER_JOB_WRAPPER in a config.d file read before this one), then `condor_reconfig` and',
    '# `condor_restart -daemon startd`. `condor-job-wrapper --check` says what is left to do.',
    `#${on}`,
    'if defined USER_JOB_WRAPPER');
  return `${lines.join('\n').trimEnd()}\nendif\n`;
}

/** startd-cron-healthcheck.conf as installed: the job list line commented (START alone is inert). */
function inactiveHealthSnippet(text) {
  const on = 'STARTD_CRON_JOBLIST = $(STARTD_CRON_JOBLIST) CJW';
  const lines = text.split('\n');
  const at = lines.indexOf(on);
  if (at < 0) throw new Error(`condor-config/startd-cron-healthcheck.conf: expected the line "${on}"`);
  lines.splice(at, 1,
    '# Installed by the condor-job-wrapper package, INACTIVE: the startd runs the check only once',
    '# CJW is in STARTD_CRON_JOBLIST. To turn it on, uncomment the next line, then `condor_reconfig`.',
    '# (START below changes nothing while CJW_Healthy is undefined.)',
    `#${on}`);
  return lines.join('\n');
}

function stageTree(stage, renderManPage, LAYOUT) {
  const bundle = readFileSync(join(root, 'wrapper/condor-job-wrapper'), 'utf8');
  const first = '#!/bin/bash -p\n';
  if (!bundle.startsWith(first)) throw new Error(`wrapper/condor-job-wrapper: expected the first line ${first.trim()}`);
  const s = (p) => join(stage, p);
  put(s(LAYOUT.fronts.bash), bundle, 0o755);
  put(s(LAYOUT.fronts.static), `#!${LAYOUT.staticShell} -p\n${bundle.slice(first.length)}`, 0o755);
  put(s('/etc/condor-job-wrapper/wrapper.env'), readFileSync(join(root, 'condor-config/wrapper.env.example')));
  mkdirSync(s('/etc/condor-job-wrapper/wrapper.env.d'), { recursive: true });
  put(s(LAYOUT.workerSnippet), inactiveWorkerSnippet(readFileSync(join(root, 'condor-config/worker-node.conf'), 'utf8'), LAYOUT.wrapper));
  put(s(LAYOUT.healthSnippet), inactiveHealthSnippet(readFileSync(join(root, 'condor-config/startd-cron-healthcheck.conf'), 'utf8')));
  mkdirSync(s('/var/cache/condor-job-wrapper'), { recursive: true });
  put(s('/usr/share/man/man8/condor-job-wrapper.8.gz'), gzipSync(renderManPage(version, when.toISOString().slice(0, 10)), { level: 9 }));
  const doc = s('/usr/share/doc/condor-job-wrapper');
  put(join(doc, 'README.md'), readFileSync(join(root, 'README.md')));
  put(join(doc, 'access-point.conf'), readFileSync(join(root, 'condor-config/access-point.conf')));
  put(join(doc, 'copyright'), readFileSync(join(root, 'packaging/deb/copyright')));
  for (const f of readdirSync(join(root, 'docs')).filter((n) => n.endsWith('.md')).sort()) put(join(doc, 'docs', f), readFileSync(join(root, 'docs', f)));
}

/** Every path under dir, sorted (bytewise), directories included. */
function walk(dir, base = dir) {
  const outList = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    outList.push(relative(base, p));
    if (statSync(p).isDirectory()) outList.push(...walk(p, base));
  }
  return outList;
}
/** Fixed modes (0755 dirs) and mtimes for the whole tree: the umask and the clock leave no trace. */
function normalize(dir) {
  for (const rel of walk(dir)) {
    const p = join(dir, rel);
    if (statSync(p).isDirectory()) chmodSync(p, 0o755);
  }
  chmodSync(dir, 0o755);
  for (const rel of [...walk(dir), '.']) utimesSync(join(dir, rel), epoch, epoch);
}

function buildDeb(stage, work) {
  need('dpkg-deb');
  cpSync(stage, work, { recursive: true });
  const doc = join(work, 'usr/share/doc/condor-job-wrapper');
  const rfc2822 = when.toUTCString().replace(/GMT$/, '+0000').replace(/^(\w+), (\d) /, '$1, 0$2 ');
  put(join(work, 'usr/share/lintian/overrides/condor-job-wrapper'), readFileSync(join(root, 'packaging/deb/lintian-overrides')));
  put(join(doc, 'changelog.gz'), gzipSync(`condor-job-wrapper (${version}) unstable; urgency=medium\n\n  * Release ${version}.\n\n -- ${MAINTAINER}  ${rfc2822}\n`, { level: 9 }));
  const files = walk(work).filter((rel) => statSync(join(work, rel)).isFile());
  const kib = files.reduce((n, rel) => n + Math.ceil(statSync(join(work, rel)).size / 1024), 0) + walk(work).length - files.length;
  const control = readFileSync(join(root, 'packaging/deb/control.in'), 'utf8').replace('@VERSION@', version).replace('@INSTALLED_SIZE@', String(kib));
  const meta = join(work, 'DEBIAN');
  put(join(meta, 'control'), control);
  put(join(meta, 'conffiles'), `${files.filter((f) => f.startsWith('etc/')).map((f) => `/${f}`).join('\n')}\n`);
  put(join(meta, 'md5sums'), files.map((f) => `${createHash('md5').update(readFileSync(join(work, f))).digest('hex')}  ${f}\n`).join(''));
  for (const script of ['postinst', 'prerm', 'postrm']) put(join(meta, script), readFileSync(join(root, 'packaging/deb', script)), 0o755);
  normalize(work);
  const file = join(out, `condor-job-wrapper_${version}_all.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '-z9', '--build', work, file], { env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch) }, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`${relative(process.cwd(), file)}: ${statSync(file).size} bytes, sha256 ${sha256(file)}`);
}

function buildRpm(stage, work) {
  need('rpmbuild');
  const tree = join(work, 'tree');
  cpSync(stage, tree, { recursive: true });
  normalize(tree);
  const rpms = join(work, 'rpms');
  const day = when.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) .*$/, (_, d, n, m, y) => `${d} ${m} ${n.padStart(2, '0')} ${y}`);
  const defs = {
    _topdir: join(work, 'top'), _rpmdir: rpms, _tmppath: join(work, 'tmp'), _dbpath: join(work, 'db'),
    _build_name_fmt: '%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm',
    _binary_payload: 'w9.xzdio', _binary_filedigest_algorithm: '8',
    cjw_stage: tree, cjw_version: version, cjw_changelog_date: day,
  };
  mkdirSync(defs._tmppath, { recursive: true });
  const args = ['-bb', '--nodeps', '--quiet', ...Object.entries(defs).flatMap(([k, v]) => ['--define', `${k} ${v}`]), join(root, 'packaging/rpm/condor-job-wrapper.spec')];
  const r = spawnSync('rpmbuild', args, { env: { ...process.env, SOURCE_DATE_EPOCH: String(epoch), LC_ALL: 'C', TZ: 'UTC' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rpmbuild failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const name = `condor-job-wrapper-${version}-1.el9.noarch.rpm`;
  const file = join(out, name);
  copyFileSync(join(rpms, name), file);
  console.log(`${relative(process.cwd(), file)}: ${statSync(file).size} bytes, sha256 ${sha256(file)}`);
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

