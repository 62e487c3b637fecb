/**
 * What evtctl tells the user besides data and errors, as data: adapters and services emit these
 * events, reports and `--json` documents carry the warnings among them (`warnings: [{code,
 * message}]`), and one place (BaseCommand.emit) renders them for people on stderr. Scripts match
 * on `code`, which is stable; `message` is for people and may change.
 */
export type UserEvent =
  | {level: 'warning'; code: WarningCode; message: string}
  | {level: 'info'; code: InfoCode; message: string}

export type WarningCode =
  // Configuration and connections
  | 'CONFIG_READABLE_BY_OTHERS'
  | 'CONFIG_UNKNOWN_SETTING'
  | 'CONTEXT_NOT_USED'
  | 'TLS_NOT_VERIFIED'
  | 'EMULATOR'
  | 'CONNECTION_LOST'
  | 'CLEANUP_FAILED'
  // Reading
  | 'DAMAGED_LINE'
  | 'RECEIVE_COUNT_NEAR_LIMIT'
  | 'VISIBILITY_NOT_EXTENDED'
  | 'NOT_ACKNOWLEDGED'
  | 'LISTING_SLOW'
  | 'NOT_RECEIVED'
  | 'FIFO_GROUPS_BLOCKED'
  | 'DECODE_FAILED'
  // Publishing: what the destination could not keep as it was
  | 'DEDUP_ID_SUFFIXED'
  | 'FIFO_IDS_DROPPED'
  | 'KEYS_DROPPED'
  | 'DEDUPLICATED'
  | 'ORDERING_KEY_PAUSED'
  | 'ORDERING_KEY_RESUMED'
  // Dead letters
  | 'DLQ_WITHOUT_SUBSCRIPTION'
  | 'DEPTH_UNKNOWN'
  | 'NOT_PERMITTED'
  | 'MOVE_TASK_RUNNING'
  | 'DEPTH_UPPER_BOUND'
  | 'NOT_SCANNED'
  | 'NOT_A_DLQ'
  | 'DLQ_ELSEWHERE'
  | 'ALREADY_REPLAYED'
  | 'JOURNAL_NOT_FINISHED'

export type InfoCode =
  | 'READ_PLAN'
  | 'FOLLOW_PLAN'
  | 'READ_STOPPED'
  | 'READ_SUMMARY'
  | 'CONSUMED'
  | 'RECONNECTED'
  | 'SNAPSHOT'
  | 'RESUME_WAIT'

export type Emit = (event: UserEvent) => void

export const warning = (code: WarningCode, message: string): UserEvent => ({level: 'warning', code, message})
export const info = (code: InfoCode, message: string): UserEvent => ({level: 'info', code, message})

/** The line a person reads on stderr. */
export function renderEvent(event: UserEvent): string {
  return event.level === 'warning' ? `Warning: ${event.message}` : event.message
}

/** How a warning appears in a --json document or a report. */
export function warningJson(event: UserEvent): {code: string; message: string} {
  return {code: event.code, message: event.message}
}
