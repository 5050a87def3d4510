// Removes previous build output so files deleted from src/ do not linger in dist/.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const target = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
rmSync(target, { recursive: true, force: true });
