// `report` suite: last in `all`, it turns the JSON the other suites just wrote into docs/perf/*.svg and the README section.
import { relative } from 'node:path';
import type { Suite } from '../lib/suite.js';
import { generateReport } from './generate.js';

export const report: Suite = {
  name: 'report',
  about: 'regenerates docs/perf/*.svg and the README "Performance" section from bench/results/*.json (no timing)',
  async run() {
    const files = generateReport().map((f) => relative(process.cwd(), f));
    return { tables: [{ title: 'report: files written', header: ['file'], rows: files.map((f) => [f]) }], data: { files } };
  },
};
