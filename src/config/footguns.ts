// Combinations of valid fields that weaken the gateway. Each field alone passes the schema; these
// checks read the whole config. Errors stop start-up and `check-config` (exit 1) with the reason;
// warnings are printed by `check-config` (exit 0) and logged at start-up.

import { compilePublicRoutes } from '../protocol/public-routes.js';
import type { Problem } from './problems.js';
import type { GatewayConfig } from './schema.js';

// Headers that frame the request or that the gateway itself sets on the forwarded request: a
// claim written into one of them breaks every request of that user (a 502 from the predictor's
// parser, an Envoy error from a check) or changes how the model server reads the body after the
// gateway checked it (Content-Type picks KServe's parser, or none).
const RESERVED_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'content-type',
  'content-encoding',
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'authorization',
  'cookie',
  'inference-header-content-length',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'traceparent',
  'tracestate',
  'b3',
]);
const RESERVED_PREFIXES = ['x-envoy-', 'x-b3-', 'ce-', ':'];

// KServe inference routes outside the V1/V2 predict grammar the pipeline checks: the generate
// extension of the open inference protocol and KServe's OpenAI-compatible endpoints
// (https://kserve.github.io/website/docs/model-serving/generative-inference/overview). A public
// route that reaches one forwards prompts with no token, contract or limit.
const OTHER_INFERENCE_PATHS = [
  '/v2/models/m/generate',
  '/v2/models/m/generate_stream',
  '/v2/models/m/versions/1/generate',
  '/v2/models/m/versions/1/generate_stream',
  '/openai/v1/completions',
  '/openai/v1/chat/completions',
  '/openai/v1/embeddings',
  '/openai/v1/rerank',
  '/openai/v1/score',
];
const INFERENCE_SHAPES = [
  /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/generate(_stream)?$/,
  /^\/openai\/(v1\/)?(chat\/completions|completions|embeddings|rerank|score)$/,
];
// What a `*` may stand for when a pattern names a model or a segment of these routes.
const STAR_VALUES = [
  'm',
  '1',
  'generate',
  'generate_stream',
  'versions',
  'models',
  'v1',
  'v2',
  'openai',
  'chat',
  'completions',
  'embeddings',
  'rerank',
  'score',
];
const MAX_STARS = 4;

function reachesOtherInference(pattern: string): string | undefined {
  const path = pattern.slice(pattern.indexOf(' ') + 1);
  const matcher = compilePublicRoutes([`* ${path}`]);
  for (const p of OTHER_INFERENCE_PATHS) if (matcher.matches('POST', p)) return p;
  // Patterns naming a model literally (`/v2/models/iris/generate`): try the pattern itself with its wildcards filled in.
  const parts = path.split('*');
  if (parts.length - 1 > MAX_STARS) return undefined;
  let candidates = [parts[0]!];
  for (let i = 1; i < parts.length; i++) {
    const next: string[] = [];
    for (const c of candidates) for (const v of STAR_VALUES) next.push(c + v + parts[i]!);
    candidates = next;
  }
  return candidates.find((c) => INFERENCE_SHAPES.some((re) => re.test(c)));
}

export interface ConfigFindings {
  readonly errors: Problem[];
  readonly warnings: Problem[];
}

/** Every footgun of a valid config: errors to refuse, warnings to print. */
export function configFindings(config: GatewayConfig): ConfigFindings {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const { auth } = config;

  auth.issuers.forEach((issuer, i) => {
    for (const header of Object.keys(issuer.claimHeaders)) {
      const name = header.toLowerCase();
      if (RESERVED_HEADERS.has(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
        errors.push({
          path: `auth.issuers[${i}].claimHeaders.${header}`,
          message: `names a header that frames the request or that the gateway or Envoy sets (${name}): a claim written there would break or change every request of that user; choose an x- header of your own`,
        });
      }
    }
  });

  if (!auth.enabled && auth.issuers.length > 0) {
    errors.push({
      path: 'auth.enabled',
      message: `is false while ${auth.issuers.length} issuer${auth.issuers.length === 1 ? ' is' : 's are'} configured: no token would be checked; set auth.enabled: true, or remove the issuers if another layer authenticates`,
    });
  } else if (!auth.enabled) {
    warnings.push({
      path: 'auth.enabled',
      message:
        'is false: every model route is served without a token; only do this when another layer authenticates every request',
    });
  }

  for (const [name, model] of Object.entries(config.models)) {
    const extraction = model.extraction;
    if (extraction?.mode === 'enforce' && extraction.features === undefined) {
      errors.push({
        path: `models.${name}.extraction.mode`,
        message:
          'is enforce without features: the detectors cannot score rows they know nothing about, so nothing would ever be enforced; describe the features or use shadow',
      });
    }
  }

  config.routes.public.forEach((pattern, i) => {
    const reached = reachesOtherInference(pattern);
    if (reached)
      errors.push({
        path: `routes.public[${i}]`,
        message: `can match the inference route ${reached}: prompts would pass with no token, contract or limit`,
      });
    const method = pattern.slice(0, pattern.indexOf(' '));
    if (!reached && method !== 'GET' && method !== 'HEAD') {
      warnings.push({
        path: `routes.public[${i}]`,
        message: `allows ${method}: public routes take no body (one is refused 400 body_not_allowed), so a ${method} probe must come without one`,
      });
    }
  });

  if (config.extAuthz.allowIncompleteBodies) {
    warnings.push({
      path: 'extAuthz.allowIncompleteBodies',
      message:
        'is true: a check without its whole body is charged one prediction and its inputs are not checked; prefer includeRequestBodyInCheck with allowPartialMessage: false',
    });
  }
  if (config.server.trustForwardedFor) {
    warnings.push({
      path: 'server.trustForwardedFor',
      message: 'is true: a client-sent X-Forwarded-For is kept; only do this behind a proxy that sets it',
    });
  }
  return { errors, warnings };
}
