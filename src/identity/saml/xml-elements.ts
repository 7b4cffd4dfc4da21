/** Small DOM readers over @xmldom/xmldom nodes. Node type numbers are DOM Level 2 Core §1.1.1. */

export const ELEMENT_NODE = 1;
export const ATTRIBUTE_NODE = 2;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;
export const PROCESSING_INSTRUCTION_NODE = 7;
export const COMMENT_NODE = 8;

/** The element children of `parent`, in document order. */
export function elementChildren(parent: Node): Element[] {
  const found: Element[] = [];
  for (let child = parent.firstChild; child != null; child = child.nextSibling) {
    if (child.nodeType === ELEMENT_NODE) found.push(child as Element);
  }
  return found;
}

/** The element children of `parent` named `{namespace}localName`. */
export function childrenNamed(parent: Node, namespace: string, localName: string): Element[] {
  return elementChildren(parent).filter((child) => child.namespaceURI === namespace && child.localName === localName);
}

/** Whether `element` is `{namespace}localName`. */
export function isNamed(element: Element | undefined, namespace: string, localName: string): element is Element {
  return element !== undefined && element.namespaceURI === namespace && element.localName === localName;
}

/**
 * The whole character content of a simple-content element: every text and CDATA child joined, so a
 * comment splitting the text cannot truncate it. `undefined` when the element has element children.
 */
export function simpleText(element: Element): string | undefined {
  let text = '';
  for (let child = element.firstChild; child != null; child = child.nextSibling) {
    if (child.nodeType === ELEMENT_NODE) return undefined;
    if (child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) text += (child as CharacterData).data;
  }
  return text;
}

/** An unqualified attribute's value, or `undefined` when it is absent (never the empty-string fallback of getAttribute). */
export function attributeValue(element: Element, name: string): string | undefined {
  const attribute = element.getAttributeNode(name);
  return attribute == null || attribute.namespaceURI ? undefined : attribute.value;
}

/** Every element below and including `root`, in document order, without recursion. */
export function* allElements(root: Element): Generator<Element> {
  const stack: Element[] = [root];
  while (stack.length > 0) {
    const element = stack.pop() as Element;
    yield element;
    const children = elementChildren(element);
    for (let index = children.length - 1; index >= 0; index--) stack.push(children[index] as Element);
  }
}
