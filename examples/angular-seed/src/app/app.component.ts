// The component of Microsoft's "acquire a token to call an API" (Angular, msal-angular 1.x):
// HttpClient calls, which MsalInterceptor gives a token; a BroadcastService subscription to
// "msal:acquireTokenFailure", where the app reacts when no token could be had silently; and
// ngOnDestroy as documented. The handler does what the documentation suggests for errors that
// need the user: acquireTokenPopup, then the API call again.
import { Component, OnDestroy, OnInit } from '@angular/core';
import { HttpClient, HttpErrorResponse } from '@angular/common/http';
import { Subscription } from 'rxjs';
import { BroadcastService, MsalService } from '@azure/msal-angular';
import { InteractionRequiredAuthError } from 'msal';

import { EventLog, describeAuthorization, describePayload, now } from './event-log.service';
import { sigil } from './sigil';

@Component({
  selector: 'app-main',
  template: `
    <section class="buttons">
      <button id="login" type="button" (click)="login()">Sign in (popup)</button>
      <button id="call-api" type="button" (click)="callApi()">Call the profile API (protected)</button>
      <button id="call-own" type="button" (click)="callOwn()">Call /api/headers (this origin, not in the map)</button>
      <button id="call-other" type="button" (click)="callOther()">Call Sigil's /oidc/userinfo (other origin, not in the map)</button>
    </section>
    <dl>
      <dt>Signed-in account</dt><dd data-testid="account">{{ account }}</dd>
      <dt>Account name</dt><dd data-testid="account-name">{{ accountName }}</dd>
      <dt>Status</dt><dd data-testid="status">{{ status }}</dd>
      <dt>Error</dt><dd data-testid="error" class="err">{{ error }}</dd>
    </dl>
    <h2>Profile API: GET {{ apiUrl }}</h2>
    <dl>
      <dt>userPrincipalName</dt><dd data-testid="api-result">{{ apiResult }}</dd>
      <dt>Error</dt><dd data-testid="api-error" class="err">{{ apiError }}</dd>
      <dt>Authorization sent</dt><dd data-testid="api-sent">{{ apiSent }}</dd>
      <dt>msal:acquireTokenFailure after (ms)</dt><dd data-testid="failure-ms">{{ failureMs }}</dd>
      <dt>Recovered by acquireTokenPopup</dt><dd data-testid="recovered">{{ recovered }}</dd>
      <dt>Calls answered</dt><dd data-testid="api-done">{{ apiDone }}</dd>
    </dl>
    <h2>This origin: GET /api/headers</h2>
    <dl>
      <dt>Authorization the server got</dt><dd data-testid="own-result">{{ ownResult }}</dd>
      <dt>Error</dt><dd data-testid="own-error" class="err">{{ ownError }}</dd>
      <dt>Calls answered</dt><dd data-testid="own-done">{{ ownDone }}</dd>
    </dl>
    <details><summary>The header as the server got it</summary><pre data-testid="own-raw">{{ ownRaw }}</pre></details>
    <h2>Other origin: GET {{ otherUrl }}</h2>
    <dl>
      <dt>Server's answer</dt><dd data-testid="other-result">{{ otherResult }}</dd>
      <dt>WWW-Authenticate</dt><dd data-testid="other-challenge">{{ otherChallenge }}</dd>
      <dt>Authorization sent</dt><dd data-testid="other-sent">{{ otherSent }}</dd>
      <dt>Calls answered</dt><dd data-testid="other-done">{{ otherDone }}</dd>
    </dl>
  `
})
export class AppComponent implements OnInit, OnDestroy {
  subscription: Subscription;

  apiUrl = sigil.apiUrl;
  // Not in protectedResourceMap, on Sigil's origin: msal-angular 1.x adds no token. Sigil's
  // userinfo endpoint answers such a request 401 "no bearer token", readable from this origin.
  otherUrl = new URL('/oidc/userinfo', sigil.apiUrl).href;

  account = '';
  accountName = '';
  status = '';
  error = '';
  apiResult = '';
  apiError = '';
  apiSent = '';
  failureMs = '';
  recovered = '';
  ownResult = '';
  ownError = '';
  otherResult = '';
  otherChallenge = '';
  otherSent = '';
  ownRaw = '';
  apiDone = 0;
  ownDone = 0;
  otherDone = 0;

  private apiStartedAt = 0;
  private apiPending = false;
  private recovering = false;

  constructor(private broadcastService: BroadcastService, private authService: MsalService,
              private http: HttpClient, private log: EventLog) { }

  ngOnInit() {
    this.showAccount();
    this.subscription = this.broadcastService.subscribe("msal:acquireTokenFailure", (payload) => {
      // MsalInterceptor could not get a token silently. When the user has to interact (sign
      // in again, consent), get the token with a popup and make the API call again.
      if (!this.apiPending || this.recovering || !needsInteraction(payload)) {
        return;
      }
      this.failureMs = String(now() - this.apiStartedAt);
      this.recovering = true;
      this.status = 'acquireTokenPopup after ' + describePayload(payload);
      this.authService.acquireTokenPopup({ scopes: ['user.read'] })
        .then(() => {
          this.recovering = false;
          this.recovered = 'yes';
          this.callApi();
        })
        .catch((error) => {
          this.recovering = false;
          this.recovered = 'no';
          this.error = describePayload(error);
        });
    });
  }

  ngOnDestroy() {
    this.broadcastService.getMSALSubject().next(1);
    if (this.subscription) {
      this.subscription.unsubscribe();
    }
    // Not documented: the page shows that this ran to the end.
    this.log.teardowns.push({ at: now(), subscriptionClosed: !!this.subscription && this.subscription.closed });
  }

  login() {
    this.status = 'loginPopup';
    this.error = '';
    this.authService.loginPopup({ scopes: ['user.read'] })
      .then(() => {
        this.status = 'signed in';
        this.showAccount();
      })
      .catch((error) => {
        this.status = 'loginPopup failed';
        this.error = describePayload(error);
      });
  }

  /** The protected API: MsalInterceptor adds an access token for user.read. */
  callApi() {
    this.apiResult = this.apiError = this.apiSent = '';
    this.apiStartedAt = now();
    this.apiPending = true;
    this.http.get<any>(this.apiUrl).subscribe(
      (profile) => {
        this.apiPending = false;
        this.apiDone++;
        this.apiResult = profile.userPrincipalName;
        this.apiSent = describeAuthorization(this.log.sentTo(this.apiUrl), sigil.clientId);
      },
      (error) => {
        this.apiPending = false;
        this.apiDone++;
        this.apiError = describeHttpError(error);
        this.apiSent = describeAuthorization(this.log.sentTo(this.apiUrl), sigil.clientId);
      });
  }

  /** A URL of this app's own origin that the map does not list. */
  callOwn() {
    this.ownResult = this.ownError = this.ownRaw = '';
    this.http.get<any>('/api/headers').subscribe(
      (body) => {
        this.ownDone++;
        this.ownRaw = body.authorization;
        this.ownResult = describeAuthorization(body.authorization, sigil.clientId);
      },
      (error) => {
        this.ownDone++;
        this.ownError = describeHttpError(error);
      });
  }

  /** A URL of another origin that the map does not list. */
  callOther() {
    this.otherResult = this.otherChallenge = this.otherSent = '';
    this.http.get<any>(this.otherUrl, { observe: 'response' }).subscribe(
      (response) => {
        this.otherDone++;
        this.otherResult = response.status + ' ' + JSON.stringify(response.body);
        this.otherSent = describeAuthorization(this.log.sentTo(this.otherUrl), sigil.clientId);
      },
      (error) => {
        this.otherDone++;
        this.otherResult = describeHttpError(error);
        this.otherChallenge = error instanceof HttpErrorResponse && error.headers.get('WWW-Authenticate') || '';
        this.otherSent = describeAuthorization(this.log.sentTo(this.otherUrl), sigil.clientId);
      });
  }

  private showAccount() {
    const account = this.authService.getAccount();
    this.account = account ? account.userName : '';
    this.accountName = account ? account.name : '';
  }
}

/** The documented 1.x checks: the error code, or "interaction_required" in the message. */
function needsInteraction(error: any): boolean {
  return !!error && (InteractionRequiredAuthError.isInteractionRequiredError(error.errorCode) ||
    String(error.errorMessage || '').indexOf('interaction_required') > -1);
}

/** An HttpClient error: the HTTP status and body, or the MSAL error the interceptor threw. */
function describeHttpError(error: any): string {
  if (error instanceof HttpErrorResponse) {
    const body = error.error && typeof error.error === 'object' ? error.error : {};
    return error.status + ' ' + [body.error, body.error_description || error.message].filter(Boolean).join(': ');
  }
  return describePayload(error);
}
