import { s, type Spec } from '../schema-dsl.js';

const requirement = (doc: string) =>
  s.object(
    {
      scopes: s.array(s.string({ doc: 'A scope.', minLength: 1 }), {
        doc: 'Scopes that must all be present (space-delimited `scope` claim or `scp` array).',
        default: [],
      }),
      claims: s.map(s.array(s.any({ doc: 'An accepted value.' }), { doc: 'Accepted values (any of them).', minItems: 1 }), {
        doc: 'Claims (by dotted path, e.g. `realm_access.roles`) that must hold one of the listed values; an array claim matches when any element does.',
        keyName: 'claim',
        default: {},
      }),
      issuers: s.array(s.string({ doc: 'An issuer.' }), { doc: 'Only tokens from these issuers (default: any configured issuer).', default: [] }),
      audiences: s.array(s.string({ doc: 'An audience.' }), { doc: "Accepted audiences for this model, replacing the issuer's.", default: [] }),
    },
    { doc, optional: true },
  );

/** Fields of `models.<model>` owned by issue 3: authentication. */
export const modelAuthFields = {
  auth: s.object(
    {
      all: requirement('Required for every verb of this model.'),
      predict: requirement('Required for predict (V1 :predict, V2 /infer), on top of `all`.'),
      explain: requirement('Required for V1 :explain, on top of `all`.'),
      metadata: requirement('Required for model metadata, on top of `all`.'),
    },
    { doc: 'Per-model token requirements (like Istio `when: request.auth.claims[...]`).' },
  ),
} satisfies Record<string, Spec>;
