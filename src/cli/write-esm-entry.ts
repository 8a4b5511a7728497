import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Run after tsc (npm run build, prepare): writes dist/index.mjs, the ES module face of the library entry,
// naming every export of the CommonJS build, so that `import { executeQuery } from 'customer-api'` works.
const dist = join(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const names = Object.keys(require(join(dist, 'index.js')) as object).sort();
writeFileSync(
  join(dist, 'index.mjs'),
  `// Written by dist/cli/write-esm-entry.js: the CommonJS build's exports, by name.\nimport library from './index.js';\n\nexport const { ${names.join(', ')} } = library;\nexport default library;\n`,
);
