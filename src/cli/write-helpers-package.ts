import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

// Run after the build (npm run pack:helpers): writes dist/helpers-package/, the query helpers as a
// package of their own for other services: the same compiled code the API runs, reached from the
// library entry (dist/index.js), with nothing of Express, Redis, argon2, Swagger or the embedded
// database (its path is not reachable from the entry).
// - dist/index.js: that code in one file (esbuild), with zod inside it: the helpers use a few of its
//   validators, and the zod package installs 8 MB. The packages the code requires otherwise stay
//   dependencies, at the versions this repository's package.json names: pg and its cursor and COPY
//   streams (shared with the service's own pg code), pino (its transports load files by path), dotenv,
//   @opentelemetry/api (one copy with the application's SDK: its spans go where the application's go).
// - the declarations tsc wrote for those files; the environment schema's are written out as plain
//   object types (its declaration file names zod's types, and zod is not installed with the helpers);
//   the @types package of a dependency those declarations import (pg) is a dependency too.
const dist = join(__dirname, '..');
const root = join(dist, '..');
const out = join(dist, 'helpers-package');
const INLINED = new Set(['zod']);

interface Manifest {
  name: string;
  version: string;
  license?: string;
  engines?: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  types?: string;
  typings?: string;
}

/** @types/<name> for a dependency the shipped declarations import and that has no types of its own. */
function typesPackage(name: string): string | undefined {
  const own = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as Partial<Manifest>;
  return own.types === undefined && own.typings === undefined ? `@types/${name}` : undefined;
}

/** The files reached from `entry` by static require(), and the packages they require. */
function requireClosure(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const builtins = new Set(builtinModules);
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, target] of readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)) {
      if (target!.startsWith('.')) {
        const path = resolve(dirname(file), target!);
        visit(existsSync(`${path}.js`) ? `${path}.js` : join(path, 'index.js'));
      } else if (!target!.startsWith('node:') && !builtins.has(target!)) {
        packages.add(target!.startsWith('@') ? target!.split('/').slice(0, 2).join('/') : target!.split('/')[0]!);
      }
    }
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

/** The exported types of src/config/env-schema.ts, each as the plain object type zod infers. */
function schemaDeclarations(names: readonly string[]): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a devDependency, needed only here
  const ts = require('typescript') as typeof import('typescript');
  const file = join(root, 'src', 'config', 'env-schema.ts');
  const program = ts.createProgram([file], { strict: true, skipLibCheck: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 });
  const checker = program.getTypeChecker();
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
  const flags = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias | ts.TypeFormatFlags.MultilineObjectLiterals;
  return names
    .map((name) => {
      const symbol = exported.find((s) => s.name === name);
      if (symbol === undefined) throw new Error(`env-schema.ts exports no ${name}`);
      const type = checker.typeToString(checker.getDeclaredTypeOfSymbol(symbol), undefined, flags);
      return `export type ${name} = ${type.replace(/ {4}(?=\S)/g, '\n  ').replace(/;\s*}$/, ';\n}')};\n`;
    })
    .join('');
}

async function main(): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  const { files, packages } = requireClosure(join(dist, 'index.js'));
  const dependencies: Record<string, string> = {};
  for (const name of packages.filter((p) => !INLINED.has(p))) {
    const range = manifest.dependencies[name];
    if (range === undefined) throw new Error(`${name} is required by the helpers but is not in package.json's dependencies`);
    dependencies[name] = range;
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'dist'), { recursive: true });
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(dist, 'index.js')],
    outfile: join(out, 'dist', 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: Object.keys(dependencies),
    logLevel: 'warning',
  });
  copyFileSync(join(dist, 'index.mjs'), join(out, 'dist', 'index.mjs'));
  const schemaTypes = join(dist, 'config', 'env-schema.d.ts');
  const declared = new Set<string>();
  for (const types of files.map((f) => f.replace(/\.js$/, '.d.ts')).filter((f) => existsSync(f))) {
    const to = join(out, 'dist', relative(dist, types));
    mkdirSync(dirname(to), { recursive: true });
    if (types === schemaTypes) {
      const names = [...readFileSync(types, 'utf8').matchAll(/^export type (\w+) =/gm)].map((m) => m[1]!);
      writeFileSync(to, `// Written by write-helpers-package: the types of the checked environment.\n${schemaDeclarations(names)}`);
    } else {
      copyFileSync(types, to);
      for (const [, name] of readFileSync(types, 'utf8').matchAll(/from '([^.'][^']*)'/g)) declared.add(name!);
    }
  }
  for (const name of Object.keys(dependencies).filter((n) => declared.has(n))) {
    const types = typesPackage(name);
    if (types === undefined) continue;
    const range = manifest.devDependencies[types];
    if (range === undefined) throw new Error(`the helpers' declarations import ${name}, whose types (${types}) are not in package.json's devDependencies`);
    dependencies[types] = range;
  }
  const helpers = {
    name: manifest.name,
    version: manifest.version,
    description: 'The pooled PostgreSQL query helpers of customer-api (executeQuery, withTransaction, getPool, …), without the API',
    license: manifest.license,
    main: 'dist/index.js',
    types: 'dist/index.d.ts',
    exports: {
      '.': { types: './dist/index.d.ts', import: './dist/index.mjs', require: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist'],
    engines: manifest.engines,
    dependencies: Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(helpers, null, 2)}\n`);
  console.log(`${relative(root, out)}: ${files.length} modules in dist/index.js; dependencies ${Object.keys(dependencies).join(', ')}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
