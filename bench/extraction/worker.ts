import { parentPort } from 'node:worker_threads';
import { runTask, type Task } from './tasks.js';

parentPort!.on('message', (t: Task) => parentPort!.postMessage(runTask(t)));
