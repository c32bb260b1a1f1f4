/**
 * The approval gate: a node with `"approval": "each-action"` holds every action, and one with
 * `"approval": "risky"` holds the risky ones (starting a terminal or a shell, running a program, typing while
 * the screen shows a password label), until an operator approves or rejects it. Held actions are announced
 * (`onChange`, an SSE event) and released by `approve` / `reject`; a rejection fails the step with
 * `rejected-by-operator`; a cancelled attempt stops waiting at once.
 */
import type { Step } from "../../shared/actions.ts";
import type { ScreenText } from "./types.ts";

/** When a node asks for approval. */
export type ApprovalPolicy = "each-action" | "risky";

/** An action waiting for an operator. */
export interface PendingApproval {
  dagId: string;
  nodeId: string;
  attempt: number;
  index: number;
  step: Step;
  /** Why it is held. */
  reason: string;
  since: number;
}

/** How a held action was answered. */
export type Verdict = { approved: true; by: string } | { approved: false; by: string; reason: string };

/** What the gate reports: a held action, and its verdict (or `cancelled`). */
export type ApprovalChange =
  | { state: "pending"; approval: PendingApproval }
  | { state: "approved" | "rejected" | "cancelled"; approval: PendingApproval; by?: string; reason?: string };

const SHELLS = /\b(term(inal)?|x?term|konsole|shell|console|cmd|powershell|pwsh|bash|zsh|sh)\b/i;
const PASSWORD = /pass(word|wort|phrase|code)|\bpin\b|mot de passe|contrase[ñn]a/i;

/**
 * Why a step is risky, or null: launching a terminal or shell, running a program, or typing while a password
 * label is on screen (`screen`, when the decision looked).
 */
export function riskOf(step: Step, screen?: ScreenText | null): string | null {
  if (step.type === "run") return `runs the program ${step.command}`;
  if (step.type === "launch" && SHELLS.test(step.app)) return `starts ${step.app}, a terminal or shell`;
  if (step.type === "type" && screen?.words.some((word) => PASSWORD.test(word.text))) {
    return "types into a screen that shows a password field";
  }
  return null;
}

interface Waiting {
  approval: PendingApproval;
  settle(verdict: Verdict | null): void;
}

/** Holds actions for operators. */
export class ApprovalGate {
  readonly #waiting = new Map<string, Waiting>();

  constructor(readonly onChange: (change: ApprovalChange) => void = () => {}) {}

  /** Every action held now, oldest first. */
  pending(): PendingApproval[] {
    return [...this.#waiting.values()].map((w) => w.approval).sort((a, b) => a.since - b.since);
  }

  /**
   * Holds `approval` until an operator answers; resolves with the verdict, or null when `signal` aborts
   * (the attempt stopped). One action per node waits at a time.
   */
  hold(approval: PendingApproval, signal: AbortSignal): Promise<Verdict | null> {
    const key = keyOf(approval.dagId, approval.nodeId);
    this.#waiting.get(key)?.settle(null);
    return new Promise((resolve) => {
      const settle = (verdict: Verdict | null) => {
        if (this.#waiting.get(key)?.approval !== approval) return;
        this.#waiting.delete(key);
        signal.removeEventListener("abort", cancel);
        if (verdict === null) this.onChange({ state: "cancelled", approval });
        else if (verdict.approved) this.onChange({ state: "approved", approval, by: verdict.by });
        else this.onChange({ state: "rejected", approval, by: verdict.by, reason: verdict.reason });
        resolve(verdict);
      };
      const cancel = () => settle(null);
      this.#waiting.set(key, { approval, settle });
      signal.addEventListener("abort", cancel, { once: true });
      this.onChange({ state: "pending", approval });
      if (signal.aborted) cancel();
    });
  }

  /** The action a node holds, if any. */
  held(dagId: string, nodeId: string): PendingApproval | undefined {
    return this.#waiting.get(keyOf(dagId, nodeId))?.approval;
  }

  /** Releases the node's held action; false when it holds none. */
  approve(dagId: string, nodeId: string, by: string): boolean {
    const waiting = this.#waiting.get(keyOf(dagId, nodeId));
    waiting?.settle({ approved: true, by });
    return waiting !== undefined;
  }

  /** Refuses the node's held action (its step fails `rejected-by-operator`); false when it holds none. */
  reject(dagId: string, nodeId: string, by: string, reason: string): boolean {
    const waiting = this.#waiting.get(keyOf(dagId, nodeId));
    waiting?.settle({ approved: false, by, reason });
    return waiting !== undefined;
  }
}

function keyOf(dagId: string, nodeId: string): string {
  return `${dagId}/${nodeId}`;
}
