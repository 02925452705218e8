/**
 * The limits the worker's DogStatsD lines keep: OUR rules, within the limits of the Datadog extension that receives
 * them (the local parser states those). No imports, no side effects: `infra/`, `functions/local/` and the metrics
 * client share them without loading hot-shots.
 */

/** The largest datagram the worker's client sends (hot-shots' `maxBufferSize`); the stack sets the extension's `DD_DOGSTATSD_BUFFER_SIZE` to it. */
export const MAX_DATAGRAM_BYTES = 8192;

/** At most this many tags on one metric line: global tags plus the record's own. */
export const MAX_TAGS_PER_LINE = 32;

/** The most global tags a client accepts, so that a record's lines (job_type, queue, outcome, reason) keep {@link MAX_TAGS_PER_LINE}. */
export const MAX_GLOBAL_TAGS: number = MAX_TAGS_PER_LINE - 4;

/** Tag values are cut to this many characters (Datadog's own limit on a tag is 200 characters). */
export const MAX_TAG_VALUE_LENGTH = 200;
