// Loaded with `--import` ahead of the CLI: any attempt to load FUSE fails loudly, which proves that
// the command under test runs on machines without libfuse or /dev/fuse.
import { register } from 'node:module';

const hook = `
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'fuse-native' || /(^|\\/)fuse-adapter\\.(js|ts)$/.test(specifier)) {
    throw new Error('FUSE was loaded: ' + specifier + ' from ' + context.parentURL);
  }
  return nextResolve(specifier, context);
}`;

register(`data:text/javascript,${encodeURIComponent(hook)}`);
