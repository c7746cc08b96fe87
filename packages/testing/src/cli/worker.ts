// The worker thread a CLI session runs in, so a case that never returns can be stopped.

import { parentPort, workerData } from "node:worker_threads";
import type { SessionRequest } from "./events.js";
import { runSession } from "./session.js";

const port = parentPort;
if (port) await runSession(workerData as SessionRequest, (e) => port.postMessage(e));
