import type { DescMessage, Message } from '@bufbuild/protobuf';
import { type ReflectMessage, reflect } from '@bufbuild/protobuf/reflect';

/**
 * The first reason to refuse a decoded message, or undefined: a field the descriptor does not name
 * (when `denyUnknown`), at any depth: in nested messages, lists and map values. Names the field number
 * and the message type only, never a value.
 */
export function findUnknownField(desc: DescMessage, message: Message, denyUnknown: boolean): string | undefined {
  return denyUnknown ? visit(reflect(desc, message)) : undefined;
}

function visit(message: ReflectMessage): string | undefined {
  const unknown = message.getUnknown();
  if (unknown !== undefined && unknown.length > 0) {
    return `unknown field ${unknown[0]?.no} in ${message.desc.typeName}; this function refuses fields its descriptor set does not name`;
  }
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    let found: string | undefined;
    if (field.fieldKind === 'message') found = visit(message.get(field) as ReflectMessage);
    else if (field.fieldKind === 'list' && field.listKind === 'message') found = visitAll(message.get(field).values() as Iterable<ReflectMessage>);
    else if (field.fieldKind === 'map' && field.mapKind === 'message') found = visitAll(message.get(field).values() as Iterable<ReflectMessage>);
    if (found !== undefined) return found;
  }
  return undefined;
}

function visitAll(messages: Iterable<ReflectMessage>): string | undefined {
  for (const m of messages) {
    const found = visit(m);
    if (found !== undefined) return found;
  }
  return undefined;
}
