import { matching, port, settings, z } from '../fields.js';

export const extAuthzSection = settings(
  {
    http: settings(
      {
        enabled: z.boolean().default(false).meta({
          description:
            "Serve Envoy's HTTP ext_authz check (Istio `envoyExtAuthzHttp` provider). Allow is exactly 200; a denial answers its status, headers and JSON body.",
          env: 'GATEWAY_EXTAUTHZ_HTTP_ENABLED',
        }),
        host: z
          .string()
          .default('0.0.0.0')
          .meta({ description: 'Address the HTTP check listener binds.', env: 'GATEWAY_EXTAUTHZ_HTTP_HOST' }),
        port: port(
          'HTTP check port (the Istio provider `port`). 0 picks a free port.',
          8000,
          'GATEWAY_EXTAUTHZ_HTTP_PORT',
        ),
        pathPrefix: matching(
          /^(\/[^\s?#]*[^\s?#/])?$/,
          'expected empty or a path like /authz (starts with /, no trailing /, no query)',
        )
          .default('')
          .meta({
            description:
              "The Istio provider's `pathPrefix`: Envoy sends `pathPrefix + original path`, the door removes it. Empty for none. A check whose path lacks it is denied 403 `route_not_allowed`.",
            env: 'GATEWAY_EXTAUTHZ_HTTP_PATH_PREFIX',
          }),
      },
      'The HTTP ext_authz door.',
    ),
    grpc: settings(
      {
        enabled: z.boolean().default(false).meta({
          description:
            'Serve `envoy.service.auth.v3.Authorization/Check` (Istio `envoyExtAuthzGrpc` provider) over plaintext HTTP/2.',
          env: 'GATEWAY_EXTAUTHZ_GRPC_ENABLED',
        }),
        host: z
          .string()
          .default('0.0.0.0')
          .meta({ description: 'Address the gRPC check listener binds.', env: 'GATEWAY_EXTAUTHZ_GRPC_HOST' }),
        port: port(
          'gRPC check port (the Istio provider `port`; name the Service port `grpc` so Envoy speaks HTTP/2). 0 picks a free port.',
          9000,
          'GATEWAY_EXTAUTHZ_GRPC_PORT',
        ),
      },
      'The gRPC ext_authz door.',
    ),
    allowIncompleteBodies: z
      .boolean()
      .default(false)
      .meta({
        description:
          'Let predict and explain checks through when Envoy attached no body or a truncated one (`x-envoy-auth-partial-body: true`); otherwise they are refused 413 `body_incomplete`. ' +
          'What it gives away: such a request is charged one prediction whatever its batch, its inputs are not checked against the contract, a request for scores is not seen, and the extraction guard never reads its rows. ' +
          "Keep it off and set the provider's `includeRequestBodyInCheck` with `allowPartialMessage: false`, so Envoy itself answers 413 above `maxRequestBytes`.",
        env: 'GATEWAY_EXTAUTHZ_ALLOW_INCOMPLETE_BODIES',
      }),
  },
  'Envoy ext_authz front doors for an Istio CUSTOM AuthorizationPolicy: the same decision as the proxy, answered as a check. Responses cannot be rewritten in this mode.',
);
