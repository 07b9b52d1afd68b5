/** A mistake in the command line, the environment or the config file: reported without a stack, exit 2. */
export class UsageError extends Error {}
