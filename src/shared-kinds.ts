/**
 * Loads every class that can cross threads, so that its reviver is
 * registered before a message holding one is revived. The task runner (and
 * any other thread entry of corepool) imports this first.
 *
 * @module
 */

import './channel/pipe.js';
import './channel/queue.js';
import './shared/array.js';
import './shared/value.js';
import './sync/barrier.js';
import './sync/condition.js';
import './sync/event.js';
import './sync/lock.js';
import './sync/rlock.js';
import './sync/semaphore.js';
