// Text generators for the benchmark corpus. The point is compressibility like real web assets
// (gzip 3-6x, brotli a bit better): random bytes would make precompression pointless, and one
// repeated line would compress 1000x and flatter every server. So the text draws on small
// vocabularies, the way real code repeats its identifiers, with varied numbers and structure.
import type { Rng } from "./prng.ts";

const WORDS: readonly string[] = (
  "account action active alert avatar badge banner body border button card cart chart " +
  "checkout close collapse column comment container content dialog disabled divider drawer " +
  "dropdown editor error feed field filter footer form grid group header hero hidden icon " +
  "image input item label layout link list loader logo main media menu message modal nav " +
  "notice option order overlay page panel price primary product profile progress rating " +
  "result review row search section select settings sidebar slider status step summary " +
  "switch tab table tag title toast toggle toolbar tooltip user value video widget wrapper"
).split(" ");

const PROSE: readonly string[] = (
  "the a of to and in is for with on your this that we can you more from new how about " +
  "data time team release guide build server cache request response performance faster " +
  "simple update customers product feature support project design example version page"
).split(" ");

const camel = (rng: Rng, parts: number): string => {
  let name: string = rng.pick(WORDS);
  for (let i = 1; i < parts; i++) {
    const word = rng.pick(WORDS);
    name += word.charAt(0).toUpperCase() + word.slice(1);
  }
  return name;
};

const sentence = (rng: Rng, words: number): string => {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(rng.pick(PROSE));
  const text = out.join(" ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
};

/** Appends pieces from `piece` until the text reaches `targetBytes` (ASCII, so length = bytes). */
function fill(targetBytes: number, piece: () => string, head = "", tail = ""): string {
  const parts = [head];
  let length = head.length + tail.length;
  while (length < targetBytes) {
    const next = piece();
    parts.push(next);
    length += next.length;
  }
  parts.push(tail);
  return parts.join("");
}

const hex = (rng: Rng, digits: number): string =>
  rng
    .int(0, 16 ** digits - 1)
    .toString(16)
    .padStart(digits, "0");

const CSS_PROPS: readonly (readonly [string, (rng: Rng) => string])[] = [
  ["color", (r) => `#${hex(r, 6)}`],
  ["background-color", (r) => r.pick(["#fff", "transparent", `#${hex(r, 6)}`, "var(--surface)"])],
  ["margin", (r) => `${r.int(0, 48)}px ${r.int(0, 4) * 4}px`],
  ["padding", (r) => `${r.int(0, 8) / 4}rem ${r.int(0, 8) / 4}rem`],
  ["display", (r) => r.pick(["flex", "grid", "block", "inline-flex", "none"])],
  ["font-size", (r) => `${(r.int(10, 40) / 16).toFixed(3)}rem`],
  ["font-weight", (r) => r.pick(["400", "500", "600", "700"])],
  ["line-height", (r) => r.pick(["1", "1.25", "1.5", "1.75"])],
  ["border", (r) => `${r.int(1, 3)}px solid #${hex(r, 3)}`],
  ["border-radius", (r) => `${r.int(0, 16)}px`],
  ["align-items", (r) => r.pick(["center", "flex-start", "stretch", "baseline"])],
  ["gap", (r) => `${r.int(0, 12) / 4}rem`],
  ["width", (r) => r.pick(["100%", "auto", `${r.int(1, 100)}%`, `${r.int(8, 640)}px`])],
  ["transition", (r) => `${r.pick(["opacity", "transform", "all"])} ${r.int(1, 6) * 50}ms ease`],
  ["box-shadow", (r) => `0 ${r.int(0, 8)}px ${r.int(0, 24)}px rgba(0,0,0,.${r.int(1, 30)})`],
];

function cssRule(rng: Rng): string {
  const block = `${rng.pick(WORDS)}-${rng.pick(WORDS)}`;
  const selector = rng.chance(0.3)
    ? `.${block}__${rng.pick(WORDS)}--${rng.pick(WORDS)}`
    : `.${block}${rng.pick(["", ":hover", ":focus-visible", " > .icon", "::before"])}`;
  const lines: string[] = [];
  for (let i = rng.int(2, 7); i > 0; i--) {
    const [prop, value] = rng.pick(CSS_PROPS);
    lines.push(`  ${prop}: ${value(rng)};`);
  }
  const rule = `${selector} {\n${lines.join("\n")}\n}\n`;
  if (!rng.chance(0.08)) return rule;
  return `@media (min-width: ${rng.pick([480, 768, 1024, 1280])}px) {\n${rule}}\n`;
}

/** A stylesheet of BEM-style rules, about `targetBytes` long. */
export function generateCss(rng: Rng, targetBytes: number): string {
  const head = ":root {\n  --surface: #ffffff;\n  --accent: #3b5bdb;\n}\n";
  return fill(targetBytes, () => cssRule(rng), head);
}

function jsStatement(rng: Rng): string {
  const a = camel(rng, 2);
  const b = camel(rng, rng.int(1, 3));
  switch (rng.int(0, 6)) {
    case 0:
      return `const ${a} = ${b}?.${rng.pick(WORDS)} ?? ${rng.int(0, 999)};`;
    case 1:
      return `if (${b}.${rng.pick(WORDS)}Id === ${rng.int(0, 99999)}) return ${a};`;
    case 2:
      return `${a}.push({ id: ${rng.int(0, 99999)}, ${rng.pick(WORDS)}: "${sentence(rng, 3)}" });`;
    case 3:
      return `for (const ${rng.pick(WORDS)} of ${b}) ${a}(${rng.pick(WORDS)}, ${rng.int(0, 64)});`;
    case 4:
      return `throw new Error("${sentence(rng, rng.int(3, 8))}");`;
    case 5:
      return `${a} = await fetch(\`/api/${rng.pick(WORDS)}/\${${b}}\`).then((r) => r.json());`;
    default:
      return `return ${a} && ${b} ? ${a}.${rng.pick(WORDS)} : ${rng.chance(0.5)};`;
  }
}

function jsModule(rng: Rng, id: number): string {
  const body: string[] = [];
  for (let f = rng.int(1, 4); f > 0; f--) {
    const name = camel(rng, rng.int(2, 3));
    const args = [camel(rng, 1), camel(rng, 2)].join(", ");
    const statements: string[] = [];
    for (let s = rng.int(3, 12); s > 0; s--) statements.push(`    ${jsStatement(rng)}`);
    body.push(`  async function ${name}(${args}) {\n${statements.join("\n")}\n  }`);
    body.push(`  t.${name} = ${name};`);
  }
  return `/***/ ${id}: (e, t, n) => {\n  "use strict";\n${body.join("\n")}\n},\n`;
}

/** A webpack-style bundle of modules with real-looking code, about `targetBytes` long. */
export function generateJs(rng: Rng, targetBytes: number): string {
  let id = rng.int(100, 900);
  const head = "(() => {\nvar __webpack_modules__ = {\n";
  const tail = "};\n__webpack_require__(0);\n})();\n";
  const nextModule = (): string => {
    id += rng.int(1, 40);
    return jsModule(rng, id);
  };
  return fill(targetBytes, nextModule, head, tail);
}

function htmlBlock(rng: Rng): string {
  switch (rng.int(0, 3)) {
    case 0:
      return `<h2 id="${rng.pick(WORDS)}-${rng.int(1, 99)}">${sentence(rng, rng.int(3, 7))}</h2>\n`;
    case 1: {
      const items: string[] = [];
      for (let i = rng.int(2, 6); i > 0; i--) {
        items.push(
          `  <li><a href="/${rng.pick(WORDS)}/${rng.int(1, 500)}">${sentence(rng, 4)}</a></li>`,
        );
      }
      return `<ul class="${rng.pick(WORDS)}-list">\n${items.join("\n")}\n</ul>\n`;
    }
    default:
      return `<p class="${rng.pick(WORDS)}-text">${sentence(rng, rng.int(20, 70))}</p>\n`;
  }
}

/** An HTML page with head links, navigation, article text and a footer, about `targetBytes`. */
export function generateHtml(rng: Rng, title: string, targetBytes: number): string {
  const head = [
    "<!doctype html>",
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${title}</title>`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="stylesheet" href="/css/main.css">',
    '<script defer src="/js/app.js"></script></head>',
    '<body><nav class="nav"><a href="/">Home</a> <a href="/blog/">Blog</a></nav>',
    "<main><article>\n",
  ].join("\n");
  const tail =
    '</article></main>\n<footer class="footer">&copy; Example Inc.</footer>\n</body></html>\n';
  return fill(targetBytes, () => htmlBlock(rng), head, tail);
}

/** A 24x24 line icon whose path grows until the file is about `targetBytes`. */
export function generateSvg(rng: Rng, targetBytes: number): string {
  const head =
    '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" ' +
    'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M';
  const tail = 'z"/></svg>\n';
  const coord = () => (rng.int(0, 240) / 10).toString();
  const step = () => `${rng.pick(["L", "l", "C", "Q"])}${coord()} ${coord()} `;
  return fill(targetBytes, step, `${head}${coord()} ${coord()} `, tail);
}
