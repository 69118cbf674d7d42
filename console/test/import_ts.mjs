// Imports one of the console's TypeScript modules (console/src/<name>) for node --test: bundled in
// memory by esbuild, the compiler the build uses.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function importConsoleModule(name) {
  const out = await build({
    entryPoints: [join(here, '../src', name)],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}
