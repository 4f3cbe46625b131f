import type { Story } from '../domain.js';
import { renderAtom } from './render-atom.js';
import { renderJsonFeed } from './render-json.js';
import { renderRss } from './render-rss.js';
import { viewRiver, viewStory } from './render-story.js';

// The merged river as RSS 2.0, Atom 1.0 (RFC 4287) or JSON Feed 1.1. Pure: same input, same bytes.
// Every story keeps its original publisher: RSS <source>, Atom <source>, JSON Feed `_tributary`.
// Each entry carries what its content policy allows (render-story.ts) and names the other
// publishers of the same story: RSS a line after the text, Atom rel=related links, JSON Feed
// `_tributary.also_published_by`. Enclosures and the story's image go out as RSS <enclosure> +
// media:content + media:thumbnail, Atom rel="enclosure" links + media:thumbnail, JSON Feed
// `attachments` + `image`.

export type FeedFormat = 'rss' | 'atom' | 'json';

export const FEED_CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  // JSON Feed 1.1 registers application/feed+json (jsonfeed.org/version/1.1, "MIME type").
  json: 'application/feed+json; charset=utf-8',
};

export interface RiverMeta {
  title: string;
  description: string | null;
  /** The URL this output is served at (rel=self), e.g. https://river.example.com/feed.atom?tag=x */
  selfUrl: string;
  /** The river's home page (rel=alternate), e.g. https://river.example.com/ */
  homeUrl: string;
  /** URLs of the same river in the other formats, for rel=alternate links. */
  alternates: Partial<Record<FeedFormat, string>>;
  /** Newest change among the stories shown (or a fixed epoch when empty): feed-level updated / lastBuildDate. */
  updated: Date;
  generator: string;
  /**
   * RFC 5005 paging and WebSub, when the caller has them: `next` (the next older page), `prevArchive`
   * (the newest archive page, on the subscription document), `current` (the subscription document,
   * on archive pages), `hub` (the WebSub hub). Atom and RSS write each as a link with that rel
   * (prevArchive as rel="prev-archive"), JSON Feed `next_url` and `hubs`.
   */
  links?: RiverLinks;
  /** RSS <ttl>: minutes a reader may keep the feed before asking again. */
  ttlMinutes?: number;
  /**
   * End the content of each story under content policy `full` with "Originally published by X"
   * (linked to the publisher), in all three formats. Off unless true.
   */
  footer?: boolean;
}

export interface RiverLinks {
  next?: string;
  prevArchive?: string;
  current?: string;
  hub?: string;
}

/** Renders stories in the order given (callers pass newest first). */
export function renderFeed(format: FeedFormat, river: RiverMeta, stories: readonly Story[]): string {
  const riverView = viewRiver(river);
  const storyViews = stories.map((story) => viewStory(story, { footer: riverView.footer }));
  switch (format) {
    case 'rss':
      return renderRss(riverView, storyViews);
    case 'atom':
      return renderAtom(riverView, storyViews);
    case 'json':
      return renderJsonFeed(riverView, storyViews);
    default: {
      const never: never = format;
      throw new TypeError(`cannot render feed: unknown format ${JSON.stringify(never)}`);
    }
  }
}
