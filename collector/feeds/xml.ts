/** Writing XML by hand, safely: every text and attribute value goes through xmlEscape. */

// XML 1.0 §2.2 Char: tab, LF, CR and U+0020 up; no surrogate halves, no U+FFFE/U+FFFF.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const ENTITY: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Text or attribute value → XML: markup characters escaped, characters XML 1.0 cannot carry dropped. */
export function xmlEscape(s: string): string {
  return s.replace(NOT_XML_CHAR, '').replace(/[&<>"']/g, (c) => ENTITY[c] ?? c);
}

/** `<name>text</name>` at an indent, escaped. */
export function xmlElement(indent: string, name: string, text: string): string {
  return `${indent}<${name}>${xmlEscape(text)}</${name}>`;
}
