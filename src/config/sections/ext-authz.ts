import { s } from '../schema-dsl.js';

const port = (doc: string, def: number, env: string) => s.integer({ doc, default: def, min: 0, max: 65535, env });

export const extAuthzSection = s.object(
  {
    http: s.object(
      {
        enabled: s.boolean({
          doc: "Serve Envoy's HTTP ext_authz check (Istio `envoyExtAuthzHttp` provider). Allow is exactly 200; a denial answers its status, headers and JSON body.",
          default: false,
          env: 'GATEWAY_EXTAUTHZ_HTTP_ENABLED',
        }),
        host: s.string({ doc: 'Address the HTTP check listener binds.', default: '0.0.0.0', env: 'GATEWAY_EXTAUTHZ_HTTP_HOST' }),
        port: port('HTTP check port (the Istio provider `port`). 0 picks a free port.', 8000, 'GATEWAY_EXTAUTHZ_HTTP_PORT'),
        pathPrefix: s.string({
          doc: "The Istio provider's `pathPrefix`: Envoy sends `pathPrefix + original path`, the door removes it. Empty for none. A check whose path lacks it is denied 403 `route_not_allowed`.",
          default: '',
          pattern: /^(\/[^\s?#]*[^\s?#/])?$/,
          patternHint: 'expected empty or a path like /authz (starts with /, no trailing /, no query)',
          env: 'GATEWAY_EXTAUTHZ_HTTP_PATH_PREFIX',
        }),
      },
      { doc: 'The HTTP ext_authz door.' },
    ),
    grpc: s.object(
      {
        enabled: s.boolean({
          doc: 'Serve `envoy.service.auth.v3.Authorization/Check` (Istio `envoyExtAuthzGrpc` provider) over plaintext HTTP/2.',
          default: false,
          env: 'GATEWAY_EXTAUTHZ_GRPC_ENABLED',
        }),
        host: s.string({ doc: 'Address the gRPC check listener binds.', default: '0.0.0.0', env: 'GATEWAY_EXTAUTHZ_GRPC_HOST' }),
        port: port('gRPC check port (the Istio provider `port`; name the Service port `grpc` so Envoy speaks HTTP/2). 0 picks a free port.', 9000, 'GATEWAY_EXTAUTHZ_GRPC_PORT'),
      },
      { doc: 'The gRPC ext_authz door.' },
    ),
    allowIncompleteBodies: s.boolean({
      doc:
        'Let predict and explain checks through when Envoy attached no body or a truncated one (`x-envoy-auth-partial-body: true`); otherwise they are refused 413 `body_incomplete`. ' +
        'What it gives away: such a request is charged one prediction whatever its batch, its inputs are not checked against the contract, a request for scores is not seen, and the extraction guard never reads its rows. ' +
        'Keep it off and set the provider\'s `includeRequestBodyInCheck` with `allowPartialMessage: false`, so Envoy itself answers 413 above `maxRequestBytes`.',
      default: false,
      env: 'GATEWAY_EXTAUTHZ_ALLOW_INCOMPLETE_BODIES',
    }),
  },
  {
    doc: 'Envoy ext_authz front doors for an Istio CUSTOM AuthorizationPolicy: the same decision as the proxy, answered as a check. Responses cannot be rewritten in this mode.',
  },
);
