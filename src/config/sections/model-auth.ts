import { mapOf, settings, z } from '../fields.js';

const requirement = (description: string) =>
  z
    .strictObject({
      scopes: z
        .array(z.string().min(1).meta({ description: 'A scope.' }))
        .default([])
        .meta({ description: 'Scopes that must all be present (space-delimited `scope` claim or `scp` array).' }),
      claims: mapOf(
        'claim',
        z
          .array(z.unknown().meta({ description: 'An accepted value.' }))
          .min(1)
          .meta({ description: 'Accepted values (any of them).' }),
      )
        .default({})
        .meta({
          description:
            'Claims (by dotted path, e.g. `realm_access.roles`) that must hold one of the listed values; an array claim matches when any element does.',
          keyName: 'claim',
        }),
      issuers: z
        .array(z.string().meta({ description: 'An issuer.' }))
        .default([])
        .meta({ description: 'Only tokens from these issuers (default: any configured issuer).' }),
      audiences: z
        .array(z.string().meta({ description: 'An audience.' }))
        .default([])
        .meta({ description: "Accepted audiences for this model, replacing the issuer's." }),
    })
    .optional()
    .meta({ description });

/** Fields of `models.<model>` for authentication. */
export const modelAuthFields = {
  auth: settings(
    {
      all: requirement('Required for every verb of this model.'),
      predict: requirement('Required for predict (V1 :predict, V2 /infer), on top of `all`.'),
      explain: requirement('Required for V1 :explain, on top of `all`.'),
      metadata: requirement('Required for model metadata, on top of `all`.'),
    },
    'Per-model token requirements (like Istio `when: request.auth.claims[...]`).',
  ),
};
