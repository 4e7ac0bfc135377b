// Renders docs/configuration.md and condor-config/wrapper.env.example from the schema, so the
// documentation of every key is the code's own table and cannot drift (a test compares them).

import { CONFIG_DIR, CONFIG_FILE, GLIDEIN_MAPPING, describeForm } from './load';
import { SCHEMA, type KeySpec } from './schema';

const SPECS: readonly KeySpec[] = SCHEMA;

/** A wrapper.env line that dotenv reads back as `value` (single quotes keep everything literal). */
export function envLine(key: string, value: string): string {
  return /[\s#"'`]/.test(value) && !value.includes("'") ? `${key}='${value}'` : `${key}=${value}`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (cur !== '' && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else {
      cur = cur === '' ? word : `${cur} ${word}`;
    }
  }
  if (cur !== '') lines.push(cur);
  return lines;
}

function defaultText(spec: KeySpec): string {
  return spec.default === '' ? 'empty' : `\`${spec.default}\``;
}

const INTRO = `# Configuration

<!-- Generated from src/facts/config/schema.ts by \`npm run docs\`; do not edit by hand. -->

condor-job-wrapper reads its site policy from files only, in this order:

1. \`${CONFIG_FILE}\`
2. \`${CONFIG_DIR}/*.env\`, in byte order of the names
   (\`10-a.env\` < \`B.env\` < \`a.env\`: digits, then upper case, then lower case; not the
   locale's order). Names starting with "." and names not ending in \`.env\` are ignored, so
   \`.rpmsave\`/\`~\` leftovers do not count.
3. the file given with \`condor-job-wrapper --config FILE\` (for admins and tests; the starter
   gives the wrapper no options, so a site that needs another file uses a two-line shim).

Missing standard files are fine: every key has a default. A file that exists but cannot be read,
or a \`--config\` file that does not exist, stops the job with exit 78 (a node error: the job is
requeued elsewhere). Files must be readable by every job user (mode 0644, owned by root).

**The job's environment is never read.** The wrapper runs as the job, with the job's
environment; a variable such as \`CJW_MODE\` in it has no effect. Only the files above (and a
glidein_config they name) set policy.

## Syntax

Each file is read with \`dotenv.parse\`: \`KEY=value\` lines, \`#\` comments, optional single or
double quotes (double quotes allow \`\\n\` and multi-line values). A later file replaces a key
entirely: lists are replaced, not appended, so a drop-in that sets \`CJW_BINDS\` must repeat the
binds it keeps.

- **Unknown keys are errors** (exit 78, with a "did you mean" hint). Upgrade the wrapper before
  its config: an older wrapper refuses a key it does not know rather than ignore a policy.
- A value that does not have the key's form is an error (exit 78) naming the key, the value and
  the allowed form. No value may contain a NUL byte.
- **Lists**: entries separated by commas or newlines, each trimmed, empty entries dropped.
  \`\\,\` is a literal comma and \`\\\\\` a literal backslash; any other backslash is kept as is.
- **Binds** (\`CJW_BINDS\`): entries \`src[:dst[:opts]]\`; \`dst\` defaults to \`src\`, \`opts\` is
  \`ro\` or \`rw\`; both paths absolute. \`\\:\` is a literal colon inside a path. A trailing \`!\`
  (always the entry's last character) marks the bind required: a missing source then stops the
  job (exit 66) instead of being skipped with a warning.
- The policy modes (\`CJW_MODE\`, \`CJW_VO_MODE\`) accept any case; other values are exact.

Example drop-in, \`${CONFIG_DIR}/50-site.env\`:

\`\`\`sh
CJW_MODE=REQUIRED
CJW_BINDS=/cvmfs!,/etc/grid-security:/etc/grid-security:ro
CJW_ENV_SET="OSG_SITE_NAME=MySite
XRD_RUNFORKHANDLER=1"
\`\`\`

## glideinWMS

Set \`CJW_GLIDEIN_CONFIG\` to a glideinWMS \`glidein_config\` (one \`KEY VALUE\` per line, the value
being the rest of the line; the last line for a key wins) and the wrapper maps its container knobs
onto its own keys. A key set in our files always wins over the glidein_config; a knob absent (or
empty) in the glidein_config leaves our default. Mapped values are checked like ours, and an error
names the glidein_config and the knob.

| glidein_config knob | key | mapping |
|---|---|---|
${GLIDEIN_MAPPING.map((m) => `| \`${m.knob}\` | \`${m.key}\` | ${m.rule} |`).join('\n')}

Not mapped: \`GLIDEIN_SINGULARITY_BINDPATH_DEFAULT\`, \`GLIDEIN_SINGULARITY_GLOBAL_OPTS\` and the
legacy \`SINGULARITY_IMAGE_DEFAULT*\` knobs. One semantic difference: glideinWMS lets
\`GLIDEIN_Singularity_Use=DISABLE_GWMS\` override a plain \`REQUIRED\` entry (only \`REQUIRED_GWMS\`
refuses it); here REQUIRED means no job ever runs outside a container, so REQUIRED × DISABLE is a
negotiation failure (exit 69, docs/policy.md).

## Keys
`;

function keySection(spec: KeySpec): string {
  return [
    `### ${spec.key}`,
    '',
    `- Form: ${describeForm(spec)}.`,
    `- Default: ${defaultText(spec)}.`,
    '',
    spec.description,
    '',
    '```sh',
    envLine(spec.key, spec.example),
    '```',
    '',
  ].join('\n');
}

/** The whole of docs/configuration.md. */
export function renderConfigurationDoc(): string {
  return `${INTRO}\n${SPECS.map(keySection).join('\n')}`;
}

/** condor-config/wrapper.env.example: every key, commented out at its default. */
export function renderExampleWrapperEnv(): string {
  const head = [
    '# condor-job-wrapper site configuration: copy to ' + CONFIG_FILE,
    `# (or put overrides in ${CONFIG_DIR}/NN-name.env).`,
    '# Every key is shown at its default; uncomment and change what the site needs.',
    '# Generated from src/facts/config/schema.ts by `npm run docs`; see docs/configuration.md.',
    '# Lists: entries separated by commas or newlines; \\, is a literal comma.',
    '',
  ];
  const body = SPECS.flatMap((spec) => [
    ...wrap(spec.description, 76).map((l) => `# ${l}`),
    ...wrap(`Form: ${describeForm(spec)}.`, 76).map((l) => `# ${l}`),
    `# ${envLine(spec.key, spec.default)}`,
    '',
  ]);
  return [...head, ...body].join('\n');
}
