// The mesh's `fhir` catalog: its name and the committed mapping files. Catalog files are rendered by the
// control plane alone (control-plane/src/catalogs/generation.ts), live from its registry and for compose.yaml.
import * as path from 'node:path';
import { ROOT } from './topology';

export const FHIR_CATALOG = 'fhir';
export const MAPPINGS_DIR = path.join(ROOT, 'sql-mappings');
