// Request bodies are validated with ajv against the JSON Schemas in connector-spec/api/ (publications refer
// to connector-spec/view-definition.schema.json for their views): the same documents the OpenAPI
// description embeds, so the contract is written once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadRequestException } from '@nestjs/common';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

export const API_SCHEMAS = ['domain', 'endpoint', 'consumer', 'data-product', 'lifecycle-change', 'break-glass'] as const;
export type ApiSchema = (typeof API_SCHEMAS)[number];
/** Schemas of responses (no request body uses them): documented in OpenAPI, and checked by the e2e tests. */
export const RESPONSE_SCHEMAS = ['budget'] as const;
export type ResponseSchema = (typeof RESPONSE_SCHEMAS)[number];
/** Schemas the API schemas refer to by $id, and the OpenAPI component each becomes. */
export const SHARED_SCHEMAS = [{ file: 'view-definition.schema.json', component: 'view-definition' }] as const;

export interface Problem {
  path: string;
  message: string;
}

export class SchemaValidator {
  private readonly schemas = new Map<string, Record<string, unknown>>();
  private readonly responses = new Map<ResponseSchema, Record<string, unknown>>();
  private readonly shared = new Map<string, Record<string, unknown>>();
  private readonly full = new Map<ApiSchema, ValidateFunction>();
  private readonly partial = new Map<ApiSchema, ValidateFunction>();

  constructor(specDir: string) {
    // verbose: errors carry their schema, which describe() reads to word oneOf failures.
    const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true, useDefaults: true });
    addFormats(ajv);
    const partialAjv = new Ajv2020({ allErrors: true, strict: true, verbose: true }).addFormat('email', true).addFormat('uri', true);
    for (const { file, component } of SHARED_SCHEMAS) {
      const schema = JSON.parse(fs.readFileSync(path.join(specDir, file), 'utf8')) as Record<string, unknown>;
      this.shared.set(component, schema);
      ajv.addSchema(schema);
      partialAjv.addSchema(schema);
    }
    for (const name of API_SCHEMAS) {
      const schema = JSON.parse(fs.readFileSync(path.join(specDir, 'api', `${name}.schema.json`), 'utf8')) as Record<string, unknown>;
      this.schemas.set(name, schema);
      this.full.set(name, ajv.compile(schema));
      // PATCH bodies: the same properties, none required, and no defaults filled in.
      const { required: _required, $id, ...rest } = schema;
      this.partial.set(
        name,
        partialAjv.compile({ ...rest, $id: String($id).replace(/\.schema\.json$/, '.partial.schema.json'), properties: withoutDefaults(rest.properties) }),
      );
    }
    for (const name of RESPONSE_SCHEMAS) {
      const schema = JSON.parse(fs.readFileSync(path.join(specDir, 'api', `${name}.schema.json`), 'utf8')) as Record<string, unknown>;
      ajv.compile(schema); // a broken schema stops the start, not a reader of the OpenAPI document
      this.responses.set(name, schema);
    }
  }

  responseSchema(name: ResponseSchema): Record<string, unknown> {
    return this.responses.get(name)!;
  }

  schema(name: ApiSchema): Record<string, unknown> {
    return this.schemas.get(name)!;
  }

  /** The schemas API schemas refer to, by OpenAPI component name. */
  sharedSchemas(): Map<string, Record<string, unknown>> {
    return this.shared;
  }

  /** Returns the body (with defaults filled in) or throws 400 listing every problem, each naming its field. */
  validate<T>(name: ApiSchema, body: unknown, mode: 'create' | 'patch' = 'create'): T {
    const validate = (mode === 'create' ? this.full : this.partial).get(name)!;
    const copy = structuredClone(body);
    if (!validate(copy)) {
      const problems = describe(validate.errors ?? []);
      throw new BadRequestException({ message: `invalid ${name}: ${problems.map((p) => `${p.path || '(body)'} ${p.message}`).join('; ')}`, problems });
    }
    return copy as T;
  }
}

function withoutDefaults(properties: unknown): unknown {
  return Object.fromEntries(
    Object.entries((properties ?? {}) as Record<string, Record<string, unknown>>).map(([key, { default: _default, ...rest }]) => [key, rest]),
  );
}

/**
 * The names a oneOf chooses between when each of its branches requires one property (a FHIR choice element
 * such as a constant's value[x]); undefined for any other keyword or oneOf.
 */
function choiceNames(e: ErrorObject): string[] | undefined {
  if (e.keyword !== 'oneOf' || !Array.isArray(e.schema)) return undefined;
  const names = (e.schema as { required?: unknown }[]).map((branch) =>
    Array.isArray(branch.required) && branch.required.length === 1 ? String(branch.required[0]) : undefined,
  );
  return names.length > 0 && names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

/** `has valueString and valueInteger; exactly one value[x] is allowed` or `needs exactly one value[x] (valueBase64Binary, ...)`. */
function choiceMessage(e: ErrorObject, names: string[]): string {
  const prefix = /^[a-z]+/.exec(names[0]!)?.[0] ?? '';
  const fhirChoice = prefix !== '' && names.every((n) => n.startsWith(prefix) && /^[A-Z]/.test(n.slice(prefix.length)));
  const what = fhirChoice ? `one ${prefix}[x]` : `one of ${names.join(', ')}`;
  const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
  return Array.isArray(passing)
    ? `has ${passing.map((i) => names[i]).join(' and ')}; exactly ${what} is allowed`
    : `needs exactly ${what}${fhirChoice ? ` (${names.join(', ')})` : ''}`;
}

export function describe(errors: ErrorObject[]): Problem[] {
  // A choice is reported once, by its oneOf, rather than as one "is required" per branch.
  const choices = errors.filter((e) => choiceNames(e) !== undefined);
  const insideChoice = (e: ErrorObject): boolean => choices.some((c) => c.instancePath === e.instancePath && e.schemaPath.startsWith(`${c.schemaPath}/`));
  return errors
    .filter((e) => e.keyword !== 'if' && (e.keyword !== 'oneOf' || choices.includes(e)) && !insideChoice(e))
    .map((e) => {
      const field =
        e.keyword === 'required'
          ? `${e.instancePath}/${String(e.params.missingProperty)}`
          : e.keyword === 'additionalProperties'
            ? `${e.instancePath}/${String(e.params.additionalProperty)}`
            : e.instancePath;
      // view-definition.schema.json forbids forEachOrNull and repeat next to forEach (and so on) by setting
      // them to `false` under dependentSchemas.
      const dependent = e.keyword === 'false schema' ? /\/dependentSchemas\/([^/]+)\/properties\/[^/]+\/false schema$/.exec(e.schemaPath) : null;
      const choice = choiceNames(e);
      const message =
        e.keyword === 'required'
          ? 'is required'
          : e.keyword === 'additionalProperties'
            ? 'is not a known field'
            : e.keyword === 'enum'
              ? `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
              : choice
                ? choiceMessage(e, choice)
                : dependent
                  ? `cannot be combined with ${dependent[1]!}`
                  : e.keyword === 'false schema'
                    ? 'is not allowed'
                    : (e.message ?? 'is invalid');
      return { path: field, message };
    });
}
