/// <reference lib="dom" />
/** A few DOM helpers: elements from a tag, attributes and children (no framework, no HTML strings). */

/** What may stand as a child: nodes, text, nothing, or lists of them. */
export type Child = Node | string | number | null | undefined | false | Child[];

/** Attributes: `on…` functions become listeners; `true` sets an empty attribute; null/false/undefined skip. */
export type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

function fill<E extends Element>(element: E, attrs: Attrs | null | undefined, children: Child[]): E {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === "function") element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== null && value !== undefined && value !== false) {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends children (flattened; text as text nodes, never parsed as HTML). */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  return fill(document.createElement(tag), attrs, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** An error as the page shows it: its code (when the server gave one) and its message. */
export function errorBox(error: unknown, id?: string): HTMLElement {
  const { code, message } = describeError(error);
  return h(
    "div",
    { class: "error", role: "alert", id, "data-code": code ?? "" },
    code ? h("code", { class: "code" }, code) : null,
    h("span", null, message),
  );
}

/** The code and message of anything thrown. */
export function describeError(error: unknown): { code: string | null; message: string } {
  if (error && typeof error === "object" && "message" in error) {
    const code = "code" in error && typeof error.code === "string" ? error.code : null;
    return { code, message: String(error.message) };
  }
  return { code: null, message: String(error) };
}

/** A "loading" placeholder. */
export function loading(what: string): HTMLElement {
  return h("p", { class: "loading", "data-loading": "true" }, `Loading ${what}…`);
}

/** An empty state: what is missing and what to do about it. */
export function empty(what: string, hint?: Child): HTMLElement {
  return h(
    "div",
    { class: "empty", "data-empty": "true" },
    h("p", null, what),
    hint ? h("p", null, hint) : null,
  );
}

/** A button that asks again before it acts: the first press arms it, the second (within 4 s) acts. */
export function confirmButton(
  label: string,
  confirmLabel: string,
  act: () => void | Promise<void>,
  attrs: Attrs = {},
): HTMLButtonElement {
  const button = h("button", { type: "button", ...attrs }, label);
  let armed: ReturnType<typeof setTimeout> | null = null;
  button.addEventListener("click", async () => {
    if (armed === null) {
      button.textContent = confirmLabel;
      button.classList.add("armed");
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
        button.classList.remove("armed");
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.disabled = true;
    try {
      await act();
    } finally {
      button.disabled = false;
      button.textContent = label;
      button.classList.remove("armed");
    }
  });
  return button;
}

/** A table cell with its column's name (a phone shows tables as cards, each value under its label). */
export function cell(label: string, ...children: Child[]): HTMLTableCellElement {
  return h("td", { "data-label": label }, h("span", { class: "cell" }, ...children));
}
