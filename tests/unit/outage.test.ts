import { describe, expect, it } from 'vitest';
import { isNetworkError, OutageDetector } from '../../src/scheduler/outage.js';

describe('OutageDetector', () => {
  it.each([
    { name: 'nothing reachable yet: a network error is not the publisher\'s fault', reach: [], failHost: 'a.example', after: 0, blame: false },
    { name: 'another host answered recently: the publisher is to blame', reach: ['b.example'], failHost: 'a.example', after: 60_000, blame: true },
    { name: 'only the failing host itself answered before: not proof the network works now', reach: ['a.example'], failHost: 'a.example', after: 60_000, blame: false },
    { name: 'the other host answered too long ago', reach: ['b.example'], failHost: 'a.example', after: 11 * 60_000, blame: false },
  ])('$name', ({ reach, failHost, after, blame }) => {
    let t = 1_000_000;
    const d = new OutageDetector({ now: () => t, windowMs: 10 * 60_000 });
    for (const h of reach) d.reachable(h);
    t += after;
    expect(d.blamePublisher(failHost)).toBe(blame);
    expect(d.suspectOutage).toBe(reach.length === 0 || after > 10 * 60_000);
  });
});

describe('isNetworkError', () => {
  const withCause = (code: string) => Object.assign(new Error('outer'), { cause: Object.assign(new Error('inner'), { code }) });
  it.each([
    { name: 'DNS failure in the cause chain', err: withCause('ENOTFOUND'), expected: true },
    { name: 'connection refused', err: withCause('ECONNREFUSED'), expected: true },
    { name: 'fetch error with reason network', err: Object.assign(new Error('x'), { reason: 'network' }), expected: true },
    { name: 'HTTP status error', err: Object.assign(new Error('HTTP 500'), { reason: 'http-status', status: 500 }), expected: false },
    { name: 'plain error', err: new Error('boom'), expected: false },
    { name: 'not an error', err: null, expected: false },
  ])('$name', ({ err, expected }) => {
    expect(isNetworkError(err)).toBe(expected);
  });
});
