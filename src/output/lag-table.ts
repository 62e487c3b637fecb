import type {LagView} from '../services/lag/view.js'
import {age, count, kindOf, name} from './lag-format.js'
import {renderTable} from './table.js'

/** The table `lag` prints when stdout is not a terminal (or with no dashboard): one poll, worst first. */
export function renderLagTable(view: LagView, terminal: boolean): string {
  const n = (s: string) => name(s, terminal)
  switch (kindOf(view.doc)) {
    case 'groups':
      return renderTable(
        ['GROUP', 'TOPIC', 'LAG', 'TIME LAG', 'MEMBERS', 'STATUS'],
        view.rows.map((r) => [
          n(r.name),
          n(r.topic ?? ''),
          count(r.lag),
          age(r.timeLagMs),
          count(r.members),
          r.status,
        ]),
      )
    case 'queues':
      return renderTable(
        ['QUEUE', 'VISIBLE', 'IN FLIGHT', 'DLQ', 'OLDEST', 'STATUS'],
        view.rows.map((r) => [
          n(r.name),
          count(r.lag),
          count(r.inFlight),
          r.dlq === undefined ? '-' : count(r.dlq),
          age(r.timeLagMs),
          r.status,
        ]),
      )
    case 'subscriptions':
      return renderTable(
        ['SUBSCRIPTION', 'TOPIC', 'BACKLOG', 'OLDEST UNACKED', 'STATUS'],
        view.rows.map((r) => [n(r.name), n(r.topic ?? ''), count(r.lag), age(r.timeLagMs), r.status]),
      )
  }
}
