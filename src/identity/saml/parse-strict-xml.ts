import { DOMParser } from '@xmldom/xmldom';
import { fail, type Result } from '../../failure.js';
import { toSamlFailure } from './to-saml-failure.js';
import { ATTRIBUTE_NODE, CDATA_SECTION_NODE, COMMENT_NODE, ELEMENT_NODE, PROCESSING_INSTRUCTION_NODE, TEXT_NODE } from './xml-elements.js';

// No DTD may reach the parser: internal subsets are how entity expansion (billion laughs) and
// external entities (XXE) get in. Checked on the text so no parser mode can process them.
const DTD_MARKUP = /<!DOCTYPE|<!ENTITY/i;

/** Bounds that keep the work done on a document before its signature is known proportionate. */
export interface XmlLimits {
  /** SAML documents are a handful of levels deep; the cap keeps recursive walkers (c14n, serializers) off the stack limit. */
  readonly maxDepth: number;
  /** xml-crypto spends tens of microseconds per element (XPath ID lookups, clones, c14n) before a signature fails. */
  readonly maxElements: number;
  readonly maxAttributesPerElement: number;
}

/**
 * For an assertion from a request: a real one has tens to a few hundred elements (an IdP that emits
 * 150 groups writes about 200), so 2048 leaves room while bounding an unsigned forgery's cost.
 */
export const ASSERTION_XML_LIMITS: XmlLimits = { maxDepth: 32, maxElements: 2048, maxAttributesPerElement: 64 };
const WHITESPACE = /^[ \t\r\n]*$/;

/** The number of `<` not followed by `/`, `!` or `?`, counted up to `stopAfter + 1`: an upper bound on the elements. */
function countStartTags(xml: string, stopAfter: number): number {
  let count = 0;
  for (let at = xml.indexOf('<'); at !== -1 && count <= stopAfter; at = xml.indexOf('<', at + 1)) {
    const next = xml.charCodeAt(at + 1);
    if (next !== 0x2f && next !== 0x21 && next !== 0x3f) count++;
  }
  return count;
}

function malformed(detail: string, internal?: string): Result<never> {
  return fail('ERR_SAML_MALFORMED', detail, internal);
}

/** Refuses what a strict XML 1.0 + Namespaces parser would, and what xmldom lets through: PIs, DTDs, unbound prefixes, stray text. */
function checkNodes(doc: Document, source: string, limits: XmlLimits): Result<Element> {
  let root: Element | undefined;
  for (let child = doc.firstChild, index = 0; child != null; child = child.nextSibling, index++) {
    if (child.nodeType === ELEMENT_NODE && root === undefined) root = child as Element;
    else if (child.nodeType === COMMENT_NODE) continue;
    else if (child.nodeType === TEXT_NODE && WHITESPACE.test((child as Text).data)) continue;
    // XML 1.0 §2.8: the XML declaration, if any, is the very first thing in the document.
    else if (child.nodeType === PROCESSING_INSTRUCTION_NODE && child.nodeName === 'xml' && index === 0 && source.startsWith('<?xml')) continue;
    else return malformed('the XML has content outside its root element', `node type ${child.nodeType}`);
  }
  if (root === undefined) return malformed('the XML has no root element');
  const stack: Array<[Element, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [element, depth] = stack.pop() as [Element, number];
    if (depth > limits.maxDepth) return malformed(`the XML is nested deeper than ${limits.maxDepth} levels`);
    if (element.attributes.length > limits.maxAttributesPerElement) {
      return malformed(`an XML element has more than ${limits.maxAttributesPerElement} attributes`);
    }
    // Namespaces in XML 1.0 §5: a prefix must be declared.
    if (element.prefix && !element.namespaceURI) return malformed('the XML uses an undeclared namespace prefix');
    for (let index = 0; index < element.attributes.length; index++) {
      const attribute = element.attributes.item(index);
      if (attribute == null || attribute.nodeType !== ATTRIBUTE_NODE) continue;
      if (attribute.prefix && attribute.prefix !== 'xmlns' && !attribute.namespaceURI) {
        return malformed('the XML uses an undeclared namespace prefix');
      }
    }
    for (let child = element.firstChild; child != null; child = child.nextSibling) {
      switch (child.nodeType) {
        case ELEMENT_NODE:
          stack.push([child as Element, depth + 1]);
          break;
        case TEXT_NODE:
        case CDATA_SECTION_NODE:
        case COMMENT_NODE:
          break;
        default:
          // Processing instructions and entity references have no place in a SAML message.
          return malformed('the XML contains processing instructions or entity references', `node type ${child.nodeType}`);
      }
    }
  }
  return { ok: true, value: root };
}

/**
 * Parses untrusted SAML XML with @xmldom/xmldom and refuses anything but plain, namespace-well-formed
 * XML: DTDs and entities, processing instructions, and every warning or error xmldom reports (it
 * recovers from many errors that a conforming parser must treat as fatal, XML 1.0 §1.2).
 * Never throws; returns the root element.
 * Limits default to {@link ASSERTION_XML_LIMITS}.
 */
export function parseStrictXml(xml: string, limits: XmlLimits = ASSERTION_XML_LIMITS): Result<Element> {
  if (DTD_MARKUP.test(xml)) return malformed('the XML declares a document type or entities');
  // Every element has one start tag, so this count bounds the elements before any parsing work.
  if (countStartTags(xml, limits.maxElements) > limits.maxElements) return malformed(`the XML has more than ${limits.maxElements} elements`);
  const problems: string[] = [];
  const report = (message: string) => {
    problems.push(message);
  };
  let doc: Document;
  try {
    doc = new DOMParser({ locator: {}, errorHandler: { warning: report, error: report, fatalError: report } }).parseFromString(xml, 'application/xml');
  } catch (error) {
    return toSamlFailure(error, 'parse');
  }
  if (problems.length > 0) return malformed('the XML is not well-formed', problems[0]?.slice(0, 500));
  return checkNodes(doc, xml, limits);
}
