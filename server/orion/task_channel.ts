/**
 * Routes task-level answers (TASK_ACCEPTED, a task's RESULT, PROGRESS) from devices to the runner
 * waiting for them, and refuses answers from a device the task is not assigned to.
 */
import { type Message, protocolError } from "../../shared/protocol/mod.ts";
import type { Gateway } from "../gateway/types.ts";

/** A task-level message for a runner. */
export type TaskMessage = Extract<Message, { type: "TASK_ACCEPTED" | "RESULT" | "PROGRESS" }>;

interface Registration {
  deviceId: string;
  deliver(message: TaskMessage): void;
}

/** Matches task messages to the task's runner. */
export class TaskChannel {
  readonly #tasks = new Map<string, Registration>();
  readonly #unsubscribe: () => void;
  readonly #gateway: Gateway;

  constructor(gateway: Gateway) {
    this.#gateway = gateway;
    this.#unsubscribe = gateway.router.own(
      ["TASK_ACCEPTED", "PROGRESS", "RESULT:task"],
      (deviceId, message) => this.#route(deviceId, message),
    );
  }

  /** Registers the runner of `taskId` on `deviceId`; returns an unregister function. */
  open(taskId: string, deviceId: string, deliver: (message: TaskMessage) => void): () => void {
    const registration = { deviceId, deliver };
    this.#tasks.set(taskId, registration);
    return () => {
      if (this.#tasks.get(taskId) === registration) this.#tasks.delete(taskId);
    };
  }

  /** Stops routing. */
  close(): void {
    this.#unsubscribe();
    this.#tasks.clear();
  }

  #route(deviceId: string, message: TaskMessage): void {
    const taskId = message.payload.taskId!;
    const registration = this.#tasks.get(taskId);
    if (registration === undefined) {
      this.#gateway.send(deviceId, "ERROR", protocolError("unknown-task", `task ${taskId}`, taskId));
      return;
    }
    if (registration.deviceId !== deviceId) {
      this.#gateway.send(deviceId, "ERROR", protocolError("not-your-work", `task ${taskId}`, taskId));
      return;
    }
    registration.deliver(message as TaskMessage);
  }
}
