import { isLoopbackHost } from '../admin/admin-address.js';
import type { Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Address } from '../gen/envoy/config/core/v3/address_pb.js';

/**
 * Whether every endpoint of a cluster is on this host (loopback address, `localhost`, unix socket).
 * A cluster without inline endpoints (EDS) is not: its endpoints are unknown here.
 */
export function allEndpointsLocal(cluster: Cluster): boolean {
  const addresses: (Address | undefined)[] = [];
  for (const locality of cluster.loadAssignment?.endpoints ?? []) {
    for (const lb of locality.lbEndpoints) {
      if (lb.hostIdentifier.case === 'endpoint') addresses.push(lb.hostIdentifier.value.address);
      else addresses.push(undefined);
    }
  }
  return addresses.length > 0 && addresses.every(isLocalAddress);
}

export function isLocalAddress(address: Address | undefined): boolean {
  if (address?.address.case === 'pipe') return true;
  return address?.address.case === 'socketAddress' && isLoopbackHost(address.address.value.address);
}
