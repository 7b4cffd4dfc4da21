import { fail, type Result } from '../../failure.js';
import { SAML_ASSERTION_NS, XSI_NS } from './saml-vocabulary.js';
import { attributeValue, childrenNamed, simpleText } from './xml-elements.js';

/** Bounds on what one assertion may carry, so that a large signed assertion cannot bloat a principal. */
export const ATTRIBUTE_LIMITS = { attributes: 256, valuesPerAttribute: 256, valueBytes: 4096 } as const;

const malformed = (detail: string) => fail('ERR_SAML_MALFORMED', detail);

/** SAML core §2.7.3.1.1: `xsi:nil="true"` is an attribute value that is explicitly absent. */
function isNil(value: Element): boolean {
  const nil = value.getAttributeNS(XSI_NS, 'nil');
  return nil === 'true' || nil === '1';
}

/**
 * Reads the attributes of every AttributeStatement (SAML core §2.7.3) as Name → string values.
 * Values with element content (complex types such as a NameID value) and nil values are skipped:
 * only strings are exposed. EncryptedAttribute is ignored. Over {@link ATTRIBUTE_LIMITS} → malformed.
 */
export function readAttributes(assertion: Element): Result<ReadonlyMap<string, readonly string[]>> {
  const attributes = new Map<string, string[]>();
  for (const statement of childrenNamed(assertion, SAML_ASSERTION_NS, 'AttributeStatement')) {
    for (const attribute of childrenNamed(statement, SAML_ASSERTION_NS, 'Attribute')) {
      const name = attributeValue(attribute, 'Name');
      if (!name) return malformed('an Attribute has no Name');
      let values = attributes.get(name);
      if (values === undefined) {
        if (attributes.size >= ATTRIBUTE_LIMITS.attributes) return malformed(`the assertion has more than ${ATTRIBUTE_LIMITS.attributes} attributes`);
        values = [];
        attributes.set(name, values);
      }
      for (const valueElement of childrenNamed(attribute, SAML_ASSERTION_NS, 'AttributeValue')) {
        const text = simpleText(valueElement);
        if (text === undefined || isNil(valueElement)) continue;
        if (Buffer.byteLength(text, 'utf8') > ATTRIBUTE_LIMITS.valueBytes) {
          return malformed(`an attribute value is longer than ${ATTRIBUTE_LIMITS.valueBytes} bytes`);
        }
        if (values.length >= ATTRIBUTE_LIMITS.valuesPerAttribute) {
          return malformed(`an attribute has more than ${ATTRIBUTE_LIMITS.valuesPerAttribute} values`);
        }
        values.push(text);
      }
    }
  }
  return { ok: true, value: attributes };
}
