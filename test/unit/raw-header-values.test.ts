import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rawHeaderValues } from '../../src/decision/request-view.js';

// Node keeps only the first Host and joins or drops duplicates in `headers`; rawHeaders keeps every line as sent.
describe('every value of one header from the raw header lines', () => {
  it('finds every line of the field whatever the case of its name, in order', () => {
    const raw = ['Host', 'a.example', 'content-type', 'application/json', 'HOST', 'b.example', 'hOsT', 'c.example'];
    assert.deepEqual(rawHeaderValues(raw, 'host'), ['a.example', 'b.example', 'c.example']);
  });

  it('does not take a field whose name only starts or ends like the one asked for', () => {
    const raw = ['Hosts', 'x', 'X-Host', 'y', 'Hos', 'z', 'Authorization', 'Bearer t'];
    assert.deepEqual(rawHeaderValues(raw, 'host'), []);
    assert.deepEqual(rawHeaderValues(raw, 'authorization'), ['Bearer t']);
  });

  it('does not fold characters that are not ASCII letters onto letters', () => {
    // '@' is 'A' - 1 and '[' is 'Z' + 1: only A-Z fold to a-z.
    assert.deepEqual(rawHeaderValues(['@uthorization', 'x', 'authorizatio[', 'y'], 'authorization'), []);
  });
});
