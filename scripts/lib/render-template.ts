/** Values a template may receive: addresses, ports and file paths only. */
export type TemplateValues = Readonly<Record<string, string | number>>;

const PLACEHOLDER = /\{\{\s*([A-Z][A-Z0-9_]*)\s*\}\}/g;

/**
 * Fill `{{NAME}}` placeholders. Fails loudly, listing every problem at once, when a placeholder has
 * no value, a value has no placeholder (a typo on either side), or braces survive the rendering.
 */
export function renderTemplate(template: string, values: TemplateValues, source: string): string {
  const problems: string[] = [];
  const used = new Set<string>();
  const rendered = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) {
      problems.push(`no value for placeholder ${whole}`);
      return whole;
    }
    used.add(name);
    const text = String(value);
    if (/[\s"{}]/.test(text)) problems.push(`value of ${name} contains whitespace, a quote or a brace: ${text}`);
    return text;
  });
  for (const name of Object.keys(values)) {
    if (!used.has(name)) problems.push(`value ${name} is not used by the template`);
  }
  const leftover = rendered.match(/\{\{[^}]*\}\}/g);
  if (leftover !== null && problems.length === 0) problems.push(`unreplaced placeholders: ${leftover.join(', ')}`);
  if (problems.length > 0) {
    throw new Error(`cannot render ${source}:\n  ${problems.join('\n  ')}`);
  }
  return rendered;
}
