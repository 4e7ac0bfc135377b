// The list of generated documentation files: scripts/gen-docs.mjs writes them, a unit test
// checks the committed copies are fresh. Add an entry here for each new generated file.

import { renderConfigurationDoc, renderExampleWrapperEnv } from '../facts/config/docs';

export interface GeneratedDoc {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly text: string;
}

const RENDERERS: readonly { readonly file: string; readonly render: () => string }[] = [
  { file: 'docs/configuration.md', render: renderConfigurationDoc },
  { file: 'condor-config/wrapper.env.example', render: renderExampleWrapperEnv },
];

export function generatedDocs(): GeneratedDoc[] {
  return RENDERERS.map(({ file, render }) => ({ file, text: render() }));
}
