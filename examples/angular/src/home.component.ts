import { Component, inject, signal } from "@angular/core";
import { HttpClient } from "@angular/common/http";
import { finalize } from "rxjs";
import { EventLog } from "./event-log.service";
import { sigil } from "./msal.config";

/** What the last API call did. */
interface CallOutcome {
  status: string;
  result: string;
  errorCode: string;
  errorMessage: string;
}

const none: CallOutcome = { status: "", result: "", errorCode: "", errorMessage: "" };

/**
 * HomeComponent calls the protected API (MsalInterceptor adds the token) and the unprotected
 * /api/headers (it must not) through HttpClient.
 */
@Component({
  selector: "app-home",
  template: `
    <section class="buttons">
      <button id="call-api" type="button" (click)="callApi()">Call API</button>
      <button id="call-headers" type="button" (click)="callHeaders()">Call /api/headers</button>
    </section>
    <h2>Protected API (<code>{{ apiUrl }}</code>)</h2>
    <dl>
      <dt>HTTP status</dt><dd data-testid="api-status">{{ api().status }}</dd>
      <dt>userPrincipalName</dt><dd data-testid="api-result">{{ api().result }}</dd>
      <dt>Token fromCache</dt><dd data-testid="from-cache">{{ log.lastFromCache() }}</dd>
      <dt>Error code</dt><dd data-testid="api-error-code" class="err">{{ api().errorCode }}</dd>
      <dt>Error message</dt><dd data-testid="api-error-message" class="err">{{ api().errorMessage }}</dd>
      <dt>Calls done</dt><dd data-testid="api-done">{{ apiDone() }}</dd>
    </dl>
    <h2>Unprotected API (<code>/api/headers</code>)</h2>
    <dl>
      <dt>Answer</dt><dd data-testid="headers-result">{{ headers().result }}</dd>
      <dt>Error code</dt><dd data-testid="headers-error-code" class="err">{{ headers().errorCode }}</dd>
      <dt>Calls done</dt><dd data-testid="headers-done">{{ headersDone() }}</dd>
    </dl>
  `,
})
export class HomeComponent {
  private readonly http = inject(HttpClient);
  readonly log = inject(EventLog);
  readonly apiUrl = sigil.apiUrl;
  readonly api = signal(none);
  readonly apiDone = signal(0);
  readonly headers = signal(none);
  readonly headersDone = signal(0);

  callApi(): void {
    this.log.press();
    this.api.set(none);
    this.http
      .get<{ userPrincipalName?: string }>(sigil.apiUrl)
      .pipe(finalize(() => this.apiDone.update((n) => n + 1)))
      .subscribe({
        next: (body) => this.api.set({ ...none, status: "200", result: body.userPrincipalName ?? "" }),
        error: (e) => this.api.set(failure(e)),
      });
  }

  callHeaders(): void {
    this.log.press();
    this.headers.set(none);
    this.http
      .get("/api/headers")
      .pipe(finalize(() => this.headersDone.update((n) => n + 1)))
      .subscribe({
        next: (body) => this.headers.set({ ...none, status: "200", result: JSON.stringify(body) }),
        error: (e) => this.headers.set(failure(e)),
      });
  }
}

// failure describes an HttpErrorResponse, or the MSAL error the interceptor passed on.
function failure(e: any): CallOutcome {
  return {
    status: e.status !== undefined ? String(e.status) : "",
    result: "",
    errorCode: e.errorCode || e.error?.error?.code || e.name || "error",
    errorMessage: e.errorMessage || e.message || String(e),
  };
}
