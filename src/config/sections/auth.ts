import { s } from '../schema-dsl.js';

export const authSection = s.object(
  {
    enabled: s.boolean({
      doc: 'Require a valid bearer token on every non-public route. Disable only for benchmarks or when another layer authenticates.',
      default: true,
    }),
    realm: s.string({ doc: 'realm of the WWW-Authenticate challenge.', default: 'inference-gateway' }),
  },
  { doc: 'Bearer-token authentication.' },
);
