// npm run gen:api: writes the admin UI's API types (see api-schema.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { API_SCHEMA_FILE, apiSchemaSource } from './api-schema.ts';

mkdirSync(path.dirname(API_SCHEMA_FILE), { recursive: true });
writeFileSync(API_SCHEMA_FILE, await apiSchemaSource());
console.log(`gen:api: wrote ${path.relative(process.cwd(), API_SCHEMA_FILE)}`);
