// A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics) over rendered manifests:
// a flow is allowed when the source's egress allows it (or no policy selects the source for
// Egress) and, for a pod destination, the destination's ingress allows it likewise.

type Labels = Readonly<Record<string, string>>;

interface Selector {
  matchLabels?: Labels;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PortRule {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PortRule[];
}
export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

export interface Pod {
  readonly namespace: string;
  readonly labels: Labels;
  readonly ip?: string;
}
export type Endpoint = { readonly pod: Pod } | { readonly ip: string };
export interface Flow {
  readonly from: Pod;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol?: 'TCP' | 'UDP';
}

export function matches(sel: Selector | undefined, labels: Labels): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const v = labels[e.key];
    if (e.operator === 'In' && !(has && e.values?.includes(v!))) return false;
    if (e.operator === 'NotIn' && has && e.values?.includes(v!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const n = Number(bits);
  if (n === 0) return true;
  const mask = 2 ** 32 - 2 ** (32 - n);
  return (ipToInt(ip) & mask) >>> 0 === (ipToInt(base) & mask) >>> 0;
}

export class NetworkPolicies {
  constructor(
    private readonly policies: readonly NetworkPolicy[],
    /** Namespace name → its labels (kubernetes.io/metadata.name is added). */
    private readonly namespaces: Readonly<Record<string, Labels>>,
  ) {}

  private nsLabels(ns: string): Labels {
    return { ...(this.namespaces[ns] ?? {}), 'kubernetes.io/metadata.name': ns };
  }

  private selecting(pod: Pod, type: 'Ingress' | 'Egress'): NetworkPolicy[] {
    return this.policies.filter((p) => {
      const types = p.spec.policyTypes ?? (p.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
      return (
        (p.metadata.namespace ?? 'default') === pod.namespace &&
        types.includes(type) &&
        matches(p.spec.podSelector, pod.labels)
      );
    });
  }

  private peerMatches(peer: Peer, policyNs: string, other: Endpoint): boolean {
    if (peer.ipBlock) {
      // ipBlock applies to traffic from or to outside the cluster (pod IPs are treated as cluster-internal here unless given).
      const ip = 'ip' in other ? other.ip : other.pod.ip;
      if (!ip) return false;
      return inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(ip, c));
    }
    if (!('pod' in other)) return false;
    const pod = other.pod;
    const nsOk = peer.namespaceSelector
      ? matches(peer.namespaceSelector, this.nsLabels(pod.namespace))
      : pod.namespace === policyNs;
    return nsOk && matches(peer.podSelector, pod.labels);
  }

  private portMatches(rules: PortRule[] | undefined, port: number, protocol: string): boolean {
    if (!rules || rules.length === 0) return true;
    return rules.some((r) => {
      if ((r.protocol ?? 'TCP') !== protocol) return false;
      if (r.port === undefined) return true;
      if (typeof r.port === 'string') return false; // named ports are not used in our manifests
      return r.endPort !== undefined ? port >= r.port && port <= r.endPort : port === r.port;
    });
  }

  private allowedBy(
    policies: NetworkPolicy[],
    dir: 'ingress' | 'egress',
    other: Endpoint,
    port: number,
    protocol: string,
  ): boolean {
    if (policies.length === 0) return true;
    return policies.some((p) =>
      (p.spec[dir] ?? []).some((rule) => {
        const peers = dir === 'ingress' ? rule.from : rule.to;
        const peerOk =
          !peers ||
          peers.length === 0 ||
          peers.some((peer) => this.peerMatches(peer, p.metadata.namespace ?? 'default', other));
        return peerOk && this.portMatches(rule.ports, port, protocol);
      }),
    );
  }

  allows(f: Flow): boolean {
    const protocol = f.protocol ?? 'TCP';
    if (!this.allowedBy(this.selecting(f.from, 'Egress'), 'egress', f.to, f.port, protocol)) return false;
    if (!('pod' in f.to)) return true;
    return this.allowedBy(this.selecting(f.to.pod, 'Ingress'), 'ingress', { pod: f.from }, f.port, protocol);
  }
}

// Istio PeerAuthentication (security.istio.io/v1) over rendered manifests, for flows between pods:
// the destination's effective mode is the workload-selected policy of its namespace, else the
// namespace-wide one, else the mesh-wide one (root namespace), else PERMISSIVE; `portLevelMtls`
// of a workload policy overrides the mode for that container port; UNSET inherits.
// https://istio.io/latest/docs/reference/config/security/peer_authentication/
type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';
export interface PeerAuthentication {
  metadata: { name: string; namespace?: string };
  spec: {
    selector?: { matchLabels?: Labels };
    mtls?: { mode?: MtlsMode };
    portLevelMtls?: Record<string, { mode?: MtlsMode }>;
  };
}
/** A pod with `mesh: true` has an Istio sidecar: it presents a workload certificate, and enforces PeerAuthentication. */
export interface MeshPod extends Pod {
  readonly mesh?: boolean;
}

export class MeshMtls {
  constructor(
    private readonly policies: readonly PeerAuthentication[],
    private readonly rootNamespace = 'istio-system',
  ) {}

  /** The mode the destination pod's sidecar enforces on `port`. */
  modeFor(pod: MeshPod, port: number): MtlsMode {
    const inNs = this.policies.filter((p) => p.metadata.namespace === pod.namespace);
    const workload = inNs.find((p) => p.spec.selector && matches(p.spec.selector, pod.labels));
    const namespaceWide = inNs.find((p) => !p.spec.selector);
    const meshWide = this.policies.find((p) => p.metadata.namespace === this.rootNamespace && !p.spec.selector);
    const chain: Array<MtlsMode | undefined> = [
      workload?.spec.portLevelMtls?.[String(port)]?.mode,
      workload?.spec.mtls?.mode,
      namespaceWide?.spec.mtls?.mode,
      meshWide?.spec.mtls?.mode,
    ];
    return chain.find((m) => m !== undefined && m !== 'UNSET') ?? 'PERMISSIVE';
  }

  /** Whether the destination's sidecar accepts a connection from `from` (plain text unless `from.mesh`). */
  accepts(from: MeshPod, to: MeshPod, port: number): boolean {
    if (!to.mesh) return true; // no sidecar, nothing enforces mTLS
    return this.modeFor(to, port) !== 'STRICT' || from.mesh === true;
  }
}
