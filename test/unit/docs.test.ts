// The generated documentation in the repository is what the code renders now.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedDocs } from '../../src/docs/generate';

const ROOT = join(__dirname, '../..');

describe('generated docs are fresh', () => {
  it.each(generatedDocs(ROOT).map((d) => [d.file, d.text] as const))('%s', (file, text) => {
    let committed: string | undefined;
    try {
      committed = readFileSync(join(__dirname, '../..', file), 'utf8');
    } catch {
      committed = undefined;
    }
    if (committed !== text) throw new Error(`${file} is stale or missing: run npm run docs`);
    expect(committed).toBe(text);
  });
});
