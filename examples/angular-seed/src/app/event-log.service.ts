// What the page shows besides the documented code: the BroadcastService events msal-angular
// sent, the Authorization header each HttpClient request left with, the runs of
// AppComponent's ngOnDestroy, and uncaught errors. None of it changes what MSAL does.
import { ErrorHandler, Injectable } from '@angular/core';
import { HttpEvent, HttpHandler, HttpInterceptor, HttpRequest } from '@angular/common/http';
import { Observable } from 'rxjs';
import { BroadcastService } from '@azure/msal-angular';

/** One BroadcastService message. */
export interface Entry {
  type: string;   // msal:loginSuccess, msal:acquireTokenSuccess, msal:acquireTokenFailure, ...
  ms: number;     // after the last button press, measured in the page
  detail: string;
}

/** One run of AppComponent's ngOnDestroy, recorded after the documented code ran. */
export interface Teardown {
  at: number;
  subscriptionClosed: boolean;
}

@Injectable()
export class EventLog {
  events: Entry[] = [];
  errors: string[] = [];
  teardowns: Teardown[] = [];
  private sent = new Map<string, string>();
  private pressedAt = now();

  constructor(private broadcastService: BroadcastService) {
    document.addEventListener('click', () => this.pressedAt = now(), true);
    // BroadcastService is a BehaviorSubject that starts with the value 1 (and ngOnDestroy
    // sends 1 again): only {type, payload} messages are events.
    broadcastService.getMSALItem().subscribe((message: any) => {
      if (message && typeof message === 'object' && message.type) {
        this.events.push({ type: message.type, ms: now() - this.pressedAt, detail: describePayload(message.payload) });
      }
    });
  }

  /** Subscribers of msal-angular's subject: this log's, and one per live subscribe(). */
  observers(): number {
    return this.broadcastService.getMSALSubject().observers.length;
  }

  recordSent(url: string, authorization: string | null) {
    this.sent.set(url, authorization || '');
  }

  /** The Authorization header the last request to url left with ('' for none). */
  sentTo(url: string): string {
    return this.sent.get(url) || '';
  }
}

/** Records the Authorization header of every request; it runs after MsalInterceptor. */
@Injectable()
export class RecordSentHeaders implements HttpInterceptor {
  constructor(private log: EventLog) { }

  intercept(req: HttpRequest<any>, next: HttpHandler): Observable<HttpEvent<any>> {
    this.log.recordSent(req.url, req.headers.get('Authorization'));
    return next.handle(req);
  }
}

/** Angular's ErrorHandler, also listing errors on the page. */
@Injectable()
export class RecordErrors implements ErrorHandler {
  constructor(private log: EventLog) { }

  handleError(error: any) {
    console.error(error);
    this.log.errors.push(String(error && (error.message || error.errorMessage) || error));
  }
}

export function now(): number {
  return Math.round(performance.now());
}

/** A line for an AuthResponse, an AuthError or msal-angular's MSALError. */
export function describePayload(p: any): string {
  if (!p) {
    return '';
  }
  if (p.errorCode !== undefined) {
    return p.errorCode + ': ' + p.errorMessage;
  }
  if (p.error !== undefined && p.errorDesc !== undefined) {
    return p.error + ': ' + p.errorDesc;
  }
  if (p.tokenType) {
    const scopes = p.scopes && p.scopes.length ? ' for ' + p.scopes.join(' ') : '';
    return p.tokenType + scopes + (p.fromCache ? ' (from the cache)' : '');
  }
  return typeof p === 'string' ? p : JSON.stringify(p);
}

/**
 * Says what an Authorization header carries: "none", or "Bearer" and the kind of JWT — an
 * access token (it has scp) or an ID token (its audience is this app).
 */
export function describeAuthorization(header: string, clientId: string): string {
  if (!header) {
    return 'none';
  }
  const [scheme, token] = header.split(' ');
  let claims: any = null;
  try {
    const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    claims = JSON.parse(atob(b64 + '==='.slice((b64.length + 3) % 4)));
  } catch (e) {
    return scheme + ' (not a JWT)';
  }
  if (claims.scp) {
    return scheme + ' access token (aud ' + claims.aud + ', scp ' + claims.scp + ')';
  }
  if (claims.aud === clientId) {
    return scheme + ' ID token (aud ' + claims.aud + ')';
  }
  return scheme + ' JWT (aud ' + claims.aud + ')';
}
