import { Injectable, inject, signal } from "@angular/core";
import { MsalBroadcastService } from "@azure/msal-angular";
import { AuthenticationResult, AuthError, EventMessage, EventType } from "@azure/msal-browser";

/** One MSAL event as the page lists it. */
export interface LoggedEvent {
  n: number; // its place in the list, from 1
  type: string; // EventMessage.eventType, e.g. "msal:acquireTokenFailure"
  ms: number; // milliseconds since the last button press (performance.now)
  detail: string; // fromCache of a token, or an error's errorCode
}

/** EventLog keeps the MSAL events MsalBroadcastService emits, timed from the last button press. */
@Injectable({ providedIn: "root" })
export class EventLog {
  private readonly broadcast = inject(MsalBroadcastService);
  private mark = performance.now();
  readonly events = signal<LoggedEvent[]>([]);
  /** fromCache of the last token MSAL handed out (acquireTokenSuccess). */
  readonly lastFromCache = signal("");

  constructor() {
    this.broadcast.msalSubject$.subscribe((msg: EventMessage) => this.add(msg));
  }

  /** Starts the clock: a button was pressed. */
  press(): void {
    this.mark = performance.now();
  }

  private add(msg: EventMessage): void {
    let detail = "";
    if (msg.eventType === EventType.ACQUIRE_TOKEN_SUCCESS || msg.eventType === EventType.LOGIN_SUCCESS) {
      const result = msg.payload as AuthenticationResult;
      detail = "fromCache=" + result.fromCache;
      if (msg.eventType === EventType.ACQUIRE_TOKEN_SUCCESS) this.lastFromCache.set(String(result.fromCache));
    } else if (msg.error) {
      detail = (msg.error as AuthError).errorCode || msg.error.name;
    }
    const ms = Math.round(performance.now() - this.mark);
    this.events.update((list) => [...list, { n: list.length + 1, type: msg.eventType, ms, detail }]);
  }
}
