import type { StoryRevision } from '../domain.js';
import { TributaryError } from '../errors.js';
import type { Db } from './database.js';

// Earlier versions of stories (issue #4, "Edits"): when a material edit replaces a story's title or
// text, the replaced version is kept here. Bounded per story, pruned by the writer as it writes (as
// fetch_log is), so a publisher that rewrites a story every poll cannot grow the table without end.
// The caller (items-repo's merge, which holds the story's row lock) owns the transaction, so the
// story's update and its revision commit together, and two writers never prune one story at once.

/** Most revisions kept per story; the oldest (by replacedAt) go first. */
export const MAX_REVISIONS_PER_STORY = 20;

export interface RevisionInput {
  readonly itemId: string;
  /** When this version was replaced by the edit. */
  readonly replacedAt: Date;
  readonly title: string;
  readonly summary: string | null;
  readonly content: string | null;
  readonly contentHash: string;
  /** The source whose version this was (items.content_source_id at the time). */
  readonly sourceId: string | null;
  /** The story's updated time while this version was current. */
  readonly updatedAt: Date;
}

/** Keeps the replaced version of a story, then prunes the story's revisions to the newest MAX_REVISIONS_PER_STORY. */
export async function recordRevision(db: Db, r: RevisionInput): Promise<void> {
  const where = `revision of story "${r.itemId}"`;
  if (typeof r.itemId !== 'string' || r.itemId === '') throw new TributaryError('database', 'revision of a story: itemId is empty');
  validDate(r.replacedAt, 'replacedAt', where, r.itemId);
  validDate(r.updatedAt, 'updatedAt', where, r.itemId);
  if (typeof r.title !== 'string') throw new TributaryError('database', `${where}: title must be a string`, { subject: r.itemId });
  if (typeof r.contentHash !== 'string' || r.contentHash === '') throw new TributaryError('database', `${where}: contentHash is empty`, { subject: r.itemId });

  try {
    await db
      .insertInto('item_revisions')
      .values({
        item_id: r.itemId,
        replaced_at: r.replacedAt,
        title: r.title,
        summary: r.summary,
        content: r.content,
        content_hash: r.contentHash,
        source_id: r.sourceId,
        updated_at: r.updatedAt,
      })
      .execute();
  } catch (err) {
    // 23503 foreign_key_violation: item_id references items, source_id references sources.
    if (err instanceof Error && 'code' in err && err.code === '23503') {
      const constraint = 'constraint' in err && typeof err.constraint === 'string' ? err.constraint : '';
      const what = constraint.includes('source') ? `no such source "${r.sourceId}"` : constraint.includes('item') ? 'no such story' : `no such story, or no such source "${r.sourceId}"`;
      throw new TributaryError('database', `${where}: ${what}`, { subject: r.itemId, cause: err });
    }
    throw err;
  }

  // One delete walking item_revisions_item_idx (item_id, replaced_at desc, id desc): everything past
  // the newest MAX_REVISIONS_PER_STORY of this story. Other stories are never touched.
  await db
    .deleteFrom('item_revisions')
    .where('item_id', '=', r.itemId)
    .where((eb) =>
      eb(
        'id',
        'in',
        eb
          .selectFrom('item_revisions')
          .select('id')
          .where('item_id', '=', r.itemId)
          .orderBy('replaced_at', 'desc')
          .orderBy('id', 'desc')
          .offset(MAX_REVISIONS_PER_STORY),
      ),
    )
    .execute();
}

/** A story's earlier versions, newest replaced first (ties: the later written first). */
export async function listRevisions(db: Db, itemId: string): Promise<StoryRevision[]> {
  const rows = await db
    .selectFrom('item_revisions')
    .select(['replaced_at', 'title', 'summary', 'content', 'updated_at', 'source_id'])
    .where('item_id', '=', itemId)
    .orderBy('replaced_at', 'desc')
    .orderBy('id', 'desc')
    .limit(MAX_REVISIONS_PER_STORY)
    .execute();
  return rows.map(toRevision);
}

interface RevisionRow {
  replaced_at: Date;
  title: string;
  summary: string | null;
  content: string | null;
  updated_at: Date;
  source_id: string | null;
}

/** The one place an item_revisions row becomes a domain revision (the bigserial id is never exposed). */
function toRevision(r: RevisionRow): StoryRevision {
  return {
    replacedAt: r.replaced_at,
    title: r.title,
    summary: r.summary,
    content: r.content,
    updatedAt: r.updated_at,
    sourceId: r.source_id,
  };
}

function validDate(value: Date, field: string, where: string, subject: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new TributaryError('database', `${where}: ${field} is not a valid date`, { subject });
  }
}
