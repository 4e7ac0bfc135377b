// Shared by the rule table tests: the WrapperError a call raises (anything else is a test failure).

import { WrapperError } from '../../../src/errors';

export function thrown(fn: () => unknown): WrapperError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WrapperError) return e;
    throw e;
  }
  throw new Error('expected a WrapperError');
}
