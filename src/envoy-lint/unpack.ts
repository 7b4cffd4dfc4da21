import { type DescMessage, isMessage, type MessageShape } from '@bufbuild/protobuf';
import { type Any, anyUnpack } from '@bufbuild/protobuf/wkt';
import { ENVOY_REGISTRY } from './envoy-registry.js';

/** The message inside a `typed_config` when it is of type `schema`, else `undefined`. */
export function unpackAs<Desc extends DescMessage>(any: Any | undefined, schema: Desc): MessageShape<Desc> | undefined {
  if (any === undefined) return undefined;
  const message = anyUnpack(any, ENVOY_REGISTRY);
  return message !== undefined && isMessage(message, schema) ? message : undefined;
}

/** The fully qualified type name of a `typed_config` (`envoy.extensions.filters.http.router.v3.Router`). */
export function typeNameOf(any: Any | undefined): string | undefined {
  return any === undefined ? undefined : any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
}
