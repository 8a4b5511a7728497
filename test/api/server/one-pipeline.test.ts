import request from 'supertest';
import type { RequestHandler } from 'express';
import { createApp } from '../../../src/app';
import { createCustomer, createUser } from '../../helpers/factories';

describe('one Express pipeline for every route', () => {
  test('a middleware added to the app runs on by-id, list, health and the 404 alike', async () => {
    const seen: string[] = [];
    const stamp: RequestHandler = (req, res, next) => {
      seen.push(req.path);
      res.setHeader('X-Added-Concern', 'yes');
      next();
    };
    const app = createApp({ middleware: [stamp] });
    const caller = await createUser();
    const customer = await createCustomer();
    const paths = [`/api/customers/${customer.id}`, '/api/customers?limit=5', '/api/health', '/api/dashboard', '/api/nowhere'];
    for (const path of paths) {
      const res = await request(app).get(path).set('Authorization', caller.auth);
      expect([path, res.headers['x-added-concern']]).toEqual([path, 'yes']);
    }
    expect(seen).toHaveLength(paths.length);
  });
});
