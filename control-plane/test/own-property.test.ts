// Names users choose (views, columns) that Object.prototype also has must be ordinary names: a view or
// column named `constructor` once found Object.prototype.constructor as its "privacy tags" and published
// untagged.
import { expect } from 'chai';
import { servingTables } from '../src/catalogs/generation';
import { Binding, deriveBindings, diffBindings, replaceBindings } from '../src/catalogs/search-bindings';
import { ownValue } from '../src/own-property';
import { Publication, staticProblems } from '../src/publishing/publication';
import { validateViewDefinition } from '../src/publishing/view-validation';

const PROTOTYPE_NAMES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__proto__'];

function view(name: string, columns: string[]): Record<string, unknown> {
  return { resourceType: 'ViewDefinition', name, resource: 'Patient', select: [{ column: columns.map((c) => ({ name: c, path: 'id', type: 'string' })) }] };
}

function publication(views: Record<string, unknown>[], privacy: unknown): Publication {
  return { name: 'p', domain: 'RX1', version: '1.0.0', lifecycle: 'published', views, privacy: privacy as Publication['privacy'] };
}

/** As the API receives it: JSON.parse makes `__proto__` an own key, where an object literal would set the prototype. */
const json = (text: string): unknown => JSON.parse(text);

describe('user-chosen names that Object.prototype also has', () => {
  it('a view named `constructor` without privacy tags is refused, naming its columns', () => {
    // `name` and `length` are properties of the Object function itself: the old lookup found them "tagged".
    const problems = staticProblems(publication([view('constructor', ['name', 'length'])], {}));
    expect(problems.map((p) => p.message).join()).to.include("view 'constructor': column(s) 'name', 'length' have no privacy tag");
  });

  for (const column of PROTOTYPE_NAMES.filter((n) => /^[A-Za-z]/.test(n))) {
    it(`a column named \`${column}\` without a privacy tag is refused`, () => {
      const problems = staticProblems(publication([view('patients', ['id', column])], { patients: { id: 'none' } }));
      expect(problems.map((p) => p.message).join()).to.include(`'${column}' have no privacy tag`);
    });
  }

  it('tagged, they publish', () => {
    expect(
      staticProblems(
        publication([view('constructor', ['name', 'constructor', 'toString'])], {
          constructor: { name: 'direct-identifier', constructor: 'none', toString: 'none' },
        }),
      ),
    ).to.deep.equal([]);
  });

  it('`__proto__` as a view or column key of the tags is an ordinary (unknown) name', () => {
    const problems = staticProblems(
      publication([view('patients', ['id'])], json('{"patients": {"id": "none", "__proto__": "none"}, "__proto__": {"x": "none"}}')),
    );
    const text = problems.map((p) => p.message).join('\n');
    expect(text).to.include("view 'patients' has no column(s) '__proto__' to tag");
    expect(text).to.include("privacy tags for '__proto__', which is not a view of this product");
  });

  it('a resource type named like a prototype member is not a resource type', () => {
    for (const resource of PROTOTYPE_NAMES) {
      expect(
        validateViewDefinition({ ...view('v', ['id']), resource })
          .map((p) => p.message)
          .join(),
        resource,
      ).to.include('is not a FHIR R4 resource type');
    }
  });

  it('serving a view named `constructor` without bindings gives it none, not the Object function', () => {
    const tables = servingTables([
      {
        product: 'p',
        description: '',
        version: { major: 1, minor: 0, patch: 0, lifecycle: 'published', views: [view('constructor', ['id'])] },
        bindings: {},
        sources: ['RX1'],
      },
    ]);
    expect(tables.map((t) => [t.table, t.bindings])).to.deep.equal([
      ['constructor', {}],
      ['constructor_v1', {}],
    ]);
  });

  it('binding derivation and comparison treat such column names as ordinary', () => {
    const params = [{ code: '_id', base: ['Resource'], type: 'token', expression: 'Resource.id' }];
    const derived = deriveBindings(view('v', ['constructor', '__proto__']) as never, params).bindings;
    expect(Object.keys(derived)).to.deep.equal(['constructor', '__proto__']);
    expect(Object.getPrototypeOf(derived)).to.equal(Object.prototype);
    // Nothing committed for `constructor`: a difference, not Object.prototype.constructor compared as a binding.
    expect(diffBindings({}, { constructor: ownValue(derived, 'constructor')! })).to.deep.equal([
      'constructor: committed unbound, derived {"param":"_id","type":"token"}',
    ]);
    expect(diffBindings({}, {})).to.deep.equal([]);
    const text = replaceBindings('{\n  "bindings": {}\n}\n', json('{"__proto__": {"param": "_id", "type": "token"}}') as Record<string, Binding>);
    expect(JSON.parse(text).bindings).to.have.own.property('__proto__');
  });
});
