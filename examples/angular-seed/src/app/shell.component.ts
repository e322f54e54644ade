// The bootstrapped component around the documented AppComponent: a button removes
// AppComponent from the page (Angular runs its ngOnDestroy) and adds it again, and the parts
// that outlive it — the BroadcastService event log, the ngOnDestroy runs, uncaught errors —
// show here.
import { ChangeDetectorRef, Component, VERSION } from '@angular/core';
import { version as msalVersion } from 'msal';

import { EventLog } from './event-log.service';

@Component({
  selector: 'app-root',
  template: `
    <header>
      <h1>msal-angular 1.x example</h1>
      <p>Microsoft's documented msal-angular 1.x code (MsalModule.forRoot, MsalInterceptor,
      BroadcastService) signing in against Sigil with the implicit flow.
      <span data-testid="versions">Angular {{ angularVersion }}, msal {{ msalVersion }}</span>.</p>
    </header>
    <p>
      <button id="toggle" type="button" (click)="toggle()">{{ shown ? 'Remove AppComponent (ngOnDestroy)' : 'Add AppComponent again' }}</button>
      <span data-testid="component-shown">{{ shown ? 'shown' : 'removed' }}</span>
    </p>
    <app-main *ngIf="shown"></app-main>
    <section>
      <h2>AppComponent's ngOnDestroy</h2>
      <dl>
        <dt>Runs</dt><dd data-testid="destroy-count">{{ log.teardowns.length }}</dd>
        <dt>subscription.closed afterwards</dt><dd data-testid="destroy-subscription-closed">{{ lastTeardown('subscriptionClosed') }}</dd>
        <dt>Subscribers of getMSALSubject(), before → after</dt><dd data-testid="destroy-observers">{{ observersChange }}</dd>
        <dt>Subscribers now</dt><dd data-testid="observers">{{ log.observers() }}</dd>
        <dt>Uncaught errors</dt><dd data-testid="uncaught-errors" class="err">{{ log.errors.join(' | ') }}</dd>
      </dl>
    </section>
    <section>
      <h2>BroadcastService events</h2>
      <p class="muted">Milliseconds after the last button press, event, payload.</p>
      <ol class="events">
        <li *ngFor="let e of log.events; index as i" data-testid="event" [attr.data-n]="i + 1" [attr.data-ms]="e.ms"
            [attr.data-detail]="e.detail">{{ e.type }}</li>
      </ol>
    </section>
  `
})
export class ShellComponent {
  shown = true;
  observersChange = '';
  angularVersion = VERSION.full;
  msalVersion = msalVersion;

  constructor(public log: EventLog, private changeDetector: ChangeDetectorRef) { }

  toggle() {
    const before = this.log.observers();
    this.shown = !this.shown;
    // Add or remove AppComponent now: an exception in its ngOnInit or ngOnDestroy would
    // surface here, and reach Angular's ErrorHandler (listed on the page).
    this.changeDetector.detectChanges();
    this.observersChange = before + ' → ' + this.log.observers();
  }

  lastTeardown(field: 'subscriptionClosed' | 'at'): string {
    const t = this.log.teardowns[this.log.teardowns.length - 1];
    return t ? String(t[field]) : '';
  }
}
