/** Where the CLI keeps local state: `.local/` at the repository root, whatever the working directory. */
import { fileURLToPath } from 'node:url';

/** `<repository>/.local/` */
export const LOCAL_STATE_DIR = fileURLToPath(new URL('../../.local/', import.meta.url));
