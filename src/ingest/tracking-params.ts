// Query parameters that only say how a reader got to a page (campaign, click and mailing ids).
// Removing them is what lets the same story, linked with different tracking, dedupe to one canonical
// URL. A parameter that does change the page must never be here: dropping it would merge different
// stories into one, which is worse than missing a duplicate. So only parameters whose documented or
// unmistakable purpose is tracking are listed; the doubtful ones are named at the end, with why they
// stay. Names are compared case-insensitively.

/** Parameter name prefixes that are always tracking. */
export const TRACKING_PREFIXES: readonly string[] = [
  'utm_', // Google Analytics / Urchin campaign parameters (utm_source, utm_medium, utm_campaign, ...)
  'mtm_', // Matomo campaign parameters (mtm_campaign, mtm_kwd, mtm_source, ...)
];

/** Exact parameter names that are always tracking. */
export const TRACKING_PARAMS: readonly string[] = [
  // Ad click identifiers
  'fbclid', // Facebook
  'gclid', 'gclsrc', 'dclid', 'gbraid', 'wbraid', // Google Ads / DoubleClick
  'msclkid', // Microsoft Advertising
  'yclid', 'ysclid', // Yandex
  'twclid', // Twitter / X
  'ttclid', // TikTok
  'li_fat_id', // LinkedIn
  'igshid', // Instagram share id
  'srsltid', // Google Merchant Center result id
  '_gl', '_ga', // Google Analytics cross-domain linker
  // Facebook share plumbing
  'fb_action_ids', 'fb_action_types', 'fb_ref', 'fb_source',
  // Email and marketing platforms
  'mc_cid', 'mc_eid', 'mc_tc', // Mailchimp
  '_hsenc', '_hsmi', '__hssc', '__hstc', '__hsfp', 'hsCtaTracking', // HubSpot
  'mkt_tok', // Marketo
  'vero_id', 'vero_conv', // Vero
  'oly_anon_id', 'oly_enc_id', 'rb_clickid', // Olytics
  's_cid', 'sc_cid', // Adobe Analytics campaign ids
  'wickedid', // Wicked Reports
  '_bhlid', // beehiiv newsletters
  '_openstat', // Openstat (Yandex)
  'ncid', // Yahoo / Verizon Media "news campaign id"
  'sr_share', // share-button source
  'ref_src', 'ref_url', // Twitter embed and share-widget referrer
  'gs_l', // Google search-box log data
  'pk_campaign', 'pk_kwd', 'pk_source', 'pk_medium', 'pk_content', // Matomo (Piwik) campaign, exact names
];

// Deliberately NOT listed:
// - `ref`, `source`, `src`, `from`: generic words that sites use for real content (Ghost's `ref` is
//   tracking, but `ref` also selects branches, tabs and versions elsewhere).
// - `cmpid`, `cid`, `campaign`: usually tracking, but site-specific; some CMSes route content by them.
// - `spm` (Alibaba): tracking on Alibaba sites, but short enough to collide with real parameters.
// - `pk_` as a prefix: `pk` is also "primary key" (`pk_id=42` selects a record).

const EXACT = new Set(TRACKING_PARAMS.map((p) => p.toLowerCase()));

/** True when a query parameter name (already percent-decoded) is a tracking parameter. */
export function isTrackingParam(name: string): boolean {
  const lower = name.toLowerCase();
  return EXACT.has(lower) || TRACKING_PREFIXES.some((prefix) => lower.startsWith(prefix));
}
