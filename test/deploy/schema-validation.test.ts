// The hand-written checks of objects without a model package must be able to fail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { K8sObject } from '../helpers/deploy-manifests.js';
import { schemaProblems } from './schema-validation.js';

const monitor = (spec: unknown): K8sObject => ({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm' }, spec });

describe('offline checks of Prometheus Operator objects', () => {
  it('accept a ServiceMonitor with the fields the operator documents', async () => {
    assert.deepEqual(await schemaProblems(monitor({ selector: { matchLabels: { a: 'b' } }, endpoints: [{ port: 'http-admin', path: '/metrics', interval: '30s' }] })), []);
  });

  it('refuse a misspelt endpoint field', async () => {
    assert.deepEqual(await schemaProblems(monitor({ selector: {}, endpoints: [{ port: 'http-admin', intervall: '30s' }] })), ['spec.endpoints[0].intervall is not a field this check knows']);
  });

  it('refuse a ServiceMonitor without endpoints', async () => {
    assert.deepEqual(await schemaProblems(monitor({ selector: {} })), ['spec.endpoints is required']);
  });

  it('refuse a rule that is both an alert and a recording rule', async () => {
    const rule: K8sObject = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'r' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', record: 'b', expr: 'up' }] }] } };
    assert.deepEqual(await schemaProblems(rule), ['spec.groups[0].rules[0] needs exactly one of alert, record']);
  });
});
