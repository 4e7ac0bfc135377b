// The list of generated documentation files: scripts/gen-docs.mjs writes them, a unit test
// checks the committed copies are fresh. Add an entry here for each new generated file.

import { renderConfigurationDoc, renderExampleWrapperEnv } from '../facts/config/docs';
import { renderTroubleshooting } from './troubleshooting';


export interface GeneratedDoc {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly text: string;
}

const RENDERERS: readonly { readonly file: string; readonly render: (root: string) => string }[] = [
  { file: 'docs/configuration.md', render: renderConfigurationDoc },
  { file: 'condor-config/wrapper.env.example', render: renderExampleWrapperEnv },
  { file: 'docs/troubleshooting.md', render: renderTroubleshooting },
];

/** `root`: the repository root (some docs include hand-written parts). */
export function generatedDocs(root: string): GeneratedDoc[] {
  return RENDERERS.map(({ file, render }) => ({ file, text: render(root) }));
}
