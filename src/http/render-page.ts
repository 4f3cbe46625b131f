import { createHash } from 'node:crypto';
import type { ContentPolicy, Story } from '../domain.js';
import { htmlToPlainText } from './render-text.js';

// The river as a web page for people: server-rendered HTML, no scripts, no external assets, one
// inline stylesheet (light and dark via prefers-color-scheme, narrow screens included). Pure: the
// route gathers stories and names, this turns them into a document.
//
// Escaping: every string from publishers or clients is escaped for where it goes (text or a
// double-quoted attribute) and URLs are allowed only as http(s) or relative links. The one
// exception is the summary, which is HTML sanitised on the way in (ingest/sanitize-html.ts); as a
// second line of defence the page is sent with a Content-Security-Policy (PAGE_CSP) that allows no
// script at all and only this stylesheet, so markup that slipped through still cannot run.

/** One output feed, for <link rel="alternate"> autodiscovery and the subscribe links. */
export interface PageFeedLink {
  readonly title: string;
  /** application/rss+xml, application/atom+xml or application/feed+json. */
  readonly type: string;
  readonly href: string;
  /** Short label for the visible subscribe links (RSS, Atom, JSON Feed); null to list it only in <head>. */
  readonly label: string | null;
}

/** The filters the page is showing, as the reader chose them. */
export interface PageFilter {
  readonly q?: string | undefined;
  readonly sources?: readonly string[] | undefined;
  readonly tags?: readonly string[] | undefined;
}

export interface RiverPageInput {
  readonly title: string;
  readonly stories: readonly Story[];
  readonly filter: PageFilter;
  /** Whether this is a later page (a cursor was given): offers a link back to the newest stories. */
  readonly paged: boolean;
  /** Cursor of the next (older) page; null on the last one. */
  readonly nextCursor: string | null;
  /** Autodiscovery, the filtered feed (if any) first. */
  readonly feeds: readonly PageFeedLink[];
  /** Where the sources' OPML lives (relative or absolute). */
  readonly opmlHref: string;
  /** Display names of sources by id (for "via" and the filter chips); unknown ids are shown as they are. */
  readonly sourceNames: ReadonlyMap<string, string>;
  /** How many sources feed the river (shown in the masthead). */
  readonly sourceCount: number;
  readonly generator: string;
}

/** Summaries longer than this (as plain text) are shown as an excerpt: the river is for skimming. */
export const SUMMARY_EXCERPT_CHARS = 600;

export function renderRiverPage(input: RiverPageInput): string {
  const { filter } = input;
  const q = filter.q ?? null;
  const heading = q === null ? input.title : `“${q}” · ${input.title}`;
  const subscribe = input.feeds
    .filter((f) => f.label !== null)
    .map((f) => `<a href="${attr(f.href)}" type="${attr(f.type)}">${text(f.label ?? '')}</a>`);
  subscribe.push(`<a href="${attr(input.opmlHref)}" type="text/x-opml">OPML</a>`);
  const sourcesLine = `${input.sourceCount} source${input.sourceCount === 1 ? '' : 's'}, newest first`;

  const body = [
    '<header class="masthead"><div class="wrap">',
    `<h1><a href="./">${text(input.title)}</a></h1>`,
    `<p class="tagline">${text(sourcesLine)} · Subscribe: ${subscribe.join(' · ')}</p>`,
    searchForm(filter),
    filterBar(filter, input.sourceNames),
    '</div></header>',
    '<main class="wrap">',
    input.stories.length === 0 ? emptyRiver(filter, input.paged) : `<ol class="river">\n${input.stories.map((s) => story(s, input.sourceNames)).join('\n')}\n</ol>`,
    pager(filter, input.paged, input.nextCursor),
    '</main>',
    `<footer class="wrap"><p>${text(input.generator)} · Every story links to its publisher, who wrote it.</p></footer>`,
  ];
  return documentHtml(heading, input.feeds, body.filter((l) => l !== '').join('\n'));
}

export interface ErrorPageInput {
  readonly riverTitle: string;
  readonly status: number;
  readonly message: string;
  /** The query parameter at fault, when one is. */
  readonly parameter: string | null;
}

/** A friendly error page (bad query parameters): what was wrong, and the way back. */
export function renderErrorPage(input: ErrorPageInput): string {
  const what = input.parameter === null ? 'This address could not be shown.' : `The parameter “${input.parameter}” is not right.`;
  const body = [
    '<header class="masthead"><div class="wrap">',
    `<h1><a href="./">${text(input.riverTitle)}</a></h1>`,
    '</div></header>',
    '<main class="wrap error">',
    `<h2>${text(what)}</h2>`,
    `<p class="error-message">${text(input.message)}</p>`,
    '<p><a href="./">Back to the newest stories</a></p>',
    '</main>',
  ];
  return documentHtml(`${input.status} · ${input.riverTitle}`, [], body.join('\n'));
}

// ---------------------------------------------------------------------------------------------
// Parts

function documentHtml(title: string, feeds: readonly PageFeedLink[], body: string): string {
  const links = feeds.map((f) => `<link rel="alternate" type="${attr(f.type)}" title="${attr(f.title)}" href="${attr(f.href)}">`);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${text(title)}</title>`,
    `<link rel="icon" href="${FAVICON}">`,
    ...links,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function searchForm(filter: PageFilter): string {
  // The other filters ride along as hidden fields, so a search stays within the chosen source/tag.
  const hidden = [
    ...(filter.sources ?? []).map((s) => `<input type="hidden" name="source" value="${attr(s)}">`),
    ...(filter.tags ?? []).map((t) => `<input type="hidden" name="tag" value="${attr(t)}">`),
  ];
  return [
    '<form class="search" method="get" role="search">',
    `<input type="search" name="q" value="${attr(filter.q ?? '')}" placeholder="Search stories" aria-label="Search stories" maxlength="200">`,
    ...hidden,
    '<button type="submit">Search</button>',
    '</form>',
  ].join('');
}

/** The active filters as chips, each with a link that removes it; the search shows "clear". */
function filterBar(filter: PageFilter, names: ReadonlyMap<string, string>): string {
  const parts: string[] = [];
  if (filter.q !== undefined) {
    parts.push(
      `<span class="query">Results for “<strong>${text(filter.q)}</strong>”</span> <a class="clear" href="${attr(href({ ...filter, q: undefined }))}">clear</a>`,
    );
  }
  for (const id of filter.sources ?? []) {
    const rest = { ...filter, sources: (filter.sources ?? []).filter((s) => s !== id) };
    parts.push(chip('source', names.get(id) ?? id, href(rest)));
  }
  for (const tag of filter.tags ?? []) {
    const rest = { ...filter, tags: (filter.tags ?? []).filter((t) => t !== tag) };
    parts.push(chip('tag', tag, href(rest)));
  }
  return parts.length ? `<div class="filters">${parts.join(' ')}</div>` : '';
}

function chip(kind: 'source' | 'tag', label: string, removeHref: string): string {
  return `<span class="chip chip-${kind}"><span class="chip-kind">${kind}</span> ${text(label)} <a href="${attr(removeHref)}" aria-label="Remove the ${kind} filter ${attr(label)}" title="Remove this filter">×</a></span>`;
}

function story(s: Story, names: ReadonlyMap<string, string>): string {
  const url = linkUrl(s.url);
  const title = text(oneLine(s.title) || 'Untitled');
  const publisherName = oneLine(s.publisher.name) || 'Unknown publisher';
  const publisherUrl = linkUrl(s.publisher.url);
  const publisher = publisherUrl
    ? `<a class="publisher" href="${attr(publisherUrl)}">${text(publisherName)}</a>`
    : `<span class="publisher">${text(publisherName)}</span>`;
  const meta = [publisher];
  const author = s.author === null ? '' : oneLine(s.author);
  if (author !== '' && author !== publisherName) meta.push(`<span class="author">by ${text(author)}</span>`);
  meta.push(`<time datetime="${s.publishedAt.toISOString()}">${text(humanUtc(s.publishedAt))}</time>`);

  const summary = summaryHtml(s.contentPolicy, s.summary);
  // The story's own picture, small, beside the text; not under policy none (title and link only).
  const image = s.contentPolicy === 'none' ? null : linkUrl(s.image);
  const via = s.via.map(
    (id) => `<a href="${attr(href({ sources: [id] }))}" title="Stories via ${attr(names.get(id) ?? id)}">${text(names.get(id) ?? id)}</a>`,
  );
  const also = s.alsoPublishedBy.map((m) => {
    const name = oneLine(m.publisher.name) || 'Unknown publisher';
    const link = linkUrl(m.url) ?? linkUrl(m.publisher.url);
    return link ? `<a href="${attr(link)}">${text(name)}</a>` : text(name);
  });
  return [
    `<li class="story" id="story-${attr(s.id)}" data-story-id="${attr(s.id)}"><article>`,
    image === null ? '' : `<img class="thumb" src="${attr(image)}" alt="" loading="lazy" referrerpolicy="no-referrer">`,
    `<h2 class="story-title">${url ? `<a href="${attr(url)}">${title}</a>` : title}</h2>`,
    `<p class="meta">${meta.join(' <span class="sep">·</span> ')}</p>`,
    summary === null ? '' : `<div class="summary">${summary}</div>`,
    via.length ? `<p class="via">via ${via.join(', ')}</p>` : '',
    also.length ? `<p class="also">Also published by ${also.join(', ')}</p>` : '',
    '</article></li>',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

/**
 * The summary under the story's content policy: none shows no text at all (title and link only,
 * as in the feeds); summary and full show the summary. Long ones become a plain-text excerpt.
 */
export function summaryHtml(policy: ContentPolicy, summary: string | null): string | null {
  if (policy === 'none' || summary === null || summary.trim() === '') return null;
  const plain = htmlToPlainText(summary);
  if (plain === '') return null;
  if (plain.length <= SUMMARY_EXCERPT_CHARS) return summary;
  const cut = plain.slice(0, SUMMARY_EXCERPT_CHARS);
  const atWord = cut.slice(0, Math.max(cut.lastIndexOf(' '), SUMMARY_EXCERPT_CHARS * 0.8));
  return `<p>${text(atWord.replace(/[\s.,;:!?-]+$/, ''))}…</p>`;
}

function emptyRiver(filter: PageFilter, paged: boolean): string {
  const filtered = filter.q !== undefined || (filter.sources?.length ?? 0) > 0 || (filter.tags?.length ?? 0) > 0;
  const message = paged ? 'No older stories.' : filtered ? 'No stories match.' : 'No stories yet. They appear here once the sources have been fetched.';
  return `<p class="empty">${text(message)}</p>`;
}

function pager(filter: PageFilter, paged: boolean, nextCursor: string | null): string {
  const links: string[] = [];
  if (paged) links.push(`<a class="newest" href="${attr(href(filter))}">← Newest stories</a>`);
  if (nextCursor !== null) links.push(`<a class="older" rel="next" href="${attr(href(filter, nextCursor))}">Older stories →</a>`);
  return links.length ? `<nav class="pager" aria-label="Pages">${links.join('')}</nav>` : '';
}

// ---------------------------------------------------------------------------------------------
// Helpers

/**
 * A link to this page with the given filters: query-relative ("?tag=x"), so it works wherever the
 * page is mounted; "./" for no filters at all.
 */
export function href(filter: PageFilter, cursor?: string): string {
  const params = new URLSearchParams();
  if (filter.q !== undefined) params.set('q', filter.q);
  if (filter.sources?.length) params.set('source', filter.sources.join(','));
  if (filter.tags?.length) params.set('tag', filter.tags.join(','));
  if (cursor !== undefined) params.set('cursor', cursor);
  const query = params.toString();
  return query === '' ? './' : `?${query}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "1 May 2024, 09:05 UTC": one fixed zone for every reader, said so. */
export function humanUtc(d: Date): string {
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

/** Only http(s) URLs become links: a `javascript:` or `data:` URL from a feed must not. */
function linkUrl(url: string | null): string | null {
  if (url === null || !URL.canParse(url)) return null;
  const u = new URL(url);
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Escapes HTML text content. */
function text(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes a double-quoted HTML attribute value. */
function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// ---------------------------------------------------------------------------------------------
// Style

const SANS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const SERIF = 'Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif';

const STYLE = `
:root{color-scheme:light dark;--bg:#faf9f6;--fg:#1c1d1f;--muted:#5e6168;--rule:#e4e1da;--accent:#0a58ca;--chip:#eeebe4;--field:#fff;--on-accent:#fff}
@media (prefers-color-scheme:dark){:root{--bg:#15171b;--fg:#e7e5e0;--muted:#a2a6ad;--rule:#2b2f36;--accent:#8ab4f8;--chip:#252a31;--field:#1d2026;--on-accent:#10131a}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:1.0625rem/1.6 ${SERIF}}
a{color:var(--accent)}
.wrap{max-width:46rem;margin:0 auto;padding:0 1.25rem}
.masthead{border-bottom:1px solid var(--rule);padding:2.25rem 0 1.25rem}
.masthead h1{font:700 2.1rem/1.15 ${SANS};letter-spacing:-.02em;margin:0 0 .35rem}
.masthead h1 a{color:inherit;text-decoration:none}
.tagline,.meta,.via,.also,.filters,.pager,footer,.empty,.error p{font-family:${SANS}}
.tagline{margin:0;color:var(--muted);font-size:.875rem}
.tagline a{color:var(--muted)}
.search{display:flex;gap:.5rem;margin-top:1.1rem}
.search input{flex:1;min-width:0;font:1rem/1.4 ${SANS};padding:.6rem .8rem;color:var(--fg);background:var(--field);border:1px solid var(--rule);border-radius:.55rem}
.search input:focus{outline:2px solid var(--accent);outline-offset:1px}
.search button{font:600 .95rem/1.4 ${SANS};padding:.6rem 1.1rem;color:var(--on-accent);background:var(--accent);border:0;border-radius:.55rem;cursor:pointer}
.filters{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin-top:.85rem;font-size:.875rem}
.filters .clear{font-weight:600}
.chip{display:inline-flex;align-items:center;gap:.3rem;padding:.15rem .35rem .15rem .65rem;border-radius:999px;background:var(--chip)}
.chip-kind{color:var(--muted);font-size:.75rem;text-transform:uppercase;letter-spacing:.04em}
.chip a{display:inline-block;width:1.4rem;text-align:center;border-radius:999px;color:var(--fg);text-decoration:none;font-size:1rem;line-height:1.4rem}
.chip a:hover{background:var(--rule)}
.river{list-style:none;margin:0;padding:0}
.story{padding:1.5rem 0;border-bottom:1px solid var(--rule)}
.story article{display:flow-root}
.thumb{float:right;width:7.5rem;height:5rem;margin:.3rem 0 .5rem 1rem;object-fit:cover;border-radius:.4rem;background:var(--chip)}
.story-title{font:650 1.3rem/1.3 ${SANS};letter-spacing:-.01em;margin:0 0 .3rem;overflow-wrap:anywhere}
.story-title a{color:var(--fg);text-decoration:none}
.story-title a:hover{color:var(--accent);text-decoration:underline}
.meta,.via,.also{margin:.2rem 0;color:var(--muted);font-size:.85rem;line-height:1.5}
.meta .publisher{font-weight:600;color:var(--fg);text-decoration:none}
.meta a.publisher:hover{text-decoration:underline}
.sep{padding:0 .15rem}
.meta time{white-space:nowrap}
.via a,.also a{color:var(--muted)}
.also{font-style:italic}
.summary{margin:.55rem 0 .6rem;overflow-wrap:anywhere}
.summary p{margin:.45rem 0}
.summary h1,.summary h2,.summary h3,.summary h4,.summary h5,.summary h6{font-size:1rem;margin:.6rem 0 .3rem}
.summary img,.summary video,.summary iframe{max-width:100%;height:auto}
.summary pre,.summary table{display:block;max-width:100%;overflow:auto}
.summary blockquote{margin:.5rem 0;padding-left:.9rem;border-left:3px solid var(--rule);color:var(--muted)}
.empty{padding:3rem 0;color:var(--muted);text-align:center}
.pager{display:flex;justify-content:space-between;gap:1rem;padding:1.75rem 0}
.pager a{font-weight:600;text-decoration:none}
.pager .older{margin-left:auto}
.error h2{font:650 1.4rem/1.3 ${SANS};margin:2rem 0 .5rem}
footer{padding:1rem 1.25rem 3rem;color:var(--muted);font-size:.8rem}
@media (max-width:40rem){body{font-size:1rem}.masthead{padding-top:1.5rem}.masthead h1{font-size:1.65rem}.story{padding:1.2rem 0}.story-title{font-size:1.15rem}.thumb{width:5.5rem;height:4rem;margin-left:.75rem}}
`
  .trim()
  .replace(/\n/g, '');

/** Two waves on the accent colour, inline: a favicon request would otherwise be a 404 on every visit. */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%230a58ca'/%3E%3Cpath d='M6 13c3.3-3.3 6.7 3.3 10 0s6.7 3.3 10 0M6 20c3.3-3.3 6.7 3.3 10 0s6.7 3.3 10 0' stroke='%23fff' stroke-width='2.6' fill='none' stroke-linecap='round'/%3E%3C/svg%3E";

/**
 * Content-Security-Policy of the pages (sent as a header by the route): nothing may run, load or
 * be framed except this stylesheet (by hash, CSP Level 2) and images from publishers' summaries.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  'img-src https: http: data:',
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
