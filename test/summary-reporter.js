// Writes the totals of a jest run to $CJW_TEST_SUMMARY (if set) so that .ci/run can add the
// results of several runs (Node 20, Node 22) into its final "N passed, N failed" line.
const fs = require('node:fs');
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.CJW_TEST_SUMMARY;
    if (!file) return;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    fs.appendFileSync(file, `${results.numPassedTests} ${failed} ${results.numPendingTests}\n`);
  }
}
module.exports = SummaryReporter;
